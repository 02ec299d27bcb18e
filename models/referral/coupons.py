"""Coupons: issue from a template, redeem idempotently, expire, revoke.

States: issued → redeemed | expired | revoked. Every transition is a conditional UPDATE on the
current state, so two redemptions racing for one coupon cannot both win; the loser re-reads and
reports what happened (`already_redeemed_same_order` when it was the same order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity import Order
from models.referral import ledger
from models.referral.codes import COUPON_CODE_LENGTH, insert_ignoring_conflicts, new_code
from models.referral.codes import normalize_code as _normalize
from models.referral.reward_tables import Coupon, CouponTemplate

RedeemOutcome = Literal[
    "redeemed",
    "already_redeemed_same_order",
    "redeemed_elsewhere",
    "expired",
    "revoked",
    "unknown",
    "below_min_spend",
]
_ATTEMPTS = 20
_CHUNK = 500  # rows per INSERT: well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class CouponView:
    code: str
    name: str
    value_fen: int | None
    percent_off: int | None
    max_discount_fen: int | None
    min_spend_fen: int
    status: str  # as of the moment it was read: an issued coupon past expiry shows "expired"
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    redeemed_order_no: str | None

    @classmethod
    def of(cls, coupon: Coupon, now: datetime) -> CouponView:
        status = coupon.status
        if status == "issued" and coupon.expires_at <= now:
            status = "expired"
        return cls(
            code=coupon.code,
            name=coupon.name,
            value_fen=coupon.value_fen,
            percent_off=coupon.percent_off,
            max_discount_fen=coupon.max_discount_fen,
            min_spend_fen=coupon.min_spend_fen,
            status=status,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            redeemed_at=coupon.redeemed_at,
            redeemed_order_no=coupon.redeemed_order_no,
        )


@dataclass(frozen=True)
class RedeemResult:
    outcome: RedeemOutcome
    coupon: CouponView | None = None
    discount_fen: int | None = None  # known when the order is known

    @property
    def ok(self) -> bool:
        return self.outcome in ("redeemed", "already_redeemed_same_order")


def discount_for(coupon: Coupon, amount_fen: int) -> int:
    """What the coupon takes off an order of `amount_fen` (never more than the order)."""
    if coupon.value_fen is not None:
        return min(coupon.value_fen, amount_fen)
    off = amount_fen * (coupon.percent_off or 0) // 100
    return min(off, coupon.max_discount_fen or off, amount_fen)


async def template_by_key(session: AsyncSession, key: str) -> CouponTemplate | None:
    stmt = select(CouponTemplate).where(CouponTemplate.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def issue_coupon(
    session: AsyncSession,
    *,
    template: CouponTemplate,
    customer_id: int,
    now: datetime,
    source: str = "referral",
) -> Coupon:
    """A new coupon for the customer, valid `template.validity_days` from `now`."""
    (coupon_id,) = await issue_coupons(
        session, grants=[(template, customer_id)], now=now, source=source
    )
    coupon = await session.get(Coupon, coupon_id)
    assert coupon is not None
    return coupon


async def issue_coupons(
    session: AsyncSession,
    *,
    grants: Sequence[tuple[CouponTemplate, int]],
    now: datetime,
    source: str = "referral",
) -> list[int]:
    """Issue one coupon per (template, customer) with multi-row INSERTs; returns the coupon ids
    in the order of `grants`. A code that collides with an existing one (astronomically rare)
    is drawn again for just that row."""
    dialect = session.get_bind().dialect.name
    ids: list[int | None] = [None] * len(grants)
    todo = list(range(len(grants)))
    for _ in range(_ATTEMPTS):
        if not todo:
            return [i for i in ids if i is not None]
        for chunk in (todo[i : i + _CHUNK] for i in range(0, len(todo), _CHUNK)):
            codes = {new_code(COUPON_CODE_LENGTH): n for n in chunk}
            if len(codes) < len(chunk):
                continue  # two equal codes in one batch: draw the whole chunk again
            rows = [_coupon_row(code, *grants[n], now, source) for code, n in codes.items()]
            stmt = (
                insert_ignoring_conflicts(dialect, Coupon.__table__)
                .values(rows)
                .returning(Coupon.__table__.c.id, Coupon.__table__.c.code)
            )
            for coupon_id, code in (await session.execute(stmt)).all():
                ids[codes[code]] = coupon_id
        todo = [n for n in todo if ids[n] is None]
    if todo:
        raise RuntimeError(f"could not draw free coupon codes in {_ATTEMPTS} attempts")
    return [i for i in ids if i is not None]


def _coupon_row(
    code: str, template: CouponTemplate, customer_id: int, now: datetime, source: str
) -> dict[str, object]:
    return {
        "code": code,
        "template_id": template.id,
        "customer_id": customer_id,
        "source": source,
        "status": "issued",
        "name": template.name,
        "value_fen": template.value_fen,
        "percent_off": template.percent_off,
        "max_discount_fen": template.max_discount_fen,
        "min_spend_fen": template.min_spend_fen,
        "issued_at": now,
        "expires_at": template.expires_at(now),
        "discount_fen": None,
        "redeemed_at": None,
        "redeemed_order_no": None,
        "revoked_at": None,
        "revoke_reason": None,
        "created_at": now,
        "updated_at": now,
    }


async def find_coupon(session: AsyncSession, code: str) -> Coupon | None:
    normalized = _normalize(code)
    if normalized is None:
        return None
    stmt = select(Coupon).where(Coupon.code == normalized).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def redeem_coupon(
    session: AsyncSession, *, code: str, order_no: str, now: datetime
) -> RedeemResult:
    """Redeem a coupon against an order. Posting the same (coupon, order) again answers
    `already_redeemed_same_order` and changes nothing. When the order is known, a spend below
    the coupon's minimum is refused and the discount is computed."""
    for _ in range(2):
        coupon = await find_coupon(session, code)
        if coupon is None:
            return RedeemResult("unknown")
        settled = _settled_outcome(coupon, order_no, now)
        if settled is not None:
            if settled == "expired" and coupon.status == "issued":
                await _mark_expired(session, coupon.id, now)
                await session.refresh(coupon)
            return RedeemResult(settled, CouponView.of(coupon, now))
        order = await _order(session, order_no)
        discount = discount_for(coupon, order.amount_fen) if order is not None else None
        if order is not None and order.amount_fen < coupon.min_spend_fen:
            return RedeemResult("below_min_spend", CouponView.of(coupon, now), discount)
        stmt = (
            update(Coupon)
            .execution_options(synchronize_session=False)
            .where(
                Coupon.id == coupon.id,
                Coupon.status == "issued",
                Coupon.expires_at > now,
            )
            .values(
                status="redeemed",
                redeemed_at=now,
                redeemed_order_no=order_no,
                discount_fen=discount,
                updated_at=now,
            )
        )
        if (await session.execute(stmt)).rowcount == 1:  # type: ignore[attr-defined]
            await ledger.append(
                session,
                [ledger.redeem_entry(coupon.customer_id, coupon.id, f"order {order_no}", now)],
            )
            await session.refresh(coupon)
            return RedeemResult("redeemed", CouponView.of(coupon, now), discount)
        # Lost a race (another redemption, or expiry at this very instant): read it again.
    coupon = await find_coupon(session, code)
    assert coupon is not None
    return RedeemResult(
        _settled_outcome(coupon, order_no, now) or "expired", CouponView.of(coupon, now)
    )


