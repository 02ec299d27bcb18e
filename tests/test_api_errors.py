"""Bad requests on every write route: malformed JSON is 400, an oversized body 413, a body of
the wrong shape 422 — always JSON naming the problem, never a 500, nothing stored."""

from __future__ import annotations

from pathlib import Path

from api_support import AUTH, add_customer, web_client
from sqlalchemy import func, select

from bot.web.api.problems import MAX_API_BODY_BYTES
from models.activity import ActivityEvent, Order
from models.db import Database

WRITES = (
    "/api/v1/orders",
    "/api/v1/customers",
    "/api/v1/events",
    "/api/v1/coupons/ABCDEFGHJKLM/redeem",
)
MALFORMED = [
    (b'{"order_no": "A-1",', "malformed_json"),
    (b"{'order_no': 'A-1'}", "malformed_json"),
    (b'{"amount": NaN}', "malformed_json"),
    (b'{"name": "\xff\xfe"}', "malformed_json"),
    (b"", "empty_body"),
    (b"  \n", "empty_body"),
]
JSON = {"Content-Type": "application/json"}


async def test_malformed_bodies_are_400(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        for path in WRITES:
            for raw, code in MALFORMED:
                resp = await client.post(path, data=raw, headers={**AUTH, **JSON})
                assert resp.status == 400, (path, raw)
                error = (await resp.json())["error"]
                assert error["code"] == code
                assert "JSON" in error["message"]


async def test_oversized_bodies_are_413(db: Database, tmp_path: Path) -> None:
    padding = "x" * MAX_API_BODY_BYTES
    async with web_client(db, tmp_path) as client:
        for path in WRITES:
            raw = f'{{"external_id": "C-1", "name": "{padding}"}}'.encode()
            resp = await client.post(path, data=raw, headers={**AUTH, **JSON})
            assert resp.status == 413, path
            assert (await resp.json())["error"]["code"] == "body_too_large"

            # Without a Content-Length (chunked), the limit holds all the same.
            async def chunks(body: bytes = raw) -> object:
                for start in range(0, len(body), 8192):
                    yield body[start : start + 8192]

            resp = await client.post(path, data=chunks(), headers={**AUTH, **JSON})
            assert resp.status == 413, path


async def test_bodies_of_the_wrong_shape_are_422(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        for path in ("/api/v1/orders", "/api/v1/customers", "/api/v1/coupons/X2345678/redeem"):
            for body in (b"[]", b'"text"', b"3", b"null"):
                resp = await client.post(path, data=body, headers={**AUTH, **JSON})
                assert resp.status == 422, (path, body)
                fields = (await resp.json())["error"]["fields"]
                assert [(f["field"], f["code"]) for f in fields] == [("body", "model_type")]


async def test_unknown_paths_and_methods_answer_json(db: Database, tmp_path: Path) -> None:
    async with web_client(db, tmp_path) as client:
        resp = await client.get("/api/v1/nothing-here", headers=AUTH)
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"
        resp = await client.delete("/api/v1/orders", headers=AUTH)
        assert resp.status == 405
        assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_english_field_messages_when_the_locale_is_en(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    async with web_client(db, tmp_path, locale="en") as client:
        resp = await client.post(
            "/api/v1/orders",
            json={"order_no": "A-1", "customer_external_id": "C-1", "amount": "-1"},
            headers=AUTH,
        )
        assert resp.status == 422
        messages = {f["field"]: f["message"] for f in (await resp.json())["error"]["fields"]}
        assert messages == {
            "amount": "amount must not be negative: -1",
            "paid_at": "field required",
        }
    async with db.uow() as uow:
        stored = await uow.session.scalar(select(func.count()).select_from(Order))
        events = await uow.session.scalar(select(func.count()).select_from(ActivityEvent))
    assert (stored, events) == (0, 0)
