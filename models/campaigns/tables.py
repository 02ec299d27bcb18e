"""Reactivation campaigns and their outbox: what was decided for whom, and what was sent.

- `campaigns`: a configured campaign (audience, offer, message, schedule, cooldown, holdout).
- `campaign_runs`: one run of a campaign for one schedule slot (unique per campaign and slot,
  so a slot never runs twice across processes or restarts).
- `campaign_members`: every customer the run considered, with the arm they fell into —
  treatment (sent), holdout (the campaign's own control), control (the global control group,
  never marketed to) or excluded (with the reason) — and the coupon a treated one received.
  The report compares the arms' conversion from these rows.
- `deliveries`: the outbox, one row per message (unique per run and customer, so no customer
  gets two messages from one run). Written in the run's transaction; sent afterwards by the
  delivery workers, which claim due rows, send through the channel's outbound choke point and
  record the outcome. Statuses:
  queued → sending → sent (the platform accepted it) | waiting_staff (a WeCom mass-message task
  the staff member has not confirmed yet) → delivered | failed (retried with back-off until the
  deadline) | dead (permanent: blocked, not a follower, over the platform's monthly limit …) |
  skipped (not sent at all, with the reason: opted out since the run, outside the 48 h window
  with no template, unreachable).
- `wecom_mass_tasks`: a WeCom customer mass-message task (`add_msg_template`) for one sending
  staff member, its reminders and its result polling.
- `rate_budgets`: token buckets shared by every process, one per platform scope, so a limit
  holds across processes (not per process).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

ARMS = ("treatment", "holdout", "control", "excluded")
# Why a customer of the audience got no message from a run.
EXCLUSIONS = ("opted_out", "cooldown", "frequency_cap", "monthly_limit", "unreachable")
DELIVERY_STATUSES = (
    "queued",
    "sending",
    "waiting_staff",
    "sent",
    "delivered",
    "failed",
    "dead",
    "skipped",
)
# How a delivery reaches the customer (DESIGN §4): a WeCom mass-message task confirmed by staff,
# an Official Account customer-service message (48 h window) or template message, a Feishu
# message from the bot, or the console channel of the web simulator (demo mode only).
ROUTES = ("wecom_task", "wechat_cs", "wechat_template", "feishu", "console")
RUN_STATUSES = ("running", "done", "failed")
_DUE_SQL = "status IN ('queued', 'failed')"
_SENDING_SQL = "status = 'sending'"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When it was last switched on: the scheduler runs no slot from before it (a monthly
    # campaign enabled on the 20th does not send its 1st-of-the-month slot at once).
    enabled_at: Mapped[datetime | None]
    # config.campaigns.Audience as JSON: stages, grades, tags, regions, industries, last-order
    # window in days.
    audience: Mapped[dict[str, Any]]
    coupon_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("coupon_templates.id", ondelete="SET NULL")
    )
    # The message, with {name} {coupon} {expiry} {link} {shop} filled in per customer.
    message: Mapped[str] = mapped_column(Text)
    # A crontab line in the configured zone, or None for a campaign run by hand / once.
    schedule: Mapped[str | None] = mapped_column(String(100))
    run_once_at: Mapped[datetime | None]
    cooldown_days: Mapped[int] = mapped_column(Integer, default=30)
    holdout_pct: Mapped[int] = mapped_column(Integer, default=10)
    conversion_days: Mapped[int] = mapped_column(Integer, default=14)
    # Alert the managers when a run's win-back rate falls below this (seed 004: < 10%).
    alert_below_rate: Mapped[float] = mapped_column(Float, default=0.10)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignRun(Base):
    __tablename__ = "campaign_runs"
    __table_args__ = (
        UniqueConstraint("campaign_id", "slot"),
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    slot: Mapped[datetime]  # the schedule's fire time, or the moment a manual run began
    status: Mapped[str] = mapped_column(String(10), default="running")
    audience: Mapped[int] = mapped_column(Integer, default=0)
    treatment: Mapped[int] = mapped_column(Integer, default=0)
    holdout: Mapped[int] = mapped_column(Integer, default=0)
    control: Mapped[int] = mapped_column(Integer, default=0)
    # {"opted_out": n, "cooldown": n, ...}
    excluded: Mapped[dict[str, Any]]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Set when the win-back evaluation has looked at this run (and alerted, if it had to).
    evaluated_at: Mapped[datetime | None]


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (
        CheckConstraint(_in("arm", ARMS), name="arm"),
        CheckConstraint(f"reason IS NULL OR {_in('reason', EXCLUSIONS)}", name="reason"),
        Index("ix_campaign_members_customer_id", "customer_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_runs.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    arm: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(20))
    # The customer's stage when the run selected them (win-back is measured per stage).
    stage: Mapped[str | None] = mapped_column(String(10))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))


class WecomMassTask(Base):
    __tablename__ = "wecom_mass_tasks"
    __table_args__ = (Index("ix_wecom_mass_tasks_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))  # the staff member's WeCom userid
    msgid: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="created")
    customers: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(_in("route", ROUTES), name="route"),
        Index("ix_deliveries_status_next_attempt", "status", "next_attempt_at"),
        # The outbox's claims walk these in order and stop at a batch (models/campaigns/
        # outbox.py): only rows waiting to be sent, or claimed, are in them.
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            "id",
            sqlite_where=text(_DUE_SQL),
            postgresql_where=text(_DUE_SQL),
        ),
        Index(
            "ix_deliveries_lease",
            "lease_until",
            sqlite_where=text(_SENDING_SQL),
            postgresql_where=text(_SENDING_SQL),
        ),
        Index("ix_deliveries_customer_sent", "customer_id", "sent_at"),
        Index("ix_deliveries_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(10))
    app_id: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))  # openid / external_userid / open_id
    sender: Mapped[str | None] = mapped_column(String(64))  # WeCom: the sending staff userid
    # What to send, rendered at run time: {"text": "...", "coupon_code": ..., "template": {...}}
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    deadline_at: Mapped[datetime]  # transient failures are retried until then, then dead
    lease_until: Mapped[datetime | None]  # a claim by a worker; reclaimed when it passes
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("wecom_mass_tasks.id", ondelete="SET NULL")
    )
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(40))  # why skipped / dead / failed
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RateBudget(Base):
    """A token bucket: `tokens` refill at the limit's rate up to its burst; a send takes one
    with a single conditional UPDATE, so concurrent processes share one budget."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
