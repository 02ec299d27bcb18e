"""referral

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:50:45.918897
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
        sa.Column("clicked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("joined_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("converted_at", models.base.UTCDateTime(timezone=True), nullable=True),
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


def downgrade() -> None:
    op.drop_table("referral_clicks")
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
