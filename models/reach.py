"""Where a customer can be reached: their platform identities, when each was last seen, and the
platform they prefer.

`customer_identities.last_seen_at` is the customer's last message or event through that
identity. It opens the Official Account's 48 h customer-service window, and it is the default
preferred platform (the one they last spoke on) when `customers.preferred_platform` is unset.
It only ever moves forward: a replayed or late callback never takes it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.customer import Customer, CustomerIdentity

# The identity a campaign message is addressed to, per platform (union ids are not addresses).
ADDRESS_KINDS = {"wecom": "external_userid", "wechat": "openid", "feishu": "open_id"}
REACH_PLATFORMS = tuple(ADDRESS_KINDS)
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Reach:
    platform: str
    last_seen_at: datetime | None


def seen_later(at: datetime) -> ColumnElement[bool]:
    """The condition under which `at` moves an identity's last-seen time forward."""
    return or_(CustomerIdentity.last_seen_at.is_(None), CustomerIdentity.last_seen_at < at)


async def touch_last_seen(
    session: AsyncSession, *, platform: str, app_id: str, kind: str, value: str, at: datetime
) -> None:
    """The identity was seen at `at` (one UPDATE; nothing if it is unknown or seen later)."""
    await session.execute(
        update(CustomerIdentity)
        .where(
            CustomerIdentity.platform == platform,
            CustomerIdentity.app_id == app_id,
            CustomerIdentity.kind == kind,
            CustomerIdentity.value == value,
            seen_later(at),
        )
        .values(last_seen_at=at)
    )


async def last_seen_of(
    session: AsyncSession, *, platform: str, app_id: str, kind: str, values: Sequence[str]
) -> dict[str, datetime]:
    """When each of `values` was last seen; identities never seen are left out."""
    if not values:
        return {}
    rows = await session.execute(
        select(CustomerIdentity.value, CustomerIdentity.last_seen_at).where(
            CustomerIdentity.platform == platform,
            CustomerIdentity.app_id == app_id,
            CustomerIdentity.kind == kind,
            CustomerIdentity.value.in_(sorted(set(values))),
            CustomerIdentity.last_seen_at.is_not(None),
        )
    )
    return {value: seen for value, seen in rows.all() if seen is not None}


async def reach_of(session: AsyncSession, customer_id: int) -> tuple[Reach, ...]:
    """The platforms a campaign can address this customer on, most recently seen first."""
    rows = await session.execute(
        select(CustomerIdentity.platform, CustomerIdentity.kind, CustomerIdentity.last_seen_at)
        .where(CustomerIdentity.customer_id == customer_id)
        .order_by(CustomerIdentity.id)
    )
    latest: dict[str, datetime | None] = {}
    for platform, kind, seen in rows.all():
        if ADDRESS_KINDS.get(platform) != kind:
            continue
        before = latest.get(platform)
        latest[platform] = seen if before is None or (seen and seen > before) else before
    ordered = sorted(latest.items(), key=lambda item: item[1] or _NEVER, reverse=True)
    return tuple(Reach(platform, seen) for platform, seen in ordered)


def preferred_of(explicit: str | None, reach: Sequence[Reach]) -> str | None:
    """Where a campaign message goes: the customer's chosen platform when they can be reached
    there, else the one they were last seen on (`reach` is most recent first)."""
    platforms = [r.platform for r in reach]
    if explicit in platforms:
        return explicit
    return platforms[0] if platforms else None


async def set_preferred_platform(
    session: AsyncSession, customer_id: int, platform: str | None, *, now: datetime
) -> None:
    """Set (or, with None, clear) the customer's preferred platform. The caller checks that
    the customer can be reached there."""
    if platform is not None and platform not in REACH_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(preferred_platform=platform, updated_at=now)
    )
