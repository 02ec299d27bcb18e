"""Orders under one service: a reward per invitation side while it lives, and a minimum order.

- `uq_rewards_invitation_side` allowed one inviter and one invitee reward per invitation,
  ever. A conversion undone by a refund and restored by a correction (refunded → paid), or
  re-decided after its order's date or amount changed, is granted fresh rewards; the revoked
  ones stay revoked with their ledger rows. The index now covers live rewards only (pending
  or settled), like `uq_rewards_milestone_tier`: still never two live rewards for one side.
- `referral_programs.min_order_fen`: the smallest order that converts an invitation (0 = any
  paid order), so lowering a converted order's amount is re-checked against something.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "tier IS NULL AND status <> 'revoked'"
_EVER = "tier IS NULL"


def _side_index(where: str) -> None:
    op.create_index(
        "uq_rewards_invitation_side",
        "rewards",
        ["invitation_id", "side"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("uq_rewards_invitation_side", table_name="rewards")
    _side_index(_LIVE)
    with op.batch_alter_table("referral_programs") as batch:
        batch.add_column(
            sa.Column("min_order_fen", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_programs") as batch:
        batch.drop_column("min_order_fen")
    op.drop_index("uq_rewards_invitation_side", table_name="rewards")
    _side_index(_EVER)
