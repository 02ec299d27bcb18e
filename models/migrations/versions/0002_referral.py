"""referral

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:50:45.918897
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLICKED = "status = 'clicked' AND invitee_customer_id IS NULL"
_REVIEW_PENDING = "review_status = 'pending'"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "referral_programs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("offer_text", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "segment", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "channels", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "inviter_reward",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "invitee_reward",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "milestones", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("cap_per_inviter_month", sa.Integer(), nullable=True),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("attribution_window_days", sa.Integer(), nullable=False),
        sa.Column("hold_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=40), server_default="Asia/Shanghai", nullable=False),
        sa.Column(
            "fraud_rules",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_programs")),
        sa.UniqueConstraint("key", name=op.f("uq_referral_programs_key")),
    )
    op.create_table(
        "referral_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_referral_codes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["referral_programs.id"],
            name=op.f("fk_referral_codes_program_id_referral_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
        sa.UniqueConstraint(
            "program_id", "customer_id", name=op.f("uq_referral_codes_program_id_customer_id")
        ),
    )
    op.create_index(
        "ix_referral_codes_customer_id", "referral_codes", ["customer_id"], unique=False
    )

    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "inviter_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "invitee_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reject_reason", sa.String(length=30), nullable=True),
        sa.Column("visitor_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "fraud_signals", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("review_status", sa.String(length=10), nullable=True),
        sa.Column("reviewed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("review_note", sa.String(length=200), nullable=True),
        sa.Column("clicked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("converted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hold_until", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rewarded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "converting_order_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('clicked', 'joined', 'converted', 'rewarded', 'rejected')",
            name=op.f("ck_invitations_status"),
        ),
        sa.CheckConstraint(
            "review_status IS NULL OR review_status IN ('pending', 'approved', 'denied', 'void')",
            name=op.f("ck_invitations_review_status"),
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR reject_reason IS NOT NULL",
            name=op.f("ck_invitations_reject_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["referral_codes.id"],
            name=op.f("fk_invitations_code_id_referral_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["converting_order_id"],
            ["orders.id"],
            name=op.f("fk_invitations_converting_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitee_customer_id"],
            ["customers.id"],
            name=op.f("fk_invitations_invitee_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inviter_customer_id"],
            ["customers.id"],
            name=op.f("fk_invitations_inviter_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["referral_programs.id"],
            name=op.f("fk_invitations_program_id_referral_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
    )
    op.create_index("ix_invitations_code_id", "invitations", ["code_id"], unique=False)
    op.create_index(
        "ix_invitations_inviter_status",
        "invitations",
        ["inviter_customer_id", "status"],
        unique=False,
    )
    op.create_index(
        "uq_invitations_attributed_invitee",
        "invitations",
        ["invitee_customer_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('joined', 'converted', 'rewarded')"),
        postgresql_where=sa.text("status IN ('joined', 'converted', 'rewarded')"),
    )
    op.create_index(
        "uq_invitations_converting_order",
        "invitations",
        ["converting_order_id"],
        unique=True,
        sqlite_where=sa.text("converting_order_id IS NOT NULL"),
        postgresql_where=sa.text("converting_order_id IS NOT NULL"),
    )
    op.create_index(
        "uq_invitations_clicked_visitor",
        "invitations",
        ["code_id", "visitor_hash"],
        unique=True,
        sqlite_where=sa.text(_CLICKED),
        postgresql_where=sa.text(_CLICKED),
    )
    op.create_index(
        "ix_invitations_review_pending",
        "invitations",
        ["converted_at"],
        unique=False,
        sqlite_where=sa.text(_REVIEW_PENDING),
        postgresql_where=sa.text(_REVIEW_PENDING),
    )
    op.create_index("ix_invitations_visitor_hash", "invitations", ["visitor_hash"], unique=False)

    op.create_table(
        "referral_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("visitor_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["referral_codes.id"],
            name=op.f("fk_referral_clicks_code_id_referral_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_clicks")),
        sa.UniqueConstraint(
            "code_id",
            "visitor_hash",
            "day",
            name=op.f("uq_referral_clicks_code_id_visitor_hash_day"),
        ),
    )
    _create_reward_tables()
    _make_ledger_append_only()
    _seed_default_program()


def downgrade() -> None:
    _drop_ledger_triggers()
    op.drop_table("reward_ledger")
    op.drop_table("rewards")
    op.drop_table("coupons")
    op.drop_table("coupon_templates")
    op.drop_table("referral_clicks")
    op.drop_index("ix_invitations_visitor_hash", table_name="invitations")
    op.drop_index(
        "ix_invitations_review_pending",
        table_name="invitations",
        sqlite_where=sa.text(_REVIEW_PENDING),
        postgresql_where=sa.text(_REVIEW_PENDING),
    )
    op.drop_index(
        "uq_invitations_clicked_visitor",
        table_name="invitations",
        sqlite_where=sa.text(_CLICKED),
        postgresql_where=sa.text(_CLICKED),
    )
    op.drop_index(
        "uq_invitations_converting_order",
        table_name="invitations",
        sqlite_where=sa.text("converting_order_id IS NOT NULL"),
        postgresql_where=sa.text("converting_order_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_invitations_attributed_invitee",
        table_name="invitations",
        sqlite_where=sa.text("status IN ('joined', 'converted', 'rewarded')"),
        postgresql_where=sa.text("status IN ('joined', 'converted', 'rewarded')"),
    )
    op.drop_index("ix_invitations_inviter_status", table_name="invitations")
    op.drop_index("ix_invitations_code_id", table_name="invitations")

    op.drop_table("invitations")
    op.drop_index("ix_referral_codes_customer_id", table_name="referral_codes")

    op.drop_table("referral_codes")
    op.drop_table("referral_programs")


def _create_reward_tables() -> None:
    op.create_table(
        "coupon_templates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("max_discount_fen", sa.BigInteger(), nullable=True),
        sa.Column("min_spend_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(value_fen IS NOT NULL AND value_fen > 0 AND percent_off IS NULL)"
            " OR (value_fen IS NULL AND percent_off BETWEEN 1 AND 99"
            " AND max_discount_fen IS NOT NULL AND max_discount_fen > 0)",
            name=op.f("ck_coupon_templates_value"),
        ),
        sa.CheckConstraint("min_spend_fen >= 0", name=op.f("ck_coupon_templates_min_spend")),
        sa.CheckConstraint("validity_days >= 1", name=op.f("ck_coupon_templates_validity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_templates")),
        sa.UniqueConstraint("key", name=op.f("uq_coupon_templates_key")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("template_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("max_discount_fen", sa.BigInteger(), nullable=True),
        sa.Column("min_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_order_no", sa.String(length=64), nullable=True),
        sa.Column("discount_fen", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'redeemed' OR (redeemed_order_no IS NOT NULL AND redeemed_at IS NOT NULL)",
            name=op.f("ck_coupons_redeemed_order"),
        ),
        sa.CheckConstraint(
            "status <> 'revoked' OR revoke_reason IS NOT NULL",
            name=op.f("ck_coupons_revoke_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('issued', 'redeemed', 'expired', 'revoked')",
            name=op.f("ck_coupons_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_coupons_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_coupons_template_id_coupon_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_index(
        "ix_coupons_customer_status", "coupons", ["customer_id", "status"], unique=False
    )
    op.create_index("ix_coupons_status_expires", "coupons", ["status", "expires_at"], unique=False)

    op.create_table(
        "rewards",
        sa.Column("id", _ID, nullable=False),
        sa.Column("program_id", _ID, nullable=False),
        sa.Column("invitation_id", _ID, nullable=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("coupon_template_id", _ID, nullable=True),
        sa.Column("coupon_id", _ID, nullable=True),
        sa.Column("privilege", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoke_reason", sa.String(length=40), nullable=True),
        sa.Column("granted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settle_after", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(side = 'milestone' AND tier IS NOT NULL) OR (side <> 'milestone' AND tier IS NULL)",
            name=op.f("ck_rewards_tier"),
        ),
        sa.CheckConstraint(
            "kind <> 'coupon' OR coupon_template_id IS NOT NULL", name=op.f("ck_rewards_coupon")
        ),
        sa.CheckConstraint(
            "kind <> 'privilege' OR privilege IS NOT NULL", name=op.f("ck_rewards_privilege")
        ),
        sa.CheckConstraint(
            "kind IN ('coupon', 'points', 'cash', 'privilege')", name=op.f("ck_rewards_kind")
        ),
        sa.CheckConstraint(
            "side IN ('inviter', 'invitee', 'milestone')", name=op.f("ck_rewards_side")
        ),
        sa.CheckConstraint(
            "status <> 'revoked' OR revoke_reason IS NOT NULL",
            name=op.f("ck_rewards_revoke_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'settled', 'revoked')", name=op.f("ck_rewards_status")
        ),
        sa.CheckConstraint("points >= 0 AND amount_fen >= 0", name=op.f("ck_rewards_non_negative")),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_rewards_coupon_id_coupons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["coupon_template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_rewards_coupon_template_id_coupon_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_rewards_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_rewards_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["referral_programs.id"],
            name=op.f("fk_rewards_program_id_referral_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_index("ix_rewards_customer_id", "rewards", ["customer_id"], unique=False)
    op.create_index("ix_rewards_program_status", "rewards", ["program_id", "status"], unique=False)
    op.create_index(
        "ix_rewards_status_settle_after", "rewards", ["status", "settle_after"], unique=False
    )
    op.create_index(
        "uq_rewards_invitation_side",
        "rewards",
        ["invitation_id", "side"],
        unique=True,
        sqlite_where=sa.text("tier IS NULL"),
        postgresql_where=sa.text("tier IS NULL"),
    )
    op.create_index(
        "uq_rewards_milestone_tier",
        "rewards",
        ["program_id", "customer_id", "tier"],
        unique=True,
        sqlite_where=sa.text("tier IS NOT NULL AND status <> 'revoked'"),
        postgresql_where=sa.text("tier IS NOT NULL AND status <> 'revoked'"),
    )

    op.create_table(
        "reward_ledger",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("entry", sa.String(length=10), nullable=False),
        sa.Column("program_id", _ID, nullable=True),
        sa.Column("reward_id", _ID, nullable=True),
        sa.Column("coupon_id", _ID, nullable=True),
        sa.Column("points_pending", sa.BigInteger(), nullable=False),
        sa.Column("points_available", sa.BigInteger(), nullable=False),
        sa.Column("cash_pending_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "entry IN ('grant', 'settle', 'revoke', 'redeem')", name=op.f("ck_reward_ledger_entry")
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupons.id"],
            name=op.f("fk_reward_ledger_coupon_id_coupons"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_reward_ledger_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["referral_programs.id"],
            name=op.f("fk_reward_ledger_program_id_referral_programs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["rewards.id"],
            name=op.f("fk_reward_ledger_reward_id_rewards"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_ledger")),
    )
    op.create_index("ix_reward_ledger_customer_id", "reward_ledger", ["customer_id"], unique=False)
    op.create_index(
        "ix_reward_ledger_program_created",
        "reward_ledger",
        ["program_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "uq_reward_ledger_coupon_redeem",
        "reward_ledger",
        ["coupon_id"],
        unique=True,
        sqlite_where=sa.text("entry = 'redeem' AND coupon_id IS NOT NULL"),
        postgresql_where=sa.text("entry = 'redeem' AND coupon_id IS NOT NULL"),
    )
    op.create_index(
        "uq_reward_ledger_reward_entry",
        "reward_ledger",
        ["reward_id", "entry"],
        unique=True,
        sqlite_where=sa.text("reward_id IS NOT NULL"),
        postgresql_where=sa.text("reward_id IS NOT NULL"),
    )


_APPEND_ONLY_MESSAGE = "reward_ledger is append-only"


def _make_ledger_append_only() -> None:
    """Balances are sums over the ledger, so a changed or deleted row would silently change
    money owed: the database refuses both."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reward_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END $$"
        )
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER reward_ledger_no_{action.lower()} BEFORE {action} "
                "ON reward_ledger FOR EACH ROW EXECUTE FUNCTION reward_ledger_append_only()"
            )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER reward_ledger_no_{action.lower()} BEFORE {action} ON reward_ledger "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
        )


