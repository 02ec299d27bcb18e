"""Who is talking: a platform user id mapped to a customer and/or a staff member.

Customers are found through `customer_identities (platform, app_id, kind, value)`; a union id
(WeChat `unionid`, Feishu `union_id`) links the same person across apps of one platform family,
so a customer who first wrote to the Official Account and later to the WeCom app stays one
customer. An unknown sender gets a bare customer record (source `chat`) on first contact.

A WeCom corp member's `userid` (app messages) and a customer's `external_userid` (contact
events, customer groups) are different namespaces on one platform: a member's id is stored
under its own kind (`userid`), so the two can never be mistaken for one another.

Creation is race-safe without locks: the bare customer's external id is derived from the
platform identity, and both inserts are `ON CONFLICT DO NOTHING` followed by a read, so two
simultaneous first messages from one person end with one customer on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import SENDER_MEMBER
from models.customer import USER_ID_KINDS, CustomerIdentity
from models.reach import seen_later
from models.staff import Staff, StaffIdentity
from models.upsert import dialect_insert, ensure_customer

# The kind of an organisation member's id (`ChatMessage.sender_kind == SENDER_MEMBER`).
MEMBER_ID_KINDS = {"wecom": "userid"}
UNION_ID_KINDS = {"wecom": "unionid", "wechat": "unionid", "feishu": "union_id"}
# WeChat's unionid is shared by the Official Account and WeCom (one WeChat open platform).
UNION_FAMILIES = {
    "wecom": ("wecom", "wechat"),
    "wechat": ("wecom", "wechat"),
    "feishu": ("feishu",),
}
_MAX_EXTERNAL_ID = 64
_MAX_NAME = 100


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    role: str


def chat_external_id(platform: str, user_id: str, sender_kind: str | None = None) -> str:
    """The external id of a customer first met in chat: readable when it fits, hashed if not.
    A member's id gets its own prefix, so it cannot take over a customer's external id."""
    prefix = f"{platform}:member" if sender_kind == SENDER_MEMBER else platform
    candidate = f"{prefix}:{user_id}"
    if len(candidate) <= _MAX_EXTERNAL_ID:
        return candidate
    return f"{prefix}:h:{hashlib.sha256(user_id.encode()).hexdigest()[:40]}"


def user_id_kind(platform: str, sender_kind: str | None = None) -> str:
    """The identity kind a sender's platform user id is stored under."""
    if sender_kind == SENDER_MEMBER:
        return MEMBER_ID_KINDS.get(platform, "member_id")
    return USER_ID_KINDS.get(platform, "user_id")


async def find_customer(
    session: AsyncSession,
    *,
    platform: str,
    app_id: str,
    user_id: str,
    union_id: str | None = None,
    sender_kind: str | None = None,
) -> int | None:
    """The customer behind a platform identity, or None; never creates anything."""
    found = await session.scalar(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.platform == platform,
            CustomerIdentity.app_id == app_id,
            CustomerIdentity.kind == user_id_kind(platform, sender_kind),
            CustomerIdentity.value == user_id,
        )
    )
    if found is not None or not union_id or platform not in UNION_ID_KINDS:
        return found
    return await session.scalar(
        select(CustomerIdentity.customer_id)
        .where(
            CustomerIdentity.platform.in_(UNION_FAMILIES[platform]),
            CustomerIdentity.kind == UNION_ID_KINDS[platform],
            CustomerIdentity.value == union_id,
        )
        .order_by(CustomerIdentity.id)
        .limit(1)
    )


async def resolve_customer(
    session: AsyncSession,
    *,
    platform: str,
    app_id: str,
    user_id: str,
    now: datetime,
    union_id: str | None = None,
    display_name: str | None = None,
    sender_kind: str | None = None,
    seen_at: datetime | None = None,
) -> int:
    """The customer id for a sender, creating a bare `chat` customer on first contact and
    recording any identity (user id, union id) not stored yet. `seen_at`: the sender spoke
    then (a message or event through this identity), stored in the same statement that
    records the identity. Flushes; never commits."""
    customer_id = await find_customer(
        session,
        platform=platform,
        app_id=app_id,
        user_id=user_id,
        union_id=union_id,
        sender_kind=sender_kind,
    )
    if customer_id is None:
        external_id = chat_external_id(platform, user_id, sender_kind)
        name = display_name.strip()[:_MAX_NAME] if display_name and display_name.strip() else None
        customer_id, _ = await ensure_customer(
            session, external_id, source="chat", now=now, name=name, marketing_opt_out=False
        )
    await link_identity(
        session,
        customer_id=customer_id,
        platform=platform,
        app_id=app_id,
        kind=user_id_kind(platform, sender_kind),
        value=user_id,
        now=now,
        seen_at=seen_at,
    )
    if union_id and platform in UNION_ID_KINDS:
        await link_identity(
            session,
            customer_id=customer_id,
            platform=platform,
            app_id=app_id,
            kind=UNION_ID_KINDS[platform],
            value=union_id,
            now=now,
        )
    # Read back: if another request linked this identity first, its customer wins.
    linked = await find_customer(
        session, platform=platform, app_id=app_id, user_id=user_id, sender_kind=sender_kind
    )
    return linked if linked is not None else customer_id


async def link_identity(
    session: AsyncSession,
    *,
    customer_id: int,
    platform: str,
    app_id: str,
    kind: str,
    value: str,
    now: datetime,
    seen_at: datetime | None = None,
) -> None:
    """Records that `value` (of `kind`) on `platform` is this customer; an identity already
    recorded keeps the customer it has (first link wins). With `seen_at`, the identity's
    last-seen time moves forward to it in the same statement (no extra round trip)."""
    insert = dialect_insert(session, CustomerIdentity).values(
        customer_id=customer_id,
        platform=platform,
        app_id=app_id,
        kind=kind,
        value=value,
        created_at=now,
        last_seen_at=seen_at,
    )
    keys = ["platform", "app_id", "kind", "value"]
    if seen_at is None:
        await session.execute(insert.on_conflict_do_nothing(index_elements=keys))
        return
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=keys, set_={"last_seen_at": seen_at}, where=seen_later(seen_at)
        )
    )


async def find_staff(session: AsyncSession, *, platform: str, user_id: str) -> StaffMember | None:
    """The active staff member with this platform user id, or None."""
    row = (
        await session.execute(
            select(Staff.id, Staff.name, Staff.role)
            .join(StaffIdentity, StaffIdentity.staff_id == Staff.id)
            .where(
                StaffIdentity.platform == platform,
                StaffIdentity.user_id == user_id,
                Staff.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    return StaffMember(id=row.id, name=row.name, role=row.role)
