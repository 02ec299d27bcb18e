"""Personal referral codes: short, unguessable, unambiguous, one per (customer, program).

Codes never contain `_`, so a WeCom contact-way `state` or an Official Account scene string
that is a bare code can be told apart from other states (`prefix_…`, DESIGN.md §4).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customer import Customer
from models.referral.programs import is_live
from models.referral.segments import eligible_program
from models.referral.tables import ReferralCode, ReferralProgram
from models.upsert import Insert, dialect_insert

# Upper-case letters and digits without 0/O, 1/I and (by being upper case) l: easy to read
# aloud and to type from a poster. 32 symbols × 8 = 40 bits of randomness per code.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
COUPON_CODE_LENGTH = 12
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{4,16}}$")
_ATTEMPTS = 20


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(raw: str | None) -> str | None:
    """The canonical form of a typed or scanned code (trimmed, upper case), or None when it
    cannot be one of ours. Accepting lower case costs nothing: the alphabet has no letter whose
    lower case is ambiguous with another symbol."""
    if raw is None:
        return None
    code = raw.strip().upper()
    return code if _CODE_RE.match(code) else None


def insert_ignoring_conflicts(dialect: str, table: object) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for the session's backend."""
    return dialect_insert(dialect, table).on_conflict_do_nothing()


async def find_code(session: AsyncSession, code: str | None) -> ReferralCode | None:
    normalized = normalize_code(code)
    if normalized is None:
        return None
    stmt = select(ReferralCode).where(ReferralCode.code == normalized)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_or_create_code(
    session: AsyncSession, *, customer_id: int, now: datetime, program_id: int | None = None
) -> ReferralCode | None:
    """The customer's personal code in `program_id`, or in their eligible program (the first
    live program by priority whose segment they match). None when the customer is unknown or
    closed, the program is not live, or no program fits.

    Safe under concurrency: the unique constraints on (program, customer) and on the code decide;
    a lost race returns the winner's code, a code collision draws a new code.
    """
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.status != "open":
        return None
    program: ReferralProgram | None
    if program_id is None:
        program = await eligible_program(session, customer_id=customer_id, now=now)
    else:
        program = await session.get(ReferralProgram, program_id)
        if program is not None and not is_live(program, now):
            program = None
    if program is None:
        return None
    existing = await _code_of(session, program.id, customer_id)
    if existing is not None:
        return existing
    dialect = session.get_bind().dialect.name
    for _ in range(_ATTEMPTS):
        stmt = insert_ignoring_conflicts(dialect, ReferralCode.__table__).values(
            code=new_code(), program_id=program.id, customer_id=customer_id, created_at=now
        )
        await session.execute(stmt)
        existing = await _code_of(session, program.id, customer_id)
        if existing is not None:
            return existing
    raise RuntimeError(f"could not draw a free referral code in {_ATTEMPTS} attempts")


async def _code_of(session: AsyncSession, program_id: int, customer_id: int) -> ReferralCode | None:
    stmt = select(ReferralCode).where(
        ReferralCode.program_id == program_id, ReferralCode.customer_id == customer_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()
