"""POST /api/v1/orders: upsert by order_no, the same request twice gives the same answer, and
orders drive referral conversion and refund revocation through the domain layer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from api_support import AUTH, NOW, Clock, add_customer, inviter_with_code, web_client
from sqlalchemy import func, select

from models.activity import Order
from models.customer import Customer
from models.db import Database
from models.referral.reward_tables import Reward
from models.referral.tables import Invitation

ORDER = {
    "order_no": "A-1",
    "customer_external_id": "C-1",
    "amount": "199.90",
    "paid_at": "2024-05-01 09:30",
}


async def _count(db: Database, *where: Any, model: Any = Order) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_create_then_replay_gives_the_same_body(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        first = await client.post("/api/v1/orders", json=ORDER, headers=AUTH)
        assert first.status == 201
        body = await first.json()
        assert body == {
            "order_no": "A-1",
            "customer_external_id": "C-1",
            "amount_fen": 19990,
            "paid_at": "2024-05-01T09:30:00+08:00",
            "status": "paid",
            "refunded_at": None,
            "referral": None,
        }
        again = await client.post("/api/v1/orders", json=ORDER, headers=AUTH)
        assert again.status == 200
        assert await again.json() == body
    assert await _count(db) == 1
    async with db.uow() as uow:
        customer = (
            await uow.session.execute(select(Customer).where(Customer.external_id == "C-1"))
        ).scalar_one()
    assert customer.source == "order"  # an order for an unknown customer makes a bare record


async def test_amounts_in_yuan_or_fen(db: Database, tmp_path: Path) -> None:
    cases = [
        ('"amount": 0.29', 29),  # a JSON number, read exactly: not 28 fen
        ('"amount": 18.8', 1880),
        ('"amount": "1,299.00"', 129900),
        ('"amount": "￥5"', 500),
        ('"amount": 7', 700),
        ('"amount_fen": 12345', 12345),
    ]
    async with web_client(db, tmp_path) as client:
        for index, (amount, fen) in enumerate(cases):
            raw = (
                f'{{"order_no": "N-{index}", "customer_external_id": "C-1", {amount}, '
                '"paid_at": "2024-05-01T09:30:00+08:00"}'
            )
            resp = await client.post(
                "/api/v1/orders",
                data=raw,
                headers={**AUTH, "Content-Type": "application/json"},
            )
            assert resp.status == 201, await resp.text()
            assert (await resp.json())["amount_fen"] == fen, amount


async def test_update_refund_and_correction(db: Database, tmp_path: Path) -> None:
    clock = Clock()
    async with web_client(db, tmp_path, clock) as client:
        assert (await client.post("/api/v1/orders", json=ORDER, headers=AUTH)).status == 201
        changed = await client.post("/api/v1/orders", json={**ORDER, "amount": "120"}, headers=AUTH)
        assert changed.status == 200
        assert (await changed.json())["amount_fen"] == 12000

        clock.now = NOW + timedelta(hours=3)
        refunded = await client.post(
            "/api/v1/orders", json={**ORDER, "amount": "120", "status": "已退款"}, headers=AUTH
        )
        assert refunded.status == 200
        body = await refunded.json()
        assert body["status"] == "refunded"
        assert body["refunded_at"] == "2024-05-01T13:00:00+08:00"

        # Reported again without a status (a client that only knows amounts): still refunded,
        # still dated by the first report of the refund.
        clock.now = NOW + timedelta(hours=5)
        again = await client.post("/api/v1/orders", json={**ORDER, "amount": "120"}, headers=AUTH)
        assert (await again.json())["status"] == "refunded"
        assert (await again.json())["refunded_at"] == "2024-05-01T13:00:00+08:00"

        # refunded → paid is a correction, accepted as the importer accepts it.
        back = await client.post(
            "/api/v1/orders", json={**ORDER, "amount": "120", "status": "paid"}, headers=AUTH
        )
        assert back.status == 200
        assert (await back.json())["status"] == "paid"
        assert (await back.json())["refunded_at"] is None
    async with db.uow() as uow:
        order = (await uow.session.execute(select(Order))).scalar_one()
    assert (order.status, order.amount_fen, order.refunded_at) == ("paid", 12000, None)


async def test_order_no_of_another_customer_is_a_conflict(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        assert (await client.post("/api/v1/orders", json=ORDER, headers=AUTH)).status == 201
        resp = await client.post(
            "/api/v1/orders", json={**ORDER, "customer_external_id": "C-2"}, headers=AUTH
        )
        assert resp.status == 409
        error = (await resp.json())["error"]
        assert error["code"] == "order_customer_conflict"
        assert "A-1" in error["message"]
    # The refused request left nothing behind, not even the customer it mentioned.
    assert await _count(db, Customer.external_id == "C-2", model=Customer) == 0


async def test_an_order_with_a_code_converts_once(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    order = {**ORDER, "customer_external_id": "FRIEND", "referral_code": code.lower()}
    async with web_client(db, tmp_path) as client:
        first = await client.post("/api/v1/orders", json=order, headers=AUTH)
        assert first.status == 201
        body = await first.json()
        assert body["referral"] == {
            "code": code,
            "program": "default",
            "status": "converted",
            "reject_reason": None,
            "review_status": None,
            "inviter_external_id": "C-INVITER",
        }
        again = await client.post("/api/v1/orders", json=order, headers=AUTH)
        assert (again.status, await again.json()) == (200, body)
    assert await _count(db, Invitation.status == "converted", model=Invitation) == 1
    # Both sides of the default program get a coupon reward, pending during the hold.
    assert await _count(db, Reward.status == "pending", model=Reward) == 2


async def test_a_refund_in_the_hold_revokes_the_rewards(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    order = {**ORDER, "customer_external_id": "FRIEND", "referral_code": code}
    clock = Clock()
    async with web_client(db, tmp_path, clock) as client:
        assert (await client.post("/api/v1/orders", json=order, headers=AUTH)).status == 201
        clock.now = NOW + timedelta(days=2)  # the default hold is 7 days
        resp = await client.post(
            "/api/v1/orders", json={**order, "status": "refunded"}, headers=AUTH
        )
        assert resp.status == 200
        referral = (await resp.json())["referral"]
        assert (referral["status"], referral["reject_reason"]) == ("rejected", "order_refunded")
    assert await _count(db, Reward.status == "revoked", model=Reward) == 2
    assert await _count(db, Reward.status != "revoked", model=Reward) == 0


async def test_an_unknown_code_is_refused_and_nothing_is_stored(
    db: Database, tmp_path: Path
) -> None:
    async with web_client(db, tmp_path) as client:
        resp = await client.post(
            "/api/v1/orders", json={**ORDER, "referral_code": "ZZZZ2222"}, headers=AUTH
        )
        assert resp.status == 422
        fields = (await resp.json())["error"]["fields"]
        assert [(f["field"], f["code"]) for f in fields] == [("referral_code", "unknown_code")]
    assert await _count(db) == 0
    assert await _count(db, model=Customer) == 0


async def test_field_errors_name_each_field_and_why(db: Database, tmp_path: Path) -> None:
    bad = {
        "order_no": "",
        "customer_external_id": "C-1",
        "amount": "1.234",
        "paid_at": "2024-13-01",
        "status": "void",
        "coupon": "X",
    }
    async with web_client(db, tmp_path) as client:
        resp = await client.post("/api/v1/orders", json=bad, headers=AUTH)
        assert resp.status == 422
        error = (await resp.json())["error"]
        assert error["code"] == "validation_failed"
        found = {f["field"]: (f["code"], f["message"]) for f in error["fields"]}
        assert found == {
            "order_no": ("missing_value", "缺少必填字段：订单号（order_no）"),
            "amount": ("too_many_decimals", "金额最多两位小数（精确到分）：1.234"),
            "paid_at": ("no_such_date", "支付时间（paid_at）不是存在的日期或时间：2024-13-01"),
            "status": ("bad_choice", "状态（status）取值无效：void（可选：paid, refunded）"),
            "coupon": ("extra_forbidden", "未知字段"),
        }


async def test_amount_rules(db: Database, tmp_path: Path) -> None:
    base = {"order_no": "A-1", "customer_external_id": "C-1", "paid_at": "2024-05-01"}
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({}, "amount", "amount_required"),
        ({"amount": "1", "amount_fen": 100}, "amount", "amount_required"),
        ({"amount": "-5"}, "amount", "negative_amount"),
        ({"amount": "abc"}, "amount", "bad_amount"),
        ({"amount": True}, "amount", "string_type"),
        ({"amount_fen": -1}, "amount_fen", "greater_than_equal"),
        ({"amount_fen": "100"}, "amount_fen", "int_type"),
    ]
    async with web_client(db, tmp_path) as client:
        for extra, field, code in cases:
            resp = await client.post("/api/v1/orders", json={**base, **extra}, headers=AUTH)
            assert resp.status == 422, extra
            fields = (await resp.json())["error"]["fields"]
            assert [(f["field"], f["code"]) for f in fields] == [(field, code)], extra
    assert await _count(db) == 0


async def test_the_same_order_posted_twice_at_once(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    order = {**ORDER, "customer_external_id": "FRIEND", "referral_code": code}
    async with web_client(db, tmp_path) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/orders", json=order, headers=AUTH) for _ in range(4))
        )
        statuses = sorted(resp.status for resp in responses)
        bodies = [await resp.json() for resp in responses]
    assert statuses == [200, 200, 200, 201]
    assert all(body == bodies[0] for body in bodies)
    assert await _count(db) == 1
    assert await _count(db, Invitation.status == "converted", model=Invitation) == 1
    assert await _count(db, model=Reward) == 2


async def test_a_customer_record_made_by_an_order_keeps_its_id(
    db: Database, tmp_path: Path
) -> None:
    customer_id = await add_customer(db, "C-1", name="王五")
    async with web_client(db, tmp_path) as client:
        assert (await client.post("/api/v1/orders", json=ORDER, headers=AUTH)).status == 201
    async with db.uow() as uow:
        order = (await uow.session.execute(select(Order))).scalar_one()
    assert order.customer_id == customer_id
