"""`INSERT … ON CONFLICT` for whichever backend a session or connection is on, and the one way a
customer row is found or created by its external id.

SQLAlchemy's generic `insert()` has no `on_conflict_*`; each dialect has its own construct with
the same methods. Every writer that relies on a unique index to decide who created a row (the
inbound event store, tokens, job slots, identities, imports) takes its insert from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import FromClause, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.customer import Customer

Insert = postgresql.Insert | sqlite.Insert


def dialect_name(target: AsyncSession | AsyncConnection | str) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, AsyncSession):
        return target.get_bind().dialect.name
    return target.dialect.name


def dialect_insert(target: AsyncSession | AsyncConnection | str, table: Any) -> Insert:
    """`INSERT` into `table` (a Table or a mapped class) in the dialect of `target`, which
    offers `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if dialect_name(target) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def ensure_customer(
    session: AsyncSession, external_id: str, *, source: str, now: datetime, **values: Any
) -> tuple[int, bool]:
    """The id of the customer numbered `external_id`, created with `values` if there is none
    yet, and whether this call created it. Two concurrent callers cannot create it twice: the
    unique index decides, and the loser reads the winner's row."""
    customers: FromClause = Customer.__table__
    created = await session.scalar(
        dialect_insert(session, customers)
        .values(
            external_id=external_id,
            source=source,
            status=values.pop("status", "open"),
            created_at=values.pop("created_at", None) or now,
            updated_at=now,
            **values,
        )
        .on_conflict_do_nothing(index_elements=["external_id"])
        .returning(customers.c.id)
    )
    if created is not None:
        return int(created), True
    found = await session.scalar(select(Customer.id).where(Customer.external_id == external_id))
    assert found is not None
    return int(found), False
