"""Which deliveries each WeCom mass-message task carries (`wecom_task_deliveries`), so a
delivery claimed again after its worker died joins no second task.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wecom_task_deliveries",
        sa.Column("delivery_id", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_wecom_task_deliveries_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["wecom_mass_tasks.id"],
            name=op.f("fk_wecom_task_deliveries_task_id_wecom_mass_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_wecom_task_deliveries")),
    )
    op.create_index(
        "ix_wecom_task_deliveries_task_id", "wecom_task_deliveries", ["task_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_wecom_task_deliveries_task_id", table_name="wecom_task_deliveries")
    op.drop_table("wecom_task_deliveries")
