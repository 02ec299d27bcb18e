"""A NUL character or a lone surrogate in any text — a name, an order number, an event's detail,
a path parameter — cannot be stored (PostgreSQL refuses NUL in text; neither database can
encode a lone surrogate). It is a 422 naming the field, or a rejected row naming its line and
column, on both databases; before, PostgreSQL answered 500 and `fission import` printed a
traceback."""

from __future__ import annotations

import csv
from pathlib import Path

from aiohttp import ClientResponse
from api_support import AUTH, add_customer, web_client
from import_support import (
    count_rows,
    invoke_import,
    on_database,
    stored_customers,
    stored_orders,
    write_csv,
)
from sqlalchemy import func, select
from yarl import URL

from models import Customer, Order
from models.activity import ActivityEvent
from models.db import Database

ORDERS = "order_no,customer_external_id,amount,paid_at\n"
NUL_IN_NAME = "姓名（name）第 2 个字符是空字符 NUL，无法保存；请删掉它"


def _import(db_url: str, tmp_path: Path, kind: str, text: str, locale: str = "zh-CN") -> list[str]:
    """What `fission import KIND` of `text` says on stderr; some rows rejected, no traceback."""
    result = invoke_import(
        db_url, kind, str(write_csv(tmp_path, f"{kind}.csv", text)), locale=locale
    )
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    return result.stderr.splitlines()


def test_the_import_rejects_the_row_naming_line_and_column(db_url: str, tmp_path: Path) -> None:
    said = _import(
        db_url,
        tmp_path,
        "customers",
        "external_id,name,phone,region,industry,created_at\n"
        "K1,张\x00三,,,,2024-05-01\nK2,李四,,,,2024-05-02\n",
    )
    assert f"第 2 行：{NUL_IN_NAME}" in said
    assert sorted(on_database(db_url, stored_customers)) == ["K2"]
    # The rejects file shows where the character was (as U+FFFD) and stays valid UTF-8 CSV.
    with (tmp_path / "customers.rejects.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1] == ["K1", "张\ufffd三", "", "", "", "2024-05-01", "2", NUL_IN_NAME]

    said = _import(
        db_url,
        tmp_path,
        "orders",
        ORDERS + "A\x001,C1,5,2024-06-01\nA2,C\x001,5,2024-06-0\x001\nA3,C1,5,2024-06-01\n",
        locale="en",
    )
    assert (
        "line 2: order_no has a NUL character at position 2, which cannot be stored; remove it"
    ) in said
    # Every column at fault is named, in column order.
    assert (
        "line 3: customer_external_id has a NUL character at position 2, which cannot be "
        "stored; remove it; paid_at has a NUL character at position 10, which cannot be "
        "stored; remove it"
    ) in said
    assert sorted(on_database(db_url, stored_orders)) == ["A3"]


def test_an_event_detail_with_nul_is_a_rejected_row(db_url: str, tmp_path: Path) -> None:
    said = _import(
        db_url,
        tmp_path,
        "events",
        "customer_external_id,kind,occurred_at,detail\n"
        "C1,feature_use,2024-06-01,报表\x00导出\nC1,feature_use,2024-06-01,报表导出\n",
    )
    assert "第 2 行：详情（detail）第 3 个字符是空字符 NUL，无法保存；请删掉它" in said
    assert count_rows(db_url, ActivityEvent) == 1


async def _fields(resp: ClientResponse) -> list[tuple[str, str]]:
    assert resp.status == 422, await resp.text()
    error = (await resp.json())["error"]
    return [(item["field"], item["code"]) for item in error["fields"]]


async def test_the_api_answers_422_naming_the_field(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    order = {"order_no": "A-1", "customer_external_id": "C-1", "amount": "5"}
    order["paid_at"] = "2024-05-01"
    async with web_client(db, tmp_path) as client:
        post = client.post
        resp = await post(
            "/api/v1/customers", json={"external_id": "C-2", "name": "张\x00"}, headers=AUTH
        )
        assert await _fields(resp) == [("name", "nul_character")]
        message = (await resp.json())["error"]["fields"][0]["message"]
        assert message == "姓名（name）第 2 个字符是空字符 NUL，无法保存；请删掉它"

        resp = await post(
            "/api/v1/customers", json={"external_id": "C-2", "name": "\ud800"}, headers=AUTH
        )
        assert await _fields(resp) == [("name", "lone_surrogate")]
        message = (await resp.json())["error"]["fields"][0]["message"]
        assert message == (
            "姓名（name）第 1 个字符 U+D800 是无效字符（孤立的 UTF-16 代理项），无法保存；请删掉它"
        )

        resp = await post("/api/v1/orders", json={**order, "order_no": "A\x00"}, headers=AUTH)
        assert await _fields(resp) == [("order_no", "nul_character")]
        resp = await post(
            "/api/v1/orders", json={**order, "paid_at": "2024-05-01\udc00"}, headers=AUTH
        )
        assert await _fields(resp) == [("paid_at", "lone_surrogate")]
        resp = await post("/api/v1/orders", json={**order, "amount": "5\x00"}, headers=AUTH)
        assert await _fields(resp) == [("amount", "nul_character")]

        event = {"customer_external_id": "C-1", "kind": "feature_use", "occurred_at": "2024-05-01"}
        resp = await post("/api/v1/events", json=[{**event, "detail": "报表\x00"}], headers=AUTH)
        assert await _fields(resp) == [("[0].detail", "nul_character")]

        resp = await client.get(URL("/api/v1/customers/C%00-1", encoded=True), headers=AUTH)
        assert await _fields(resp) == [("external_id", "nul_character")]
        resp = await client.get(URL("/api/v1/referrals/AB%00CD", encoded=True), headers=AUTH)
        assert await _fields(resp) == [("code", "nul_character")]
        resp = await post(
            URL("/api/v1/coupons/AB%00CD/redeem", encoded=True),
            json={"order_no": "A-1"},
            headers=AUTH,
        )
        assert await _fields(resp) == [("code", "nul_character")]
        # Bytes that are not UTF-8 stay percent-encoded in the path: not found, not a 500.
        resp = await client.get(URL("/api/v1/customers/%ED%A0%80", encoded=True), headers=AUTH)
        assert resp.status == 404

    async def counts(db: Database) -> tuple[int, int]:
        async with db.uow() as uow:
            customers = await uow.session.scalar(select(func.count()).select_from(Customer))
            orders = await uow.session.scalar(select(func.count()).select_from(Order))
            return int(customers or 0), int(orders or 0)

    assert await counts(db) == (1, 0)
