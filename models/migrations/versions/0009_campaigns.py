"""Reactivation campaigns: campaigns, their runs and members, the delivery outbox, WeCom
mass-message tasks, shared rate budgets; where customers were last seen and which platform they
prefer. Two default campaigns are seeded switched off (seed 004's 衰退客户挽回 and 流失客户回归),
with their coupon templates, so a manager only has to review and enable them.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budgets")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("audience", _JSON, nullable=False),
        sa.Column(
            "coupon_template_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=True),
        sa.Column("run_once_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cooldown_days", sa.Integer(), nullable=False),
        sa.Column("holdout_pct", sa.Integer(), nullable=False),
        sa.Column("conversion_days", sa.Integer(), nullable=False),
        sa.Column("alert_below_rate", sa.Float(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_campaigns_coupon_template_id_coupon_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("key", name=op.f("uq_campaigns_key")),
    )
    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("slot", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("treatment", sa.Integer(), nullable=False),
        sa.Column("holdout", sa.Integer(), nullable=False),
        sa.Column("control", sa.Integer(), nullable=False),
        sa.Column("excluded", _JSON, nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evaluated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_campaign_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_runs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_runs")),
        sa.UniqueConstraint("campaign_id", "slot", name=op.f("uq_campaign_runs_campaign_id_slot")),
    )
    op.create_table(
        "campaign_members",
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("arm", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("stage", sa.String(length=10), nullable=True),
        sa.Column("coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "arm IN ('treatment', 'holdout', 'control', 'excluded')",
            name=op.f("ck_campaign_members_arm"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN "
            "('opted_out', 'cooldown', 'frequency_cap', 'monthly_limit', 'unreachable')",
            name=op.f("ck_campaign_members_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_campaign_members_coupon_id_coupons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name=op.f("fk_campaign_members_run_id_campaign_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "customer_id", name=op.f("pk_campaign_members")),
    )
    op.create_index(
        "ix_campaign_members_customer_id", "campaign_members", ["customer_id"], unique=False
    )
    op.create_table(
        "wecom_mass_tasks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("polled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name=op.f("fk_wecom_mass_tasks_run_id_campaign_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_mass_tasks")),
        sa.UniqueConstraint("msgid", name=op.f("uq_wecom_mass_tasks_msgid")),
    )
    op.create_index("ix_wecom_mass_tasks_run_id", "wecom_mass_tasks", ["run_id"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=True),
        sa.Column("body", _JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("platform_message_id", sa.String(length=128), nullable=True),
        sa.Column("error_code", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "route IN ('wecom_task', 'wechat_cs', 'wechat_template', 'feishu')",
            name=op.f("ck_deliveries_route"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'waiting_staff', 'sent', 'delivered', 'failed', "
            "'dead', 'skipped')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_deliveries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_deliveries_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["campaign_runs.id"],
            name=op.f("fk_deliveries_run_id_campaign_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["wecom_mass_tasks.id"],
            name=op.f("fk_deliveries_task_id_wecom_mass_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("run_id", "customer_id", name=op.f("uq_deliveries_run_id_customer_id")),
    )
    op.create_index(
        "ix_deliveries_customer_sent", "deliveries", ["customer_id", "sent_at"], unique=False
    )
    op.create_index(
        "ix_deliveries_status_next_attempt",
        "deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index("ix_deliveries_task_id", "deliveries", ["task_id"], unique=False)
    op.add_column(
        "customer_identities",
        sa.Column("last_seen_at", models.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("customers", sa.Column("preferred_platform", sa.String(length=10), nullable=True))
    _seed_default_campaigns()


def downgrade() -> None:
    op.drop_column("customers", "preferred_platform")
    op.drop_column("customer_identities", "last_seen_at")
    op.drop_index("ix_deliveries_task_id", table_name="deliveries")
    op.drop_index("ix_deliveries_status_next_attempt", table_name="deliveries")
    op.drop_index("ix_deliveries_customer_sent", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_wecom_mass_tasks_run_id", table_name="wecom_mass_tasks")
    op.drop_table("wecom_mass_tasks")
    op.drop_index("ix_campaign_members_customer_id", table_name="campaign_members")
    op.drop_table("campaign_members")
    op.drop_table("campaign_runs")
    op.drop_table("campaigns")
    op.drop_table("rate_budgets")


# A copy, not an import: a migration must not change when application code does.
_TEMPLATES = (
    # key, name, value, min spend, validity days
    ("winback_30", "老客回馈券 ¥30", 3000, 10000, 14),
    ("comeback_50", "回归礼券 ¥50", 5000, 20000, 30),
)
_CAMPAIGNS = (
    {
        "key": "winback_declining",
        "name": "衰退客户挽回",
        "audience": {"stages": ["declining"]},
        "template": "winback_30",
        "message": (
            "{name}您好，好久不见！送您一张{coupon}，{expiry}前有效，下单时自动可用。"
            "{link}\n回复“退订”即不再接收优惠消息。"
        ),
        "schedule": "0 10 * * 2",
    },
    {
        "key": "comeback_churned",
        "name": "流失客户回归",
        "audience": {"stages": ["churned"]},
        "template": "comeback_50",
        "message": (
            "{name}您好，我们为老朋友准备了一份回归礼：{coupon}，{expiry}前有效。"
            "{link}\n回复“退订”即不再接收优惠消息。"
        ),
        "schedule": "0 10 1 * *",
    },
)


def _seed_default_campaigns() -> None:
    now = datetime.now(UTC)
    bind = op.get_bind()
    templates = sa.table(
        "coupon_templates",
        sa.column("id", sa.BigInteger()),
        sa.column("key", sa.String()),
        sa.column("name", sa.String()),
        sa.column("value_fen", sa.BigInteger()),
        sa.column("min_spend_fen", sa.BigInteger()),
        sa.column("validity_days", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.base.UTCDateTime(timezone=True)),
    )
    existing = set(bind.execute(sa.select(templates.c.key)).scalars())
    op.bulk_insert(
        templates,
        [
            {
                "key": key,
                "name": name,
                "value_fen": value,
                "min_spend_fen": min_spend,
                "validity_days": days,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for key, name, value, min_spend, days in _TEMPLATES
            if key not in existing
        ],
    )
    ids = dict(bind.execute(sa.select(templates.c.key, templates.c.id)).all())
    campaigns = sa.table(
        "campaigns",
        sa.column("key", sa.String()),
        sa.column("name", sa.String()),
        sa.column("enabled", sa.Boolean()),
        sa.column("audience", _JSON),
        sa.column("coupon_template_id", sa.BigInteger()),
        sa.column("message", sa.Text()),
        sa.column("schedule", sa.String()),
        *(
            sa.column(name, sa.Integer())
            for name in ("cooldown_days", "holdout_pct", "conversion_days")
        ),
        sa.column("alert_below_rate", sa.Float()),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.base.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        campaigns,
        [
            {
                "key": c["key"],
                "name": c["name"],
                "enabled": False,
                "audience": c["audience"],
                "coupon_template_id": ids[c["template"]],
                "message": c["message"],
                "schedule": c["schedule"],
                "cooldown_days": 30,
                "holdout_pct": 10,
                "conversion_days": 14,
                "alert_below_rate": 0.10,
                "created_at": now,
                "updated_at": now,
            }
            for c in _CAMPAIGNS
        ],
    )