def _settled_outcome(coupon: Coupon, order_no: str, now: datetime) -> RedeemOutcome | None:
    if coupon.status == "redeemed":
        return (
            "already_redeemed_same_order"
            if coupon.redeemed_order_no == order_no
            else "redeemed_elsewhere"
        )
    if coupon.status == "revoked":
        return "revoked"
    if coupon.status == "expired" or coupon.expires_at <= now:
        return "expired"
    return None


async def _order(session: AsyncSession, order_no: str) -> Order | None:
    stmt = select(Order).where(Order.order_no == order_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _mark_expired(session: AsyncSession, coupon_id: int, now: datetime) -> None:
    await session.execute(
        update(Coupon)
        .execution_options(synchronize_session=False)
        .where(Coupon.id == coupon_id, Coupon.status == "issued")
        .values(status="expired", updated_at=now)
    )


async def expire_coupons(session: AsyncSession, now: datetime) -> int:
    """Mark every issued coupon past its expiry as expired (one set-based UPDATE)."""
    stmt = (
        update(Coupon)
        .execution_options(synchronize_session=False)
        .where(Coupon.status == "issued", Coupon.expires_at <= now)
        .values(status="expired", updated_at=now)
    )
    return int((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def revoke_coupon(
    session: AsyncSession, *, code: str, reason: str, now: datetime
) -> Coupon | None:
    """Staff withdraw an unused coupon. Returns the coupon (revoked, or unchanged when it was
    no longer issued), or None for an unknown code."""
    coupon = await find_coupon(session, code)
    if coupon is None:
        return None
    await session.execute(
        update(Coupon)
        .execution_options(synchronize_session=False)
        .where(Coupon.id == coupon.id, Coupon.status == "issued")
        .values(status="revoked", revoked_at=now, revoke_reason=reason[:40], updated_at=now)
    )
    await session.refresh(coupon)
    return coupon
