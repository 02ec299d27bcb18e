"""Where a staff member can be reached in chat, outside any conversation: one of their
identities on a platform this deployment has configured (WeCom app message first, then Feishu,
then the Official Account, whose 48-hour window makes it the least reliable), and who the
managers are."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.staff import Staff, StaffIdentity

# The order in which a staff member's platforms are tried.
PUSH_PLATFORMS = ("wecom", "feishu", "wechat")
MANAGER_ROLES = ("manager", "admin")


async def chat_targets(
    session: AsyncSession, staff_ids: Sequence[int], platforms: Collection[str]
) -> dict[int, tuple[str, str]]:
    """(platform, user id) per staff member, on the first of PUSH_PLATFORMS configured and
    known for them; staff members with no such identity are missing from the answer."""
    usable = [p for p in PUSH_PLATFORMS if p in platforms]
    if not staff_ids or not usable:
        return {}
    rows = await session.execute(
        select(StaffIdentity.staff_id, StaffIdentity.platform, StaffIdentity.user_id)
        .where(StaffIdentity.staff_id.in_(staff_ids), StaffIdentity.platform.in_(usable))
        .order_by(StaffIdentity.id)
    )
    targets: dict[int, tuple[str, str]] = {}
    for staff_id, platform, user_id in rows:
        known = targets.get(staff_id)
        if known is None or usable.index(platform) < usable.index(known[0]):
            targets[staff_id] = (platform, user_id)
    return targets


async def manager_ids(session: AsyncSession) -> list[int]:
    """Active managers and administrators."""
    rows = await session.scalars(
        select(Staff.id)
        .where(Staff.role.in_(MANAGER_ROLES), Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return list(rows)
