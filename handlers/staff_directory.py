"""The staff directory: who is staff, with which role, recognised by which platform user id.

Shared by `fission staff add|list|remove` and the admin's `/staff` chat command, so both
behave the same. Functions take the caller's session and never commit.

Removing a staff identity deletes that identity; a staff member left with none is marked
inactive rather than deleted, so their follow-ups and customer ownership keep their name.
Adding an identity that already exists updates that person (name, role) and re-activates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customer import PLATFORMS
from models.staff import ROLES, Staff, StaffIdentity

MAX_NAME = 100
MAX_USER_ID = 128

# Words people use for platforms and roles in chat (the CLI takes the English codes).
PLATFORM_WORDS = {
    "wecom": "wecom",
    "企业微信": "wecom",
    "企微": "wecom",
    "wechat": "wechat",
    "公众号": "wechat",
    "微信": "wechat",
    "feishu": "feishu",
    "lark": "feishu",
    "飞书": "feishu",
    "console": "console",
    "模拟器": "console",
}
ROLE_WORDS = {
    "agent": "agent",
    "专员": "agent",
    "员工": "agent",
    "manager": "manager",
    "经理": "manager",
    "admin": "admin",
    "管理员": "admin",
}


@dataclass(frozen=True)
class StaffEntry:
    id: int
    name: str
    role: str
    active: bool
    identities: tuple[tuple[str, str], ...]  # (platform, user_id)


def _check(platform: str, user_id: str, name: str | None = None, role: str | None = None) -> None:
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
    if not user_id.strip() or len(user_id) > MAX_USER_ID:
        raise ValueError(f"user id must be 1–{MAX_USER_ID} characters")
    if name is not None and (not name.strip() or len(name) > MAX_NAME):
        raise ValueError(f"name must be 1–{MAX_NAME} characters")
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")


async def add_staff(
    session: AsyncSession, *, platform: str, user_id: str, name: str, role: str, now: datetime
) -> tuple[StaffEntry, bool]:
    """Adds (or updates) the staff member with this platform identity; True when new."""
    user_id, name = user_id.strip(), name.strip()
    _check(platform, user_id, name, role)
    staff = await session.scalar(
        select(Staff)
        .join(StaffIdentity, StaffIdentity.staff_id == Staff.id)
        .where(StaffIdentity.platform == platform, StaffIdentity.user_id == user_id)
    )
    created = staff is None
    if staff is None:
        staff = Staff(name=name, role=role, active=True, created_at=now)
        session.add(staff)
        await session.flush()
        session.add(StaffIdentity(staff_id=staff.id, platform=platform, user_id=user_id))
    else:
        staff.name, staff.role, staff.active = name, role, True
    await session.flush()
    return await _entry(session, staff), created


async def remove_staff(session: AsyncSession, *, platform: str, user_id: str) -> StaffEntry | None:
    """Removes one platform identity; None when nobody has it."""
    _check(platform, user_id.strip())
    identity = await session.scalar(
        select(StaffIdentity).where(
            StaffIdentity.platform == platform, StaffIdentity.user_id == user_id.strip()
        )
    )
    if identity is None:
        return None
    staff = await session.get(Staff, identity.staff_id)
    assert staff is not None
    await session.execute(delete(StaffIdentity).where(StaffIdentity.id == identity.id))
    left = await session.scalar(
        select(func.count()).select_from(StaffIdentity).where(StaffIdentity.staff_id == staff.id)
    )
    if not left:
        staff.active = False
    await session.flush()
    return await _entry(session, staff)


async def list_staff(session: AsyncSession, *, include_inactive: bool = False) -> list[StaffEntry]:
    stmt = select(Staff).order_by(Staff.id)
    if not include_inactive:
        stmt = stmt.where(Staff.active.is_(True))
    people = list((await session.scalars(stmt)).all())
    identities: dict[int, list[tuple[str, str]]] = {}
    rows = await session.execute(
        select(StaffIdentity.staff_id, StaffIdentity.platform, StaffIdentity.user_id).order_by(
            StaffIdentity.platform, StaffIdentity.user_id
        )
    )
    for staff_id, platform, user_id in rows:
        identities.setdefault(staff_id, []).append((platform, user_id))
    return [
        StaffEntry(s.id, s.name, s.role, s.active, tuple(identities.get(s.id, ()))) for s in people
    ]


async def _entry(session: AsyncSession, staff: Staff) -> StaffEntry:
    rows = await session.execute(
        select(StaffIdentity.platform, StaffIdentity.user_id)
        .where(StaffIdentity.staff_id == staff.id)
        .order_by(StaffIdentity.platform, StaffIdentity.user_id)
    )
    pairs = tuple((platform, user_id) for platform, user_id in rows)
    return StaffEntry(staff.id, staff.name, staff.role, staff.active, pairs)


CONSOLE_USER_PREFIX = "console-staff-"


async def ensure_console_identities(session: AsyncSession) -> int:
    """Gives every active staff member without a console account one (`console-staff-<id>`), so
    the web simulator can speak as them. Returns how many were added."""
    has_console = (
        select(StaffIdentity.id)
        .where(StaffIdentity.staff_id == Staff.id, StaffIdentity.platform == "console")
        .exists()
    )
    missing = select(
        Staff.id,
        literal("console"),
        literal(CONSOLE_USER_PREFIX) + cast(Staff.id, String),
    ).where(Staff.active.is_(True), ~has_console)
    result = await session.execute(
        insert(StaffIdentity).from_select(["staff_id", "platform", "user_id"], missing)
    )
    return int(getattr(result, "rowcount", 0) or 0)
