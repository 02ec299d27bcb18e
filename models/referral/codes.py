"""Personal referral codes: short, unguessable, unambiguous, one per (customer, program).

Codes never contain `_`, so a WeCom contact-way `state` or an Official Account scene string
that is a bare code can be told apart from other states (`prefix_…`, DESIGN.md §4).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customer import Customer
from models.referral.programs import is_live, live_programs
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


# Why no code was issued (the API answers each with its own 409; chat says "no program for
# you now" to all of them).
NoCodeReason = Literal[
    "customer_unknown",  # no such customer
    "customer_closed",  # the account is closed (注销)
    "no_program_running",  # no program is live at all
    "no_eligible_program",  # programs are live, but none whose segment the customer fits
    "program_not_running",  # the program asked for is inactive, not started or ended
]


@dataclass(frozen=True)
class NoCode:
    reason: NoCodeReason


@dataclass(frozen=True)
class IssuedCode:
    code: ReferralCode
    program: ReferralProgram
    created: bool  # False: the customer already had this code (or a racing request drew it)


def referral_link(public_base_url: str, code: str) -> str:
    """The absolute link of a code's landing page, as shared and printed on the poster."""
    return f"{public_base_url.rstrip('/')}/r/{code}"


def poster_url(public_base_url: str, code: str) -> str:
    return referral_link(public_base_url, code) + "/poster.png"


async def issue_code(
    session: AsyncSession,
    *,
    customer_id: int,
    now: datetime,
    program: ReferralProgram | None = None,
) -> IssuedCode | NoCode:
    """The customer's personal code — the one way codes are issued, for chat `/invite`, joins
    through a customer's contact and the HTTP API alike.

    Without `program`: the first live program by priority whose segment the customer matches,
    so the customer gets the offer meant for them when several run. With a program: that one,
    if it is live — naming a program is the business's own choice (an operator, the demo, the
    shop's website through the API), so its segment, which only decides what a customer is
    offered when nobody chose, is not applied. Open accounts only.

    Safe under concurrency: the unique constraints on (program, customer) and on the code decide;
    a lost race returns the winner's code, a code collision draws a new code.
    """
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return NoCode("customer_unknown")
    if customer.status != "open":
        return NoCode("customer_closed")
    if program is None:
        running = await live_programs(session, now)
        if not running:
            return NoCode("no_program_running")
        chosen = await eligible_program(session, customer_id=customer_id, now=now, programs=running)
        if chosen is None:
            return NoCode("no_eligible_program")
    elif not is_live(program, now):
        return NoCode("program_not_running")
    else:
        chosen = program
    existing = await _code_of(session, chosen.id, customer_id)
    if existing is not None:
        return IssuedCode(existing, chosen, created=False)
    dialect = session.get_bind().dialect.name
    for _ in range(_ATTEMPTS):
        drawn = new_code()
        stmt = insert_ignoring_conflicts(dialect, ReferralCode.__table__).values(
            code=drawn, program_id=chosen.id, customer_id=customer_id, created_at=now
        )
        await session.execute(stmt)
        existing = await _code_of(session, chosen.id, customer_id)
        if existing is not None:
            return IssuedCode(existing, chosen, created=existing.code == drawn)
    raise RuntimeError(f"could not draw a free referral code in {_ATTEMPTS} attempts")


async def get_or_create_code(
    session: AsyncSession, *, customer_id: int, now: datetime, program_id: int | None = None
) -> ReferralCode | None:
    """`issue_code` for callers that only need the code: None whenever none is issued."""
    program = None
    if program_id is not None:
        program = await session.get(ReferralProgram, program_id)
        if program is None:
            return None
    issued = await issue_code(session, customer_id=customer_id, now=now, program=program)
    return issued.code if isinstance(issued, IssuedCode) else None


async def _code_of(session: AsyncSession, program_id: int, customer_id: int) -> ReferralCode | None:
    stmt = select(ReferralCode).where(
        ReferralCode.program_id == program_id, ReferralCode.customer_id == customer_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()
