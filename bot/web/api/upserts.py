"""What the write endpoints do to the database, without HTTP: upsert an order or a customer,
store activity events. Each runs inside the caller's unit of work and never commits; a refusal
is an `ApiError` (the view's transaction then rolls back, so nothing half-done is kept).

Orders are the order service's (models/orders): this module only maps its answers to HTTP.
Customer upserts are race-safe without locks held across the request: `INSERT … ON CONFLICT DO
NOTHING` decides who created a row, the loser reads the winner's row (`FOR UPDATE` on
PostgreSQL) and updates it. Referral effects go through the domain layer (`models.referral`),
which makes them idempotent with database constraints, so replaying a request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.api.inputs import CustomerIn, EventIn, OrderIn
from bot.web.api.problems import ApiError
from models.activity import ActivityEvent
from models.customer import Customer
from models.orders import OrderInput, OrderOfAnotherCustomer, record_order
from models.referral.attribution import record_join
from models.referral.codes import find_code
from models.upsert import dialect_insert, ensure_customer


@dataclass(frozen=True)
class Upserted:
    id: int
    created: bool


async def ensure_code_exists(session: AsyncSession, code: str | None, locale: str) -> None:
    """An unknown code is a client error (422); an expired one is the domain's business
    (it records the attempt as rejected with reason `expired`)."""
    if code is None:
        return
    if await find_code(session, code) is None:
        message = "unknown referral code" if locale == "en" else "邀请码不存在"
        raise ApiError(
            422,
            "validation_failed",
            f"字段有误：referral_code / invalid fields: referral_code ({code})",
            [{"field": "referral_code", "code": "unknown_code", "message": message}],
        )


async def upsert_order(session: AsyncSession, data: OrderIn, now: datetime) -> Upserted:
    """The order service decides; this maps its refusal to HTTP."""
    try:
        done = await record_order(
            session,
            OrderInput(
                order_no=data.order_no,
                customer_external_id=data.customer_external_id,
                amount_fen=data.fen,
                paid_at=data.paid_at,
                status=data.status,
                referral_code=data.referral_code,
            ),
            now,
        )
    except OrderOfAnotherCustomer as refused:
        raise ApiError(
            409,
            "order_customer_conflict",
            f"订单号 {refused.order_no} 已属于客户 {refused.stored_customer}，不能改到 "
            f"{data.customer_external_id} / order_no {refused.order_no} belongs to customer "
            f"{refused.stored_customer}",
        ) from None
    return Upserted(done.id, created=done.created)


_CUSTOMER_FIELDS = ("name", "phone", "region", "industry")


async def upsert_customer(session: AsyncSession, data: CustomerIn, now: datetime) -> Upserted:
    given = data.model_fields_set
    values = {name: getattr(data, name) for name in _CUSTOMER_FIELDS if name in given}
    status = data.status or ("closed" if data.closed_at else "open")
    new_id, created = await ensure_customer(
        session,
        data.external_id,
        source="api",
        now=now,
        status=status,
        closed_at=(data.closed_at or now) if status == "closed" else None,
        created_at=data.created_at,
        **values,
    )
    if not created:
        customer = (
            await session.execute(
                select(Customer).where(Customer.external_id == data.external_id).with_for_update()
            )
        ).scalar_one()
        for name, value in values.items():
            if getattr(customer, name) != value:
                setattr(customer, name, value)
        if data.created_at is not None and customer.created_at != data.created_at:
            customer.created_at = data.created_at
        if data.closed_at is not None and customer.closed_at != data.closed_at:
            customer.status, customer.closed_at = "closed", data.closed_at
        elif data.status == "closed" and customer.status != "closed":
            customer.status, customer.closed_at = "closed", now
        elif data.status == "open" and customer.status != "open":
            customer.status, customer.closed_at = "open", None
        await session.flush()
        new_id = customer.id
    if data.referral_code is not None:
        await record_join(
            session,
            code=data.referral_code,
            invitee_customer_id=new_id,
            channel="api",
            now=now,
        )
    return Upserted(new_id, created=created)


@dataclass(frozen=True)
class StoredEvents:
    ids: list[int]  # in request order; a repeated event has its first row's id
    inserted: int


async def store_events(
    session: AsyncSession, items: list[EventIn], now: datetime, locale: str, *, listed: bool
) -> StoredEvents:
    """All events or none. Unknown customers are refused (422 naming each item): an event for
    a customer nobody told us about is most likely a wrong id, and there is no bare record to
    attach it to that would mean anything."""
    wanted = {item.customer_external_id for item in items}
    found_customers = await session.execute(
        select(Customer.external_id, Customer.id).where(Customer.external_id.in_(wanted))
    )
    known = {external_id: customer_id for external_id, customer_id in found_customers.all()}
    unknown = [
        {
            "field": f"[{index}].customer_external_id" if listed else "customer_external_id",
            "code": "unknown_customer",
            "message": ("unknown customer: " if locale == "en" else "客户不存在：")
            + item.customer_external_id,
        }
        for index, item in enumerate(items)
        if item.customer_external_id not in known
    ]
    if unknown:
        fields = "、".join(problem["field"] for problem in unknown)
        raise ApiError(422, "validation_failed", f"字段有误：{fields} / invalid fields", unknown)
    rows = [
        {
            "customer_id": known[item.customer_external_id],
            "kind": item.kind,
            "occurred_at": item.occurred_at,
            "detail": item.detail or "",
            "created_at": now,
        }
        for item in items
    ]
    result = await session.execute(
        dialect_insert(session, ActivityEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["customer_id", "kind", "occurred_at", "detail"])
    )
    inserted = max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]
    keys = [(r["customer_id"], r["kind"], r["occurred_at"], r["detail"]) for r in rows]
    e = ActivityEvent
    found = (
        await session.execute(
            select(e.id, e.customer_id, e.kind, e.occurred_at, e.detail).where(
                e.customer_id.in_({key[0] for key in keys}),
                e.occurred_at.in_({key[2] for key in keys}),
            )
        )
    ).all()
    by_key = {(row.customer_id, row.kind, row.occurred_at, row.detail): row.id for row in found}
    return StoredEvents(ids=[by_key[key] for key in keys], inserted=inserted)