def _drop_ledger_triggers() -> None:
    for action in ("update", "delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS reward_ledger_no_{action} ON reward_ledger")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS reward_ledger_no_{action}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reward_ledger_append_only()")


# The program that works before anyone configures one (issue 4): both sides get a coupon, the
# inviter a bonus at the 3rd conversion. A copy, not an import: a migration must not change
# when application code does. Priority 1000 lets any configured program come first.
_DEFAULT_TEMPLATES = (
    ("friend_20", "好友专享券 ¥20", 2000, 10000),
    ("inviter_20", "邀请奖励券 ¥20", 2000, 10000),
    ("milestone_3_50", "3人达成奖 ¥50", 5000, 20000),
)
_ALL_CHANNELS = [
    "link",
    "wecom_contact",
    "wecom_group",
    "wechat_qr",
    "feishu_group",
    "api",
    "console",
]


def _seed_default_program() -> None:
    now = datetime.now(UTC)
    templates = sa.table(
        "coupon_templates",
        sa.column("key", sa.String()),
        sa.column("name", sa.String()),
        sa.column("value_fen", sa.BigInteger()),
        sa.column("min_spend_fen", sa.BigInteger()),
        sa.column("validity_days", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.base.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        templates,
        [
            {
                "key": key,
                "name": name,
                "value_fen": value,
                "min_spend_fen": min_spend,
                "validity_days": 30,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for key, name, value, min_spend in _DEFAULT_TEMPLATES
        ],
    )
    programs = sa.table(
        "referral_programs",
        *(sa.column(name, sa.String()) for name in ("key", "name", "title", "offer_text")),
        *(
            sa.column(name, _JSON)
            for name in (
                "segment",
                "channels",
                "inviter_reward",
                "invitee_reward",
                "milestones",
                "fraud_rules",
            )
        ),
        *(
            sa.column(name, sa.Integer())
            for name in ("attribution_window_days", "hold_days", "priority", "version")
        ),
        sa.column("timezone", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", models.base.UTCDateTime(timezone=True)),
        sa.column("updated_at", models.base.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(
        programs,
        [
            {
                "key": "default",
                "name": "老带新默认活动",
                "title": "邀请好友，双方各得¥20券",
                "offer_text": (
                    "好友通过你的专属邀请码加入并完成首单，你和好友各得一张¥20优惠券；"
                    "累计邀请3位好友成交，再得¥50奖励券。"
                ),
                "segment": {},
                "channels": _ALL_CHANNELS,
                "inviter_reward": {"kind": "coupon", "coupon_template": "inviter_20"},
                "invitee_reward": {"kind": "coupon", "coupon_template": "friend_20"},
                "milestones": {
                    "tiers": [
                        {"at": 3, "reward": {"kind": "coupon", "coupon_template": "milestone_3_50"}}
                    ]
                },
                "fraud_rules": {},
                "attribution_window_days": 30,
                "hold_days": 7,
                "priority": 1000,
                "version": 1,
                "timezone": "Asia/Shanghai",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
