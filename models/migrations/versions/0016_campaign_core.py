"""Campaign core: which WeCom staff member follows which customer (`wecom_follows`, the sender
of a WeCom mass message), when a campaign was switched on (`campaigns.enabled_at`: the
scheduler runs no slot from before it), and the web simulator's console channel as a delivery
route (demo mode).

Revision ID: 0016
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROUTES = "route IN ('wecom_task', 'wechat_cs', 'wechat_template', 'feishu'{console})"


def upgrade() -> None:
    op.create_table(
        "wecom_follows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("external_userid", sa.String(length=128), nullable=False),
        sa.Column("staff_userid", sa.String(length=64), nullable=False),
        sa.Column("followed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_follows")),
        sa.UniqueConstraint(
            "app_id",
            "external_userid",
            "staff_userid",
            name=op.f("uq_wecom_follows_app_id_external_userid_staff_userid"),
        ),
    )
    op.create_index(
        "ix_wecom_follows_app_id_staff_userid",
        "wecom_follows",
        ["app_id", "staff_userid"],
        unique=False,
    )
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("enabled_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    campaigns = sa.table(
        "campaigns",
        sa.column("enabled", sa.Boolean()),
        sa.column("enabled_at", models.base.UTCDateTime(timezone=True)),
    )
    op.execute(
        campaigns.update().where(campaigns.c.enabled.is_(True)).values(enabled_at=datetime.now(UTC))
    )
    _route_check(console=True)


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE route = 'console'")
    _route_check(console=False)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("enabled_at")
    op.drop_index("ix_wecom_follows_app_id_staff_userid", table_name="wecom_follows")
    op.drop_table("wecom_follows")


def _route_check(*, console: bool) -> None:
    condition = _ROUTES.format(console=", 'console'" if console else "")
    with op.batch_alter_table("deliveries", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_deliveries_route"), type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_route"), condition)
