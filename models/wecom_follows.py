"""Which WeCom staff member has which customer as an external contact (企业微信 客户联系).

A WeCom mass message (`add_msg_template`) is sent by one staff member to *their own* external
contacts, so a campaign needs, per customer, a staff member who follows them. The WeCom
adapter keeps this table from the `change_external_contact` callbacks: `add_external_contact`
(the staff member added the customer) starts a follow, `del_follow_user` (the customer deleted
the staff member) and `del_external_contact` (the staff member deleted the customer) end it.

Callbacks are retried and may arrive out of order, so a change is applied only if it is not
older than the last one applied to the row (`changed_at`); applying one twice changes nothing.
Rows are kept by identity (corp id + external_userid), not by customer: the callback may come
before anything else is known about the customer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, utcnow
from models.upsert import dialect_insert


class WecomFollow(Base):
    __tablename__ = "wecom_follows"
    __table_args__ = (
        UniqueConstraint("app_id", "external_userid", "staff_userid"),
        Index("ix_wecom_follows_app_id_staff_userid", "app_id", "staff_userid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64))  # the corp id
    external_userid: Mapped[str] = mapped_column(String(128))
    staff_userid: Mapped[str] = mapped_column(String(64))
    # None when the first thing heard of this pair was its end.
    followed_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]  # None while the follow lasts
    changed_at: Mapped[datetime]  # time of the latest change applied
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


async def record_follow_change(
    session: AsyncSession,
    *,
    app_id: str,
    external_userid: str,
    staff_userid: str,
    at: datetime,
    following: bool,
    now: datetime,
) -> None:
    """Record that `staff_userid` started (`following`) or stopped following the customer at
    `at`. A change older than the one already recorded is ignored."""
    table = WecomFollow.__table__
    change = ({"followed_at": at, "removed_at": None} if following else {"removed_at": at}) | {
        "changed_at": at,
        "updated_at": now,
    }
    stmt = dialect_insert(session, table).values(
        app_id=app_id,
        external_userid=external_userid,
        staff_userid=staff_userid,
        followed_at=at if following else None,
        removed_at=None if following else at,
        changed_at=at,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["app_id", "external_userid", "staff_userid"],
            set_=change,
            where=WecomFollow.__table__.c.changed_at <= at,
        )
    )
