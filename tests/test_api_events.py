"""POST /api/v1/events: one event or a list, all stored or none, repeats stored once."""

from __future__ import annotations

from pathlib import Path

from api_support import AUTH, add_customer, web_client
from sqlalchemy import func, select

from models.activity import ActivityEvent
from models.db import Database


async def _events(db: Database) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(ActivityEvent)))


async def test_one_event_then_the_same_again(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    event = {"customer_external_id": "C-1", "kind": "浏览", "occurred_at": "2024-04-30 20:15"}
    async with web_client(db, tmp_path) as client:
        first = await client.post("/api/v1/events", json=event, headers=AUTH)
        assert first.status == 201
        body = await first.json()
        assert body["received"] == 1
        [stored] = body["events"]
        assert {k: v for k, v in stored.items() if k != "id"} == {
            "customer_external_id": "C-1",
            "kind": "view",
            "occurred_at": "2024-04-30T20:15:00+08:00",
            "detail": "",
        }
        again = await client.post("/api/v1/events", json=event, headers=AUTH)
        assert (again.status, await again.json()) == (200, body)
    assert await _events(db) == 1


async def test_a_list_with_a_repeat_inside(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    await add_customer(db, "C-2")
    events = [
        {
            "customer_external_id": "C-1",
            "kind": "feature_use",
            "occurred_at": "2024-04-30",
            "detail": "报表导出",
        },
        {"customer_external_id": "C-2", "kind": "support_contact", "occurred_at": "2024-04-29"},
        {
            "customer_external_id": "C-1",
            "kind": "feature_use",
            "occurred_at": "2024-04-30",
            "detail": "报表导出",
        },
    ]
    async with web_client(db, tmp_path) as client:
        resp = await client.post("/api/v1/events", json=events, headers=AUTH)
        assert resp.status == 201
        body = await resp.json()
        assert body["received"] == 3
        ids = [event["id"] for event in body["events"]]
        assert ids[0] == ids[2] != ids[1]
    assert await _events(db) == 2


async def test_all_or_nothing(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    async with web_client(db, tmp_path) as client:
        resp = await client.post(
            "/api/v1/events",
            json=[
                {"customer_external_id": "C-1", "kind": "view", "occurred_at": "2024-04-30"},
                {"customer_external_id": "C-1", "kind": "feature_use", "occurred_at": "2024-04-30"},
                {"customer_external_id": "C-1", "kind": "dance", "occurred_at": "2024-04-30"},
            ],
            headers=AUTH,
        )
        assert resp.status == 422
        fields = {f["field"]: f["code"] for f in (await resp.json())["error"]["fields"]}
        assert fields == {"[1].detail": "detail_required", "[2].kind": "bad_choice"}

        resp = await client.post(
            "/api/v1/events",
            json=[
                {"customer_external_id": "C-1", "kind": "view", "occurred_at": "2024-04-30"},
                {"customer_external_id": "NOBODY", "kind": "view", "occurred_at": "2024-04-30"},
            ],
            headers=AUTH,
        )
        assert resp.status == 422
        fields = (await resp.json())["error"]["fields"]
        assert [(f["field"], f["code"]) for f in fields] == [
            ("[1].customer_external_id", "unknown_customer")
        ]
        assert "NOBODY" in fields[0]["message"]

        for body, field, code in [
            ([], "body", "too_short"),
            ({"customer_external_id": "C-1"}, "kind", "missing"),
            (7, "body", "model_type"),
        ]:
            resp = await client.post("/api/v1/events", json=body, headers=AUTH)
            assert resp.status == 422
            fields = (await resp.json())["error"]["fields"]
            assert (fields[0]["field"], fields[0]["code"]) == (field, code), body
    assert await _events(db) == 0


async def test_at_most_500_per_request(db: Database, tmp_path: Path) -> None:
    await add_customer(db, "C-1")
    events = [
        {"customer_external_id": "C-1", "kind": "view", "occurred_at": f"2024-04-30 10:{m:02d}"}
        for m in range(60)
    ] * 9
    async with web_client(db, tmp_path) as client:
        resp = await client.post("/api/v1/events", json=events[:501], headers=AUTH)
        assert resp.status == 422
        fields = (await resp.json())["error"]["fields"]
        assert (fields[0]["field"], fields[0]["code"]) == ("body", "too_long")
        resp = await client.post("/api/v1/events", json=events[:500], headers=AUTH)
        assert resp.status == 201
    assert await _events(db) == 60
