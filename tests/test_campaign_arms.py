"""The control and holdout buckets: computed in SQL, the same on SQLite and PostgreSQL as in
plain integer arithmetic, with the configured shares and independent of each other."""

from __future__ import annotations

from campaign_world import reference_hash
from sqlalchemy import Integer, column, select, table, text

from models.campaigns.arms import control_bucket, customer_hash, holdout_bucket
from models.db import Database

IDS = 100_000
CONTROL_PCT = 5
HOLDOUT_PCT = 10


async def _buckets(db: Database, campaign_id: int) -> list[tuple[int, int, int]]:
    """(id, control bucket, holdout bucket) for ids 1…IDS, computed by the database."""
    ids = table("ids", column("n", Integer))
    hashed = customer_hash(ids.c.n)
    counting = text(
        f"WITH RECURSIVE ids(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ids WHERE n < {IDS}) "
    )
    query = select(ids.c.n, control_bucket(hashed), holdout_bucket(hashed, campaign_id))
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as conn:
        rows = await conn.execute(text(counting.text + sql))
        return [(int(n), int(c), int(h)) for n, c, h in rows.all()]


async def test_buckets_match_plain_arithmetic_on_every_backend(db: Database) -> None:
    held_out = []
    for campaign_id in (1, 2):
        rows = await _buckets(db, campaign_id)
        assert len(rows) == IDS
        offset = campaign_id * 37 % 100
        expected = [
            (n, reference_hash(n) % 100, (reference_hash(n) // 100 + offset) % 100)
            for n in range(1, IDS + 1)
        ]
        assert rows == expected
        held_out.append({n for n, _, h in rows if h < HOLDOUT_PCT})
    # Each campaign holds out its own customers (a different window of the same digits).
    assert not held_out[0] & held_out[1]


async def test_shares_within_a_point_and_holdout_independent_of_control(db: Database) -> None:
    for campaign_id in (1, 7):
        rows = await _buckets(db, campaign_id)
        control = [h < HOLDOUT_PCT for _, c, h in rows if c < CONTROL_PCT]
        outside = [h < HOLDOUT_PCT for _, c, h in rows if c >= CONTROL_PCT]
        assert abs(len(control) / IDS * 100 - CONTROL_PCT) <= 1
        holdout = sum(control) + sum(outside)
        assert abs(holdout / IDS * 100 - HOLDOUT_PCT) <= 1
        # Independence: the holdout takes the same share inside the control group as outside.
        assert abs(sum(control) / len(control) * 100 - HOLDOUT_PCT) <= 1
        assert abs(sum(outside) / len(outside) * 100 - HOLDOUT_PCT) <= 1
