"""Loading many rows into PostgreSQL tables with their indexes built once at the end.

Maintaining a B-tree row by row costs a random descent per row (and, for a low-cardinality
index, a de-duplication pass at every page split): loading 770k grade rows into an empty
`customer_grades` took 8.9 s with its two indexes and 1.4 s without, plus 0.8 s to build both
afterwards. PostgreSQL's manual gives the same advice for bulk loads ("Populating a Database":
remove indexes, load, re-create them).

`IndexSet.take_off` drops a table set's indexes and chosen constraints, and `put_back` re-creates
them from their own definitions (`pg_get_indexdef` / `pg_get_constraintdef`, read from the
catalog before dropping), so the schema ends up as migrated, whatever the migrations made it.
Partial indexes (those with a WHERE condition) stay in place: PostgreSQL may spell a
re-created one's condition differently (the casts of `= ANY (ARRAY[…])` move: the same index,
not the schema as migrated), and they cover only part of the rows anyway. Both run on the
caller's connection, inside its transaction or not: a transaction that rolls back
after `take_off` gets its indexes back with everything else.

Check constraints stay (cheap per row). Dropping an index locks its table exclusively until the
transaction ends; callers do it only for tables whose readers see nothing yet (empty tables,
benchmark data), and `take_off_if_free` gives up rather than wait behind a reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

# Rows from which a load into empty tables is done with their indexes built afterwards (see
# `unindexed_if_empty`): below it, the exclusive lock that takes is not worth it.
BULK_LOAD_MIN_ROWS = 50_000

# SQLSTATEs of "could not obtain lock" (lock_timeout expired) and of a deadlock (a reader that
# holds one of the tables waits for another this transaction locked first).
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"


def _regclasses(tables: tuple[str, ...]) -> str:
    return ", ".join(f"'{name}'::regclass" for name in tables)


@dataclass(frozen=True)
class _Constraint:
    table: str
    name: str
    kind: str  # pg_constraint.contype: p primary key, u unique, f foreign key
    definition: str


@dataclass
class IndexSet:
    """What `take_off` removed, to be put back."""

    constraints: list[_Constraint] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements

    @classmethod
    async def take_off(
        cls,
        conn: AsyncConnection,
        tables: tuple[str, ...],
        *,
        kinds: str = "puf",
    ) -> IndexSet:
        """Drop every index of `tables` but the partial ones, and the constraints of the
        `kinds` given (p primary key, u unique, f foreign key); indexes behind a constraint
        that is kept stay, and so does a key that a foreign key not dropped here relies on."""
        among = _regclasses(tables)
        rows = await conn.execute(
            text(
                "SELECT conrelid::regclass::text, conname, contype::text, "
                "pg_get_constraintdef(oid), conindid FROM pg_constraint "
                f"WHERE conrelid IN ({among}) AND contype IN ('p', 'u', 'f') "
                # foreign keys first: a unique or primary key they rely on goes after them
                "ORDER BY contype = 'f' DESC, conname"
            )
        )
        found = rows.all()
        # A key that a foreign key of another table (or one kept) relies on must stay.
        referencing = await conn.execute(
            text(
                "SELECT conindid, conrelid IN "
                f"({among}) FROM pg_constraint WHERE contype = 'f' AND confrelid IN ({among})"
            )
        )
        dropped_fk = "f" in kinds
        needed = {index for index, inside in referencing.all() if not (inside and dropped_fk)}
        taken = cls(
            constraints=[
                _Constraint(str(table), str(name), str(kind), str(definition))
                for table, name, kind, definition, index in found
                if kind in kinds and (kind == "f" or index not in needed)
            ]
        )
        indexes = await conn.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                f"FROM pg_index i WHERE indrelid IN ({among}) AND indpred IS NULL "
                "AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
                "AND c.contype IN ('p', 'u', 'x')) ORDER BY 1"
            )
        )
        index_rows = indexes.all()
        for c in taken.constraints:
            await conn.execute(text(f'ALTER TABLE {c.table} DROP CONSTRAINT "{c.name}"'))
        for name, definition in index_rows:
            await conn.execute(text(f"DROP INDEX {name}"))
            taken.indexes.append(str(definition))
        return taken

    @classmethod
    async def take_off_if_free(
        cls,
        conn: AsyncConnection,
        tables: tuple[str, ...],
        *,
        kinds: str = "puf",
        wait_ms: int = 1000,
    ) -> IndexSet | None:
        """`take_off` inside a transaction, unless the current role does not own every table
        or a table's exclusive lock is not granted within `wait_ms` (someone is reading it),
        or waiting for it would deadlock with a reader: then nothing changes and None."""
        among = _regclasses(tables)
        owned = await conn.scalar(
            text(
                "SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class "
                f"WHERE oid IN ({among})"
            )
        )
        if not owned:  # only a table's owner may drop its indexes
            return None
        previous = await conn.scalar(text("SELECT current_setting('lock_timeout')"))
        await conn.execute(text("SAVEPOINT fission_take_off"))
        try:
            await conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait_ms)}ms'"))
            taken = await cls.take_off(conn, tables, kinds=kinds)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
                raise
            await conn.execute(text("ROLLBACK TO SAVEPOINT fission_take_off"))
            return None
        await conn.execute(text("RELEASE SAVEPOINT fission_take_off"))
        await conn.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})
        return taken

    async def put_back(self, conn: AsyncConnection) -> None:
        """Build the indexes, then the constraints (keys before the foreign keys that use
        them); each index with one sort, each foreign key checked with one join."""
        for definition in self.indexes:
            await conn.execute(text(definition))
        for c in sorted(self.constraints, key=lambda c: c.kind == "f"):
            await conn.execute(
                text(f'ALTER TABLE {c.table} ADD CONSTRAINT "{c.name}" {c.definition}')
            )


async def unindexed_if_empty(
    conn: AsyncConnection, tables: tuple[str, ...], rows: int, *, kinds: str = "puf"
) -> IndexSet | None:
    """PostgreSQL, `rows` ≥ BULK_LOAD_MIN_ROWS about to be inserted into `tables`: take off
    (`IndexSet.take_off_if_free`) the indexes of those of them that are empty — a first load,
    which no reader has seen anything of yet. None when nothing was taken off; otherwise the
    caller puts them back (`IndexSet.put_back`) once its inserts are done."""
    if conn.dialect.name != "postgresql" or rows < BULK_LOAD_MIN_ROWS:
        return None
    empty = [t for t in tables if await conn.scalar(text(f"SELECT NOT EXISTS (SELECT FROM {t})"))]
    if not empty:
        return None
    return await IndexSet.take_off_if_free(conn, tuple(empty), kinds=kinds)
