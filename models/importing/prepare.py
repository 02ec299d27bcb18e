"""Staging-level steps between loading the staged rows and merging them (`merge.py`).

Each is one set-based statement over the staging table, run in the import's transaction:

- A column the file does not have is not a column of empty cells: on an update it must keep
  what is stored (`keep_stored_where_absent`), while an empty cell in a column the file has
  still clears the stored value.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.customer import Customer
from models.importing.staging import STAGING_TABLES

customers: Table = Customer.__table__  # type: ignore[assignment]

# Per kind, the optional staged columns that copy the stored value when the file lacks them
# (staging column → column of the stored row, matched by the kind's key).
_KEPT_WHEN_ABSENT: dict[str, tuple[str, ...]] = {
    "customers": ("phone", "region", "industry"),
}


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
