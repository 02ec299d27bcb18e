"""Customers and their identities on the chat platforms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow

CUSTOMER_STATUSES = ("open", "closed")
# Where a customer record came from: an import, the API, a bare record created by an order for
# an unknown customer, or a chat platform.
CUSTOMER_SOURCES = ("import", "api", "order", "chat", "demo")
PLATFORMS = ("wecom", "wechat", "feishu", "console")
# The identity kind a customer's platform user id is stored under (the id messages go to).
USER_ID_KINDS = {
    "wecom": "external_userid",
    "wechat": "openid",
    "feishu": "open_id",
    "console": "console_id",
}


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_customers_phone", "phone"),
        Index("ix_customers_owner_staff_id", "owner_staff_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    source: Mapped[str] = mapped_column(String(10), default="import", server_default="import")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # 退订: marketing pushes stop at once; transactional replies still go out.
    marketing_opt_out: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    opted_out_at: Mapped[datetime | None]
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # Where marketing messages go when the customer is reachable on several platforms; None:
    # the platform they last spoke on (`CustomerIdentity.last_seen_at`).
    preferred_platform: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerIdentity(Base):
    """One platform identity (WeCom external_userid, OA openid/unionid, Feishu open_id/union_id).

    Several identities point at one customer, which is how the same person on two platforms is
    linked.
    """

    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("platform", "app_id", "kind", "value"),
        Index("ix_customer_identities_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(10))
    app_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The customer's last message or event through this identity: the Official Account's 48 h
    # customer-service window, and the platform a campaign prefers.
    last_seen_at: Mapped[datetime | None]


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
