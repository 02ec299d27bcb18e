"""POST /api/v1/coupons/{code}/redeem: idempotent per order, every refusal a clear status."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api_support import AUTH, NOW, Clock, add_customer, web_client
from sqlalchemy import select

from models.db import Database
from models.referral.coupons import issue_coupon, revoke_coupon, template_by_key
from models.referral.reward_tables import Coupon


async def _coupon(db: Database, customer_id: int) -> str:
    """A "好友专享券 ¥20" (2,000 fen off, minimum spend 10,000 fen, valid 30 days)."""
    async with db.uow() as uow:
        template = await template_by_key(uow.session, "friend_20")
        assert template is not None
        coupon = await issue_coupon(
            uow.session, template=template, customer_id=customer_id, now=NOW
        )
        await uow.commit()
        return coupon.code


async def _status(db: Database, code: str) -> str:
    async with db.uow() as uow:
        return str(await uow.session.scalar(select(Coupon.status).where(Coupon.code == code)))


async def test_redeem_then_replay_then_another_order(db: Database, tmp_path: Path) -> None:
    code = await _coupon(db, await add_customer(db, "C-1"))
    url = f"/api/v1/coupons/{code}/redeem"
    async with web_client(db, tmp_path) as client:
        first = await client.post(url, json={"order_no": "SO-1"}, headers=AUTH)
        assert first.status == 200
        body = await first.json()
        assert body == {
            "coupon": {
                "code": code,
                "name": "好友专享券 ¥20",
                "status": "redeemed",
                "value_fen": 2000,
                "percent_off": None,
                "max_discount_fen": None,
                "min_spend_fen": 10000,
                "issued_at": "2024-05-01T10:00:00+08:00",
                "expires_at": "2024-05-31T10:00:00+08:00",
                "redeemed_at": "2024-05-01T10:00:00+08:00",
                "redeemed_order_no": "SO-1",
            },
            "discount_fen": None,  # the order is not known to Fission
        }
        assert "Idempotent-Replay" not in first.headers

        again = await client.post(url, json={"order_no": "SO-1"}, headers=AUTH)
        assert (again.status, await again.json()) == (200, body)
        assert again.headers["Idempotent-Replay"] == "true"

        other = await client.post(url, json={"order_no": "SO-2"}, headers=AUTH)
        assert other.status == 409
        assert (await other.json())["error"]["code"] == "coupon_redeemed"
    assert await _status(db, code) == "redeemed"


async def test_a_known_order_gets_its_discount_or_is_below_minimum(
    db: Database, tmp_path: Path
) -> None:
    customer_id = await add_customer(db, "C-1")
    small, big = await _coupon(db, customer_id), await _coupon(db, customer_id)
    async with web_client(db, tmp_path) as client:
        for order_no, amount in (("SMALL", "50.00"), ("BIG", "199.90")):
            order = {
                "order_no": order_no,
                "customer_external_id": "C-1",
                "amount": amount,
                "paid_at": "2024-05-01",
            }
            assert (await client.post("/api/v1/orders", json=order, headers=AUTH)).status == 201
        resp = await client.post(
            f"/api/v1/coupons/{small}/redeem", json={"order_no": "SMALL"}, headers=AUTH
        )
        assert resp.status == 422
        fields = (await resp.json())["error"]["fields"]
        assert [(f["field"], f["code"]) for f in fields] == [("order_no", "below_min_spend")]
        assert "10000" in fields[0]["message"]

        resp = await client.post(
            f"/api/v1/coupons/{big}/redeem", json={"order_no": "BIG"}, headers=AUTH
        )
        assert resp.status == 200
        assert (await resp.json())["discount_fen"] == 2000
    assert await _status(db, small) == "issued"


async def test_expired_revoked_unknown_and_bad_bodies(db: Database, tmp_path: Path) -> None:
    customer_id = await add_customer(db, "C-1")
    old, withdrawn = await _coupon(db, customer_id), await _coupon(db, customer_id)
    async with db.uow() as uow:
        await revoke_coupon(uow.session, code=withdrawn, reason="staff", now=NOW)
        await uow.commit()
    clock = Clock(NOW + timedelta(days=31))
    async with web_client(db, tmp_path, clock) as client:
        resp = await client.post(
            f"/api/v1/coupons/{old}/redeem", json={"order_no": "SO-1"}, headers=AUTH
        )
        assert (resp.status, (await resp.json())["error"]["code"]) == (409, "coupon_expired")

        resp = await client.post(
            f"/api/v1/coupons/{withdrawn}/redeem", json={"order_no": "SO-1"}, headers=AUTH
        )
        assert (resp.status, (await resp.json())["error"]["code"]) == (409, "coupon_revoked")

        resp = await client.post(
            "/api/v1/coupons/NOSUCHCOUPON/redeem", json={"order_no": "SO-1"}, headers=AUTH
        )
        assert (resp.status, (await resp.json())["error"]["code"]) == (404, "not_found")

        resp = await client.post(f"/api/v1/coupons/{old}/redeem", json={}, headers=AUTH)
        assert resp.status == 422
        fields = (await resp.json())["error"]["fields"]
        assert [(f["field"], f["code"]) for f in fields] == [("order_no", "missing")]
