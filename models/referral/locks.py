"""Row locks that serialise the referral decisions about one customer, on both backends.

PostgreSQL: `SELECT … FOR NO KEY UPDATE` on the rows. NO KEY (rather than plain FOR UPDATE)
does not conflict with the key-share locks that foreign-key inserts take, so locking invitee A
while another transaction inserts an invitation naming A as inviter cannot deadlock.
SQLite has a single writer: a no-op UPDATE takes the database write lock (waiting up to the
busy timeout), and every read after it in the transaction sees the latest committed data.

Lock order, everywhere: the invitee's customer row, then the inviter's code row, then the
program row. Taking them in this order keeps concurrent conversions free of deadlocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Base


async def lock_rows(session: AsyncSession, model: type[Base], ids: Iterable[int]) -> None:
    """Lock `model` rows by primary key `id` until the end of the transaction."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        id_column = table.c.id
        stmt = (
            select(id_column)
            .where(id_column.in_(wanted))
            .order_by(id_column)
            .with_for_update(key_share=True)
        )
        await session.execute(stmt)
        return
    # A raw statement: an ORM/Core UPDATE would also bump `updated_at` (column onupdate).
    placeholders = ", ".join(f":id{i}" for i in range(len(wanted)))
    await session.execute(
        text(f"UPDATE {table.name} SET id = id WHERE id IN ({placeholders})"),  # type: ignore[attr-defined]
        {f"id{i}": value for i, value in enumerate(wanted)},
    )
