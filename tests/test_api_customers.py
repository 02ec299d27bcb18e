"""POST /api/v1/customers: upsert by external_id; a referral code records the join."""

from __future__ import annotations

from pathlib import Path

from api_support import AUTH, add_customer, inviter_with_code, web_client
from sqlalchemy import select

from models.customer import Customer
from models.db import Database
from models.referral.tables import Invitation


async def _customer(db: Database, external_id: str) -> Customer:
    async with db.uow() as uow:
        return (
            await uow.session.execute(select(Customer).where(Customer.external_id == external_id))
        ).scalar_one()


async def test_create_update_and_replay(db: Database, tmp_path: Path) -> None:
    new = {
        "external_id": "C-9",
        "name": "李四",
        "phone": "+86 139-0000-1111",
        "region": "上海",
        "created_at": "2024-04-01",
    }
    async with web_client(db, tmp_path) as client:
        created = await client.post("/api/v1/customers", json=new, headers=AUTH)
        assert created.status == 201
        body = await created.json()
        assert body == {
            "external_id": "C-9",
            "name": "李*",
            "phone": "139****1111",
            "region": "上海",
            "industry": None,
            "status": "open",
            "created_at": "2024-04-01T00:00:00+08:00",
            "closed_at": None,
            "referral": None,
        }
        again = await client.post("/api/v1/customers", json=new, headers=AUTH)
        assert (again.status, await again.json()) == (200, body)

        # Fields left out keep their value; null clears one; status closes the account.
        closed = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-9", "region": None, "industry": "教育", "status": "注销"},
            headers=AUTH,
        )
        assert closed.status == 200
        closed_body = await closed.json()
        assert (closed_body["region"], closed_body["industry"]) == (None, "教育")
        assert (closed_body["status"], closed_body["closed_at"]) == (
            "closed",
            "2024-05-01T10:00:00+08:00",
        )
    stored = await _customer(db, "C-9")
    # The raw values are stored (normalised); only responses mask them.
    assert (stored.name, stored.phone, stored.source) == ("李四", "13900001111", "api")


async def test_a_referral_code_records_the_join(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    friend = {"external_id": "FRIEND", "name": "王小明", "referral_code": code}
    async with web_client(db, tmp_path) as client:
        resp = await client.post("/api/v1/customers", json=friend, headers=AUTH)
        assert resp.status == 201
        referral = (await resp.json())["referral"]
        assert referral == {
            "code": code,
            "program": "default",
            "status": "joined",
            "reject_reason": None,
            "review_status": None,
            "inviter_external_id": "C-INVITER",
        }
        again = await client.post("/api/v1/customers", json=friend, headers=AUTH)
        assert again.status == 200
        assert (await again.json())["referral"] == referral
    async with db.uow() as uow:
        statuses = (await uow.session.execute(select(Invitation.status))).scalars().all()
    assert statuses == ["joined"]


async def test_self_referral_is_recorded_as_rejected(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        resp = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-INVITER", "referral_code": code},
            headers=AUTH,
        )
        assert resp.status == 200
        referral = (await resp.json())["referral"]
        assert (referral["status"], referral["reject_reason"]) == ("rejected", "self_referral")


async def test_bad_fields_and_unknown_code(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1", name="旧名字")
    async with web_client(db, tmp_path) as client:
        resp = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-1", "name": "新名字", "phone": "12345", "status": "gone"},
            headers=AUTH,
        )
        assert resp.status == 422
        fields = {f["field"]: f["code"] for f in (await resp.json())["error"]["fields"]}
        assert fields == {"phone": "bad_phone", "status": "bad_choice"}

        resp = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-1", "name": "新名字", "referral_code": "ZZZZ2222"},
            headers=AUTH,
        )
        assert resp.status == 422
        fields = {f["field"]: f["code"] for f in (await resp.json())["error"]["fields"]}
        assert fields == {"referral_code": "unknown_code"}

        resp = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-1", "referral_code": "no_such-code!"},
            headers=AUTH,
        )
        assert resp.status == 422
        fields = {f["field"]: f["code"] for f in (await resp.json())["error"]["fields"]}
        assert fields == {"referral_code": "bad_code"}

        resp = await client.post("/api/v1/customers", json={"name": "无编号"}, headers=AUTH)
        assert resp.status == 422
        fields = {f["field"]: f["code"] for f in (await resp.json())["error"]["fields"]}
        assert fields == {"external_id": "missing"}
    # None of the refused requests changed the stored customer.
    assert (await _customer(db, "C-1")).name == "旧名字"


async def test_a_closing_date_closes_the_account_on_that_day(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        # A closing date without a status: the account is closed, from that day.
        resp = await client.post(
            "/api/v1/customers",
            json={"external_id": "C-7", "created_at": "2024-01-02", "closed_at": "2024-04-15"},
            headers=AUTH,
        )
        assert resp.status == 201
        body = await resp.json()
        assert (body["status"], body["closed_at"]) == ("closed", "2024-04-15T00:00:00+08:00")
        # A later correction moves it; a bare "closed" keeps it.
        for sent, expected in (
            ({"status": "注销", "closed_at": "2024-04-10 18:00"}, "2024-04-10T18:00:00+08:00"),
            ({"status": "closed"}, "2024-04-10T18:00:00+08:00"),
        ):
            resp = await client.post(
                "/api/v1/customers", json={"external_id": "C-7", **sent}, headers=AUTH
            )
            assert (resp.status, (await resp.json())["closed_at"]) == (200, expected)

        for sent, code, message in (
            (
                {"status": "正常", "closed_at": "2024-04-15"},
                "closed_but_open",
                "注销时间（closed_at）只能填在已注销的客户上，状态却是 open",
            ),
            (
                {"created_at": "2024-05-01", "closed_at": "2024-04-15"},
                "closed_before_created",
                "注销时间（closed_at）早于创建时间：2024-04-15T00:00:00+08:00",
            ),
        ):
            resp = await client.post(
                "/api/v1/customers", json={"external_id": "C-7", **sent}, headers=AUTH
            )
            assert resp.status == 422
            [field] = (await resp.json())["error"]["fields"]
            assert (field["field"], field["code"]) == ("closed_at", code)
            assert message in field["message"]
    stored = await _customer(db, "C-7")
    assert stored.status == "closed" and stored.closed_at is not None
    assert stored.closed_at.isoformat() == "2024-04-10T10:00:00+00:00"
