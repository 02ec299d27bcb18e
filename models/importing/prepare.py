"""Staging-level steps between loading the staged rows and merging them (`merge.py`).

Each is a few set-based statements over the staging table, run in the import's transaction:

- A column the file does not have is not a column of empty cells: on an update it must keep
  what is stored (`keep_stored_where_absent`), while an empty cell in a column the file has
  still clears the stored value.
- An order without a customer number names its buyer by phone (shops' exports):
  `customers_by_phone` gives it the number of the one customer with that phone, or of a new
  customer made from the phone (numbered `tel:` + the phone, named by the buyer's name).
  Phones shared by several stored customers are read beforehand (`shared_phones`), so those
  rows are refused while the file is read, with their line and cells.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import UTCDateTime
from models.customer import Customer
from models.importing.staging import STAGING_TABLES, staged_time

customers: Table = Customer.__table__  # type: ignore[assignment]

# Per kind, the optional staged columns that copy the stored value when the file lacks them
# (staging column → column of the stored row, matched by the kind's key).
_KEPT_WHEN_ABSENT: dict[str, tuple[str, ...]] = {
    "customers": ("phone", "region", "industry"),
}
PHONE_CUSTOMER_PREFIX = "tel:"


async def keep_stored_where_absent(
    conn: AsyncConnection, kind: str, absent: Collection[str]
) -> None:
    kept = [name for name in _KEPT_WHEN_ABSENT.get(kind, ()) if name in absent]
    if not kept:
        return
    s = STAGING_TABLES[kind]
    await conn.execute(
        update(s)
        .where(s.c.external_id == customers.c.external_id)
        .values({s.c[name]: customers.c[name] for name in kept})
    )


async def shared_phones(conn: AsyncConnection) -> dict[str, int]:
    """Each phone stored on two or more customers, with how many (one grouped scan)."""
    c = customers
    rows = await conn.execute(
        select(c.c.phone, func.count())
        .where(c.c.phone.is_not(None))
        .group_by(c.c.phone)
        .having(func.count() > 1)
    )
    return {str(phone): int(count) for phone, count in rows.all()}


@dataclass(frozen=True)
class PhoneMatches:
    matched: int  # orders given the one stored customer with their phone
    created: int  # customers made from a phone nobody had
    # Orders still without a customer — their phone became shared by a concurrent writer
    # since `shared_phones` read it: (order number, phone, customers with it); removed from
    # the staged rows, to be reported as rejected.
    unresolved: list[tuple[str, str, int]]


async def customers_by_phone(conn: AsyncConnection, now: datetime) -> PhoneMatches:
    s, c = STAGING_TABLES["orders"], customers
    pending = s.c.customer_external_id.is_(None)
    matched = await _match_unique_phones(conn)
    # One new customer per phone no stored customer has, dated by its first order here.
    chosen = (
        select(
            literal(PHONE_CUSTOMER_PREFIX) + s.c.customer_phone,
            func.max(s.c.customer_name),
            s.c.customer_phone,
            literal("order"),
            literal("open"),
            func.min(staged_time(conn, s.c.paid_at)),
            literal(now, UTCDateTime()),
        )
        .where(pending, ~exists().where(c.c.phone == s.c.customer_phone))
        .group_by(s.c.customer_phone)
    )
    columns = ["external_id", "name", "phone", "source", "status", "created_at", "updated_at"]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(c).from_select(columns, chosen).on_conflict_do_nothing()
    created = int((await conn.execute(statement)).rowcount)
    await _match_unique_phones(conn)
    # A `tel:` customer whose phone has changed since is still the one made from that phone.
    by_number = select(c.c.external_id).where(
        c.c.external_id == literal(PHONE_CUSTOMER_PREFIX) + s.c.customer_phone
    )
    await conn.execute(
        update(s).where(pending).values(customer_external_id=by_number.scalar_subquery())
    )
    owners = select(func.count()).where(c.c.phone == s.c.customer_phone).scalar_subquery()
    left = await conn.execute(select(s.c.order_no, s.c.customer_phone, owners).where(pending))
    unresolved = [(str(no), str(phone), int(count)) for no, phone, count in left.all()]
    if unresolved:
        await conn.execute(s.delete().where(pending))
    return PhoneMatches(matched=matched, created=created, unresolved=unresolved)


async def _match_unique_phones(conn: AsyncConnection) -> int:
    """Staged orders without a customer number, given the one stored customer with their
    phone (one UPDATE … FROM); how many."""
    s, c = STAGING_TABLES["orders"], customers
    pending = s.c.customer_external_id.is_(None)
    unique = (
        select(c.c.phone, func.min(c.c.external_id).label("external_id"))
        .where(c.c.phone.in_(select(s.c.customer_phone).where(pending)))
        .group_by(c.c.phone)
        .having(func.count() == 1)
        .subquery()
    )
    result = await conn.execute(
        update(s)
        .where(pending, s.c.customer_phone == unique.c.phone)
        .values(customer_external_id=unique.c.external_id)
    )
    return int(result.rowcount)
