"""Deterministic arms from customer ids, computed inside SQL the same way on every backend.

A customer's bucket must not depend on the run, the process or the database engine: the global
control group is the same customers for every campaign and every run (Braze's global control
group), and a campaign's holdout the same customers for each of its runs. So buckets come from
an integer hash of the customer id, written in SQL that SQLite and PostgreSQL evaluate alike:
only `+ * / % & >>` on non-negative 64-bit integers, every intermediate value below 2^61
(SQLite turns an overflowing product into a float, PostgreSQL raises). No `random()`, no
engine hash function.

The hash is a 32-bit add-shift-multiply mix. Its value's last two decimal digits are the
control bucket (0–99: control when below `control_pct`), the two digits above them the holdout
bucket, shifted per campaign (below `holdout_pct`: holdout). Two digits of one well-mixed value
are independent of each other, so the holdout takes the same share inside and outside the
control group; the shift gives each campaign its own holdout. tests/test_campaign_arms.py
checks the shares (±1 point on 100k ids), their independence, and the same buckets on both
backends as in plain Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, literal_column
from sqlalchemy.sql.elements import ColumnElement

_MASK = 0xFFFFFFFF
_MULTIPLIER = 0x45D9F3B
_CAMPAIGN_STRIDE = 37  # coprime to 100: campaigns 1…100 get 100 different holdout windows


def _const(value: int) -> ColumnElement[int]:
    # Written into the SQL: bound parameters would be typed int4 by asyncpg.
    return literal_column(str(value), BigInteger)


def _mix_round(x: ColumnElement[Any]) -> ColumnElement[Any]:
    """((x + (x >> 16)) * M) & 0xFFFFFFFF; below 2^33 · 2^27 before the mask."""
    shifted = x.op(">>")(_const(16)).self_group()
    return ((x + shifted).self_group() * _const(_MULTIPLIER)).op("&")(_const(_MASK)).self_group()


def customer_hash(customer_id: ColumnElement[Any]) -> ColumnElement[int]:
    """A well-mixed value in [0, 2^33) of a customer id."""
    x: ColumnElement[Any] = customer_id.op("&")(_const(_MASK)).self_group()
    x = _mix_round(_mix_round(x))
    return (x + x.op(">>")(_const(16)).self_group()).self_group()


def control_bucket(hashed: ColumnElement[Any]) -> ColumnElement[int]:
    """0–99, the same for every campaign: the global control group is `< control_pct`."""
    return (hashed % _const(100)).self_group()


def holdout_bucket(hashed: ColumnElement[Any], campaign_id: int) -> ColumnElement[int]:
    """0–99, independent of the control bucket: the campaign's holdout is `< holdout_pct`."""
    offset = (campaign_id * _CAMPAIGN_STRIDE) % 100
    return (((hashed // _const(100)).self_group() + _const(offset)) % _const(100)).self_group()
