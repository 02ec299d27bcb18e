"""channels: inbound events, shared platform tokens, outbound message log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'working', 'done', 'failed')",
            name=op.f("ck_inbound_events_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint(
            "platform",
            "app_id",
            "event_id",
            name=op.f("uq_inbound_events_platform_app_id_event_id"),
        ),
    )
    op.create_index("ix_inbound_events_status_started", "inbound_events", ["status", "started_at"])
    op.create_table(
        "outbound_messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("platform_message_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'outside_window', 'rate_limited', 'failed')",
            name=op.f("ck_outbound_messages_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbound_messages_idempotency_key")),
    )
    op.create_index(
        "ix_outbound_messages_platform_created",
        "outbound_messages",
        ["platform", "created_at"],
    )
    op.create_table(
        "platform_tokens",
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "app_id", "kind", name=op.f("pk_platform_tokens")),
    )


def downgrade() -> None:
    op.drop_table("platform_tokens")
    op.drop_index("ix_outbound_messages_platform_created", table_name="outbound_messages")
    op.drop_table("outbound_messages")
    op.drop_index("ix_inbound_events_status_started", table_name="inbound_events")
    op.drop_table("inbound_events")
