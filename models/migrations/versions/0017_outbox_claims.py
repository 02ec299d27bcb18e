"""The outbox's claims and wake-up.

- Two partial indexes hold only the rows a claim looks for: `ix_deliveries_due` (queued or
  retrying, by next attempt) and `ix_deliveries_lease` (claimed, by lease). A claim walks one
  in order and stops at a batch, however many deliveries were ever sent; without them every
  claim sorted the whole table (80 ms per claim at 100k rows).
- On PostgreSQL an insert into `deliveries` (a campaign run's one INSERT … SELECT) sends
  NOTIFY `fission_outbox` when its transaction commits, so idle delivery workers start at once
  instead of at their next poll. One notification per statement, not per row. SQLite has no
  NOTIFY: its one worker polls.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_DUE = "status IN ('queued', 'failed')"
_SENDING = "status = 'sending'"


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at", "id"],
        sqlite_where=sa.text(_DUE),
        postgresql_where=sa.text(_DUE),
    )
    op.create_index(
        "ix_deliveries_lease",
        "deliveries",
        ["lease_until"],
        sqlite_where=sa.text(_SENDING),
        postgresql_where=sa.text(_SENDING),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('fission_outbox', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries "
        "FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON deliveries")
        op.execute("DROP FUNCTION IF EXISTS deliveries_notify()")
    op.drop_index("ix_deliveries_lease", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
