"""The append-only reward ledger: one row per grant, settlement, revocation or redemption.

Balances are sums over the rows (never a stored counter), so they cannot drift from the
history; the database refuses UPDATE and DELETE on the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.referral.reward_tables import RewardLedgerEntry


@dataclass(frozen=True)
class Balances:
    points_available: int = 0
    points_pending: int = 0
    cash_pending_fen: int = 0
    cash_payable_fen: int = 0


def reward_entry(
    entry: str, reward: Mapping[str, Any], now: datetime, note: str = ""
) -> dict[str, Any]:
    """The ledger row for a reward's grant, settle or revoke (see RewardLedgerEntry)."""
    points = int(reward["points"]) if reward["kind"] == "points" else 0
    cash = int(reward["amount_fen"]) if reward["kind"] == "cash" else 0
    deltas = {
        "grant": (points, 0, cash, 0),
        "settle": (-points, points, -cash, cash),
        "revoke": (-points, 0, -cash, 0),
    }[entry]
    return {
        "customer_id": reward["customer_id"],
        "entry": entry,
        "program_id": reward["program_id"],
        "reward_id": reward["id"],
        "coupon_id": reward.get("coupon_id"),
        "points_pending": deltas[0],
        "points_available": deltas[1],
        "cash_pending_fen": deltas[2],
        "cash_payable_fen": deltas[3],
        "note": note[:200],
        "created_at": now,
    }


def redeem_entry(customer_id: int, coupon_id: int, note: str, now: datetime) -> dict[str, Any]:
    """The record of a coupon redemption; no balance moves."""
    return {
        "customer_id": customer_id,
        "entry": "redeem",
        "program_id": None,
        "reward_id": None,
        "coupon_id": coupon_id,
        "points_pending": 0,
        "points_available": 0,
        "cash_pending_fen": 0,
        "cash_payable_fen": 0,
        "note": note[:200],
        "created_at": now,
    }


async def append(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> int:
    batch = list(rows)
    if batch:
        await session.execute(insert(RewardLedgerEntry), batch)
    return len(batch)


async def balances(session: AsyncSession, customer_id: int) -> Balances:
    """A customer's points and cash, summed over their ledger rows."""
    stmt = select(
        func.coalesce(func.sum(RewardLedgerEntry.points_available), 0),
        func.coalesce(func.sum(RewardLedgerEntry.points_pending), 0),
        func.coalesce(func.sum(RewardLedgerEntry.cash_pending_fen), 0),
        func.coalesce(func.sum(RewardLedgerEntry.cash_payable_fen), 0),
    ).where(RewardLedgerEntry.customer_id == customer_id)
    row = (await session.execute(stmt)).one()
    return Balances(*(int(value) for value in row))
