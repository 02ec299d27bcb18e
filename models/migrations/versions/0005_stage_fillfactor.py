"""Room for in-place updates of the nightly-rewritten lifecycle rows (PostgreSQL).

The nightly run rewrites every customer's `stage_assignments` and `customer_grades` row. With
free space on each page PostgreSQL can update them in place (HOT) instead of touching every index;
at 1M customers this took the daily run from ~6x to ~3.2x the bare orders aggregate.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("stage_assignments", "customer_grades")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
