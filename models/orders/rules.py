"""The state rules of an order, as SQL expressions shared by every path that writes orders.

The HTTP API writes one order with literal values, the importer a whole staged file with
columns; both build their INSERT and UPDATE from these functions, so a rule cannot be changed
on one path and not on the other (see models/orders/__init__.py for the rules in prose).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from models.base import UTCDateTime

PAID, REFUNDED = "paid", "refunded"


def at(now: datetime) -> ColumnElement[datetime]:
    return literal(now, UTCDateTime())


def new_status(given: Any) -> ColumnElement[str]:
    """A new order without a status is paid."""
    return func.coalesce(given, PAID)


def new_refunded_at(given_status: Any, now: datetime) -> ColumnElement[Any]:
    """A new order given as refunded is stamped refunded now."""
    return case((new_status(given_status) == REFUNDED, at(now)))


def next_status(given: Any, stored: Any) -> ColumnElement[str]:
    """A status not given keeps the stored one; paid → refunded and refunded → paid (a
    correction) are both accepted."""
    return func.coalesce(given, stored)


def next_refunded_at(
    given_status: Any, stored_status: Any, stored_refunded_at: Any, now: datetime
) -> ColumnElement[Any]:
    """paid → refunded stamps the refund; a refund stays dated by its first report; refunded
    → paid clears it."""
    return case(
        (
            next_status(given_status, stored_status) == REFUNDED,
            func.coalesce(stored_refunded_at, at(now)),
        )
    )


def changed(
    *,
    stored_amount: Any,
    stored_paid_at: Any,
    stored_status: Any,
    amount: Any,
    paid_at: Any,
    status: Any,
) -> ColumnElement[bool]:
    """Whether the given values change the stored order (a status not given changes nothing)."""
    return or_(
        stored_amount != amount,
        stored_paid_at != paid_at,
        and_(status.is_not(None), stored_status != status),
    )
