"""Reward tables: coupon templates, issued coupons, rewards and the append-only reward ledger.

What the database itself guarantees:
- coupon codes are unique, and a coupon is redeemed at most once (one `redeem` ledger row);
- an invitation pays each side (inviter, invitee) at most once;
- a milestone tier is paid at most once per (program, inviter) while not revoked, so two
  conversions that reach the 3rd invite at the same moment cannot both grant the bonus;
- each reward's grant, settlement and revocation is written to the ledger exactly once, and the
  ledger rejects UPDATE and DELETE (triggers in migration 0002): balances are sums over it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

COUPON_STATUSES = ("issued", "redeemed", "expired", "revoked")
COUPON_SOURCES = ("referral", "campaign", "manual")
REWARD_SIDES = ("inviter", "invitee", "milestone")
REWARD_KINDS = ("coupon", "points", "cash", "privilege")
REWARD_STATUSES = ("pending", "settled", "revoked")
LEDGER_ENTRIES = ("grant", "settle", "revoke", "redeem")

# One live (pending or settled) reward per invitation side; revoked ones stay as history.
_NOT_MILESTONE_SQL = "tier IS NULL AND status <> 'revoked'"
_LIVE_MILESTONE_SQL = "tier IS NOT NULL AND status <> 'revoked'"
_LEDGER_REWARD_SQL = "reward_id IS NOT NULL"
_LEDGER_REDEEM_SQL = "entry = 'redeem' AND coupon_id IS NOT NULL"


class CouponTemplate(Base):
    """What a coupon is worth: a fixed amount (`value_fen`) or a percentage off capped at
    `max_discount_fen` (the cap is also the face value charged against a program budget)."""

    __tablename__ = "coupon_templates"
    __table_args__ = (
        CheckConstraint(
            "(value_fen IS NOT NULL AND value_fen > 0 AND percent_off IS NULL)"
            " OR (value_fen IS NULL AND percent_off BETWEEN 1 AND 99"
            " AND max_discount_fen IS NOT NULL AND max_discount_fen > 0)",
            name="value",
        ),
        CheckConstraint("min_spend_fen >= 0", name="min_spend"),
        CheckConstraint("validity_days >= 1", name="validity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    value_fen: Mapped[int | None] = mapped_column(BigInteger)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    max_discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    validity_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def face_value_fen(self) -> int:
        return int(self.value_fen if self.value_fen is not None else self.max_discount_fen or 0)

    def expires_at(self, issued_at: datetime) -> datetime:
        """When a coupon of this template issued at `issued_at` stops being valid."""
        return issued_at + timedelta(days=self.validity_days)


class Coupon(Base):
    """An issued coupon. Its value terms are copied from the template at issue, so editing a
    template never changes coupons already in customers' hands."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("status IN ('issued', 'redeemed', 'expired', 'revoked')", name="status"),
        CheckConstraint(
            "status <> 'redeemed' OR (redeemed_order_no IS NOT NULL AND redeemed_at IS NOT NULL)",
            name="redeemed_order",
        ),
        CheckConstraint("status <> 'revoked' OR revoke_reason IS NOT NULL", name="revoke_reason"),
        Index("ix_coupons_customer_status", "customer_id", "status"),
        Index("ix_coupons_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10), default="referral")
    status: Mapped[str] = mapped_column(String(10), default="issued")
    name: Mapped[str] = mapped_column(String(100))
    value_fen: Mapped[int | None] = mapped_column(BigInteger)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    max_discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_order_no: Mapped[str | None] = mapped_column(String(64))
    discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reward(Base):
    """One reward to one customer: pending during the hold, then settled, or revoked with a
    reason. `amount_fen` is the cash for a red packet and the face value of a coupon — what the
    program budget counts. A coupon is issued only at settlement (`coupon_id`)."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("side IN ('inviter', 'invitee', 'milestone')", name="side"),
        CheckConstraint("kind IN ('coupon', 'points', 'cash', 'privilege')", name="kind"),
        CheckConstraint("status IN ('pending', 'settled', 'revoked')", name="status"),
        CheckConstraint(
            "(side = 'milestone' AND tier IS NOT NULL) OR (side <> 'milestone' AND tier IS NULL)",
            name="tier",
        ),
        CheckConstraint("kind <> 'coupon' OR coupon_template_id IS NOT NULL", name="coupon"),
        CheckConstraint("kind <> 'privilege' OR privilege IS NOT NULL", name="privilege"),
        CheckConstraint("points >= 0 AND amount_fen >= 0", name="non_negative"),
        CheckConstraint("status <> 'revoked' OR revoke_reason IS NOT NULL", name="revoke_reason"),
        Index(
            "uq_rewards_invitation_side",
            "invitation_id",
            "side",
            unique=True,
            sqlite_where=text(_NOT_MILESTONE_SQL),
            postgresql_where=text(_NOT_MILESTONE_SQL),
        ),
        Index(
            "uq_rewards_milestone_tier",
            "program_id",
            "customer_id",
            "tier",
            unique=True,
            sqlite_where=text(_LIVE_MILESTONE_SQL),
            postgresql_where=text(_LIVE_MILESTONE_SQL),
        ),
        Index("ix_rewards_status_settle_after", "status", "settle_after"),
        Index("ix_rewards_customer_id", "customer_id"),
        Index("ix_rewards_program_status", "program_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("referral_programs.id", ondelete="CASCADE"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(10))
    tier: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(Integer, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_templates.id"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))
    privilege: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    granted_at: Mapped[datetime]
    settle_after: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RewardLedgerEntry(Base):
    """An append-only ledger row. Each row carries signed deltas of the four balances, so a
    customer's balance is `SUM(column)` over their rows and nothing else:

    grant  (pending reward):   points_pending +P, cash_pending_fen +C
    settle (hold is over):     points_pending −P, points_available +P, cash_pending −C, payable +C
    revoke (refund in hold):   points_pending −P, cash_pending_fen −C
    redeem (coupon used):      a record of the redemption, no balance moves
    """

    __tablename__ = "reward_ledger"
    __table_args__ = (
        CheckConstraint("entry IN ('grant', 'settle', 'revoke', 'redeem')", name="entry"),
        Index(
            "uq_reward_ledger_reward_entry",
            "reward_id",
            "entry",
            unique=True,
            sqlite_where=text(_LEDGER_REWARD_SQL),
            postgresql_where=text(_LEDGER_REWARD_SQL),
        ),
        Index(
            "uq_reward_ledger_coupon_redeem",
            "coupon_id",
            unique=True,
            sqlite_where=text(_LEDGER_REDEEM_SQL),
            postgresql_where=text(_LEDGER_REDEEM_SQL),
        ),
        Index("ix_reward_ledger_customer_id", "customer_id"),
        Index("ix_reward_ledger_program_created", "program_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    entry: Mapped[str] = mapped_column(String(10))
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_programs.id", ondelete="RESTRICT")
    )
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="RESTRICT"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id", ondelete="RESTRICT"))
    points_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    points_available: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_pending_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_payable_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
