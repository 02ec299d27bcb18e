"""Keep the run date once per run, and no percentile score, on customers' stage and grade rows.

`stage_assignments.as_of` and `customer_grades.as_of` changed every day for every customer,
so the nightly run rewrote every row even when nothing about the customer had changed (1M
rows and their WAL at 1M customers). The date the stored verdicts describe is the `as_of` of
the latest `lifecycle_runs` row — every run writes every customer's verdict in one
transaction — and readers take it from there.

`customer_grades.score`, a percentile among all graded customers, moved a little for nearly
everyone every day (one customer's order ageing out of the year shifts everyone's ranks), so it
too rewrote every row nightly. It is a function of the stored metrics of all graded customers,
so readers compute it from them (`models.lifecycle.grading.percentile_score`), the same number.

A row is now written only when its content changes, so `updated_at` says when a customer's
verdict last changed.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("stage_assignments", "customer_grades")


def upgrade() -> None:
    # A plain DROP COLUMN on both backends (SQLite has it since 3.35; the column carries no
    # index or constraint), so SQLite does not copy the tables.
    for table in _TABLES:
        op.drop_column(table, "as_of")
    op.drop_column("customer_grades", "score")


def downgrade() -> None:
    # The score comes back as 0 until the next run writes it.
    op.add_column(
        "customer_grades", sa.Column("score", sa.Float(), nullable=False, server_default="0")
    )
    for table in _TABLES:
        op.add_column(table, sa.Column("as_of", sa.Date(), nullable=True))
        op.execute(
            f"UPDATE {table} SET as_of = (SELECT as_of FROM lifecycle_runs "
            "ORDER BY id DESC LIMIT 1)"
        )
