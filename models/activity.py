"""What customers do: orders and activity events, the inputs of the lifecycle rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

ORDER_STATUSES = ("paid", "refunded")
EVENT_KINDS = ("view", "feature_use", "support_contact", "campaign_join", "lead_form")


class Order(Base):
    """A paid order; money is integer fen. A refund flips `status` and stops it counting."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("status IN ('paid', 'refunded')", name="status"),
        CheckConstraint("amount_fen >= 0", name="amount_non_negative"),
        Index("ix_orders_customer_paid", "customer_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="paid", server_default="paid")
    refunded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActivityEvent(Base):
    """An interest or usage signal. `detail` is '' rather than NULL so the natural key is unique
    (re-importing the same events file must change nothing)."""

    __tablename__ = "activity_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('view', 'feature_use', 'support_contact', 'campaign_join', 'lead_form')",
            name="kind",
        ),
        Index(
            "uq_activity_events_natural_key",
            "customer_id",
            "kind",
            "occurred_at",
            "detail",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
