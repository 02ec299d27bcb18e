"""The outbox wakes its workers: on PostgreSQL an insert into `deliveries` (a campaign run's
one INSERT … SELECT) sends NOTIFY `fission_outbox` when its transaction commits, so idle
delivery workers start at once instead of at their next poll. One notification per statement,
not per row. SQLite has no NOTIFY: its one worker polls.

Revision ID: 0017
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON deliveries")
    op.execute("DROP FUNCTION IF EXISTS deliveries_notify()")
