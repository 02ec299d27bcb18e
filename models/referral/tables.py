"""Referral tables: programs, personal codes, clicks and invitations.

Correctness under concurrency is enforced by the database, not by application checks alone:
- one personal code per (program, customer) and codes globally unique;
- at most one *attributed* invitation per invitee (a partial unique index over the live states),
  so two simultaneous attributions of the same friend cannot both win;
- one converting order can convert at most one invitation.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, Json, utcnow

INVITATION_STATUSES = ("clicked", "joined", "converted", "rewarded", "rejected")
# States in which an invitation holds the invitee's attribution.
ATTRIBUTED_STATUSES = ("joined", "converted", "rewarded")
REJECT_REASONS = (
    "self_referral",
    "existing_customer",
    "already_attributed",
    "inviter_cap",
    "budget_exhausted",
    "expired",
    "suspected_fraud",
    # the converting order was refunded before the conversion settled; its rewards were revoked
    "order_refunded",
    # the converting order left the invitee (it no longer exists or is another customer's)
    "order_changed",
)
# Staff review of a conversion that tripped a fraud signal: pending → approved | denied, or
# void when the converting order was refunded while it waited.
REVIEW_STATUSES = ("pending", "approved", "denied", "void")
# How the invitee was identified (DESIGN.md §4, attribution hooks).
CHANNELS = ("link", "wecom_contact", "wecom_group", "wechat_qr", "feishu_group", "api", "console")

_ATTRIBUTED_SQL = "status IN ('joined', 'converted', 'rewarded')"
_CLICKED_SQL = "status = 'clicked' AND invitee_customer_id IS NULL"
_REVIEW_PENDING_SQL = "review_status = 'pending'"


class ReferralProgram(Base):
    __tablename__ = "referral_programs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100))
    offer_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Target segment (DESIGN.md §2.2, config.referral.Segment): {"stages": [...], "grades": [...],
    # "customer_type": "new"|"returning", "value": "high"|"low", "activity": "active"|"dormant",
    # "regions": [...], "industries": [...], "tags": [...]}; {} = everyone.
    segment: Mapped[dict[str, Any]]
    channels: Mapped[list[str]] = mapped_column(Json)
    # config.referral.RewardSpec as JSON, or {} for no reward on that side.
    inviter_reward: Mapped[dict[str, Any]]
    invitee_reward: Mapped[dict[str, Any]]
    # {"tiers": [{"at": 3, "reward": {...}}, ...]}
    milestones: Mapped[dict[str, Any]]
    cap_per_inviter_month: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    attribution_window_days: Mapped[int] = mapped_column(Integer, default=30)
    hold_days: Mapped[int] = mapped_column(Integer, default=7)
    # The smallest paid order that converts an invitation; 0: any paid order.
    min_order_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(Integer, default=100)
    # The zone of the program's calendar (monthly inviter caps, click days); set from
    # `settings.timezone` by `fission program sync`.
    timezone: Mapped[str] = mapped_column(
        String(40), default="Asia/Shanghai", server_default="Asia/Shanghai"
    )
    # Fraud-signal thresholds and the review policy (config.referral.FraudRules as JSON).
    fraud_rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Bumped whenever poster-visible fields change, so cached posters are rebuilt.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReferralCode(Base):
    __tablename__ = "referral_codes"
    __table_args__ = (
        UniqueConstraint("program_id", "customer_id"),
        Index("ix_referral_codes_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("referral_programs.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralClick(Base):
    """A landing-page visit, once per visitor per local day. `visitor_hash` is a keyed hash of
    IP and user agent; the raw values are never stored."""

    __tablename__ = "referral_clicks"
    __table_args__ = (UniqueConstraint("code_id", "visitor_hash", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("referral_codes.id", ondelete="CASCADE"))
    visitor_hash: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('clicked', 'joined', 'converted', 'rewarded', 'rejected')", name="status"
        ),
        CheckConstraint(
            "review_status IS NULL OR review_status IN ('pending', 'approved', 'denied', 'void')",
            name="review_status",
        ),
        CheckConstraint("status <> 'rejected' OR reject_reason IS NOT NULL", name="reject_reason"),
        Index(
            "uq_invitations_attributed_invitee",
            "invitee_customer_id",
            unique=True,
            sqlite_where=text(_ATTRIBUTED_SQL),
            postgresql_where=text(_ATTRIBUTED_SQL),
        ),
        Index(
            "uq_invitations_converting_order",
            "converting_order_id",
            unique=True,
            sqlite_where=text("converting_order_id IS NOT NULL"),
            postgresql_where=text("converting_order_id IS NOT NULL"),
        ),
        Index("ix_invitations_inviter_status", "inviter_customer_id", "status"),
        Index("ix_invitations_code_id", "code_id"),
        # One anonymous "clicked" row per visitor and code: the funnel's first step.
        Index(
            "uq_invitations_clicked_visitor",
            "code_id",
            "visitor_hash",
            unique=True,
            sqlite_where=text(_CLICKED_SQL),
            postgresql_where=text(_CLICKED_SQL),
        ),
        Index(
            "ix_invitations_review_pending",
            "converted_at",
            sqlite_where=text(_REVIEW_PENDING_SQL),
            postgresql_where=text(_REVIEW_PENDING_SQL),
        ),
        Index("ix_invitations_visitor_hash", "visitor_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("referral_programs.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("referral_codes.id", ondelete="CASCADE"))
    inviter_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    invitee_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    reject_reason: Mapped[str | None] = mapped_column(String(30))
    visitor_hash: Mapped[str | None] = mapped_column(String(64))
    # Fraud signals found; a non-empty list holds the rewards for staff review.
    fraud_signals: Mapped[dict[str, Any] | None]
    review_status: Mapped[str | None] = mapped_column(String(10))
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(String(200))
    clicked_at: Mapped[datetime | None]
    joined_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    # converted_at + the program's hold: from then on the rewards may settle.
    hold_until: Mapped[datetime | None]
    rewarded_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    converting_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
