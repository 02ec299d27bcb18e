"""Orders: the one service through which every order is created or changed.

The HTTP API (`POST /api/v1/orders`), the importer (`fission import orders`) and any other
writer go through here; the web layer only parses and renders. The rules:

**States.** An order is `paid` or `refunded`; money is integer fen. A new order given without
a status is paid. A later report without a status keeps the stored one. paid → refunded
stamps `refunded_at` (the first report of the refund dates it; reporting it again changes
nothing). refunded → paid is accepted as a correction (a refund that did not go through, a
wrong export) and clears `refunded_at`.

**One customer per order number.** An order number belongs to the customer it was first stored
for. A report naming another customer is refused — 409 through the API, a rejected row through
the importer — and nothing of it is stored: order numbers from two shops or two systems can
collide, and moving an order silently would move a conversion and its rewards with it.

**Referral effects** (models/referral/recheck.py), for every customer whose orders were created
or changed, in the same transaction:
- a paid order converts the customer's joined invitation (their first paid order since the
  join of at least the program's minimum, within the attribution window);
- a refund voids an unsettled conversion — inside the hold, past it but not yet settled, or
  held for fraud review — with reason `order_refunded`: pending rewards revoked, milestones
  re-checked. A settled conversion is final;
- a changed `paid_at` or amount on a converted order re-checks the conversion: the attribution
  window, the minimum order, the customer not having paid before the join. If the answer
  changes, the pending rewards are revoked (`order_changed`) and the invitation is decided
  again; milestone tiers are re-checked either way;
- refunded → paid restores a conversion its refund voided, if the customer's attribution is
  still free: decided again like a fresh conversion, with a full hold from the correction and
  fresh rewards. Revoked rewards stay revoked; one live reward per invitation side and coupons
  issued only at settlement mean a refund flipping back and forth never pays twice.
Settlement (models/referral/settle.py) pays a reward only if its converting order is still paid.

The importer stays set-based: it stages the file, refuses rows that would move an order, locks
the customers whose referral state the file can touch, writes all orders with a few statements
built from `rules.py` (the same expressions this module's single-order path uses), and hands
the touched customers to `recheck_customers` — one pass over that set, not over the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, String, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models.activity import Order
from models.base import UTCDateTime
from models.customer import Customer
from models.orders import rules
from models.referral.attribution import on_order_paid
from models.referral.locks import lock_rows
from models.referral.recheck import RecheckResult, recheck_invitee
from models.referral.tables import Invitation
from models.upsert import dialect_insert, ensure_customer


@dataclass(frozen=True)
class OrderInput:
    order_no: str
    customer_external_id: str
    amount_fen: int
    paid_at: datetime
    status: str | None = None  # None: keep the stored status (paid for a new order)
    referral_code: str | None = None  # a touch at the moment of payment


@dataclass(frozen=True)
class RecordedOrder:
    id: int
    created: bool
    changed: bool


class OrderOfAnotherCustomer(Exception):
    """The order number is stored for another customer; nothing was written."""

    def __init__(self, order_no: str, stored_customer: str) -> None:
        super().__init__(order_no, stored_customer)
        self.order_no = order_no
        self.stored_customer = stored_customer


async def record_order(session: AsyncSession, data: OrderInput, now: datetime) -> RecordedOrder:
    """Create or change one order and apply its referral effects, in the caller's unit of
    work (never commits). Raises `OrderOfAnotherCustomer`."""
    customer_id, _ = await ensure_customer(
        session, data.customer_external_id, source="order", now=now
    )
    # The referral domain's lock order: the customer's row first, then anything else.
    await lock_rows(session, Customer, [customer_id])
    status = literal(data.status, String(10))
    new_id = await session.scalar(
        dialect_insert(session, Order.__table__)
        .values(
            order_no=data.order_no,
            customer_id=customer_id,
            amount_fen=data.amount_fen,
            paid_at=data.paid_at,
            status=rules.new_status(status),
            refunded_at=rules.new_refunded_at(status, now),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_no"])
        .returning(Order.id)
    )
    created, changed = new_id is not None, new_id is not None
    if new_id is None:
        stored = (
            await session.execute(
                select(Order.id, Order.customer_id, Customer.external_id)
                .join(Customer, Customer.id == Order.customer_id)
                .where(Order.order_no == data.order_no)
                .with_for_update(of=Order, key_share=True)
            )
        ).one()
        if stored.customer_id != customer_id:
            raise OrderOfAnotherCustomer(data.order_no, stored.external_id)
        new_id = stored.id
        o = Order
        amount = literal(data.amount_fen, BigInteger())
        paid_at = literal(data.paid_at, UTCDateTime())
        result = await session.execute(
            update(Order)
            .where(
                o.id == new_id,
                rules.changed(
                    stored_amount=o.amount_fen,
                    stored_paid_at=o.paid_at,
                    stored_status=o.status,
                    amount=amount,
                    paid_at=paid_at,
                    status=status,
                ),
            )
            .values(
                amount_fen=amount,
                paid_at=paid_at,
                status=rules.next_status(status, o.status),
                refunded_at=rules.next_refunded_at(status, o.status, o.refunded_at, now),
                updated_at=rules.at(now),
            )
            .execution_options(synchronize_session=False)
        )
        changed = result.rowcount == 1  # type: ignore[attr-defined]
    order = await session.get_one(Order, new_id, populate_existing=True)
    if data.referral_code is not None and order.status == rules.PAID:
        await on_order_paid(session, order=order, referral_code=data.referral_code, now=now)
    await recheck_customers(session, [customer_id], now)
    return RecordedOrder(order.id, created=created, changed=changed)


def referral_sensitive(customer_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Customers whose referral state an order change can move: they hold a joined or an
    unsettled converted invitation, or one voided by a refund (a correction may restore it)."""
    i = Invitation
    return exists().where(
        i.invitee_customer_id == customer_id,
        or_(
            i.status.in_(("joined", "converted")),
            (i.status == "rejected") & (i.reject_reason == "order_refunded"),
        ),
    )


async def recheck_customers(
    session: AsyncSession, customer_ids: Iterable[int], now: datetime
) -> list[RecheckResult]:
    """The referral effects of order changes, for every customer in `customer_ids` (each
    locked in id order, the referral domain's lock order)."""
    results = []
    for customer_id in sorted(set(customer_ids)):
        await lock_rows(session, Customer, [customer_id])
        results.append(await recheck_invitee(session, customer_id, now))
    return results


__all__ = [
    "OrderInput",
    "OrderOfAnotherCustomer",
    "RecordedOrder",
    "recheck_customers",
    "record_order",
    "referral_sensitive",
]
