"""`make run`: a manager persona runs a campaign in the web simulator, and the customers it
reaches find the coupon message in their conversation — through the app `fission serve --demo`
runs (its delivery worker, the console route's sender, the page's inbox)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.bootstrap import Container
from bot.cli.serve import serve_app
from bot.cli.serve_demo import prepare_demo
from config import load_settings
from models import Customer, Delivery
from models.masking import mask_name

Client = TestClient[web.Request, web.Application]
ARRIVAL_SECONDS = 20.0


@pytest.fixture
async def demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Client, Container]]:
    """The demo app with its delivery worker running (the scheduler off: no slot of its own).
    Quiet hours configured all day long: the demo sends at once whenever it is tried."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'real.db'}",
        state_dir=tmp_path / "state",
        scheduler={"enabled": False},
        outbox={"poll_seconds": 0.2},
        marketing={"quiet_hours": "00:00-23:59"},
    )
    ready = await prepare_demo(settings, host="127.0.0.1", port=8123, customers=400)
    app, container = serve_app(settings, ready)
    try:
        async with TestClient(TestServer(app)) as client:
            yield client, container
    finally:
        await container.close()


async def _say(client: Client, persona: str, text: str) -> list[dict[str, Any]]:
    resp = await client.post("/simulator/messages", json={"persona": persona, "text": text})
    assert resp.status == 200, await resp.text()
    replies: list[dict[str, Any]] = (await resp.json())["replies"]
    return replies


async def _inbox(client: Client, after: int = 0) -> dict[str, Any]:
    resp = await client.get("/simulator/inbox", params={"after": str(after)})
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def _delivered(container: Container) -> dict[int, tuple[str, str | None, str | None]]:
    """The campaign's deliveries: customer → status, platform message id, customer's name."""
    async with container.db.uow() as uow:
        d = Delivery
        rows = await uow.session.execute(
            select(d.customer_id, d.status, d.platform_message_id, Customer.name).join(
                Customer, Customer.id == d.customer_id
            )
        )
        return {r.customer_id: (r.status, r.platform_message_id, r.name) for r in rows}


async def test_a_campaign_run_arrives_in_the_customers_conversations(
    demo: tuple[Client, Container],
) -> None:
    client, container = demo
    personas = await (await client.get("/simulator/personas")).json()
    manager = next(s["id"] for s in personas["staff"] if s["role"] == "manager")
    assert await _inbox(client) == {"messages": [], "last": 0}

    [ran] = await _say(client, manager, "活动 运行 衰退客户挽回")
    assert ran["text"].startswith("活动已运行：衰退客户挽回（winback_declining）")
    queued = await _delivered(container)
    assert queued and all(status == "queued" for status, _, _ in queued.values())

    deadline = time.monotonic() + ARRIVAL_SECONDS
    while len((inbox := await _inbox(client))["messages"]) < len(queued):
        assert time.monotonic() < deadline, f"arrived: {inbox}"
        await asyncio.sleep(0.2)

    delivered = await _delivered(container)
    by_persona = {m["persona"]["id"]: m for m in inbox["messages"]}
    assert set(by_persona) == {f"customer:{customer}" for customer in queued}
    for customer, (status, message_id, name) in delivered.items():
        message = by_persona[f"customer:{customer}"]
        assert status == "sent" and message_id == f"console-{message['id']}"
        # The customer's own conversation, greeting them by their own name; the persona
        # (for a page that does not list them yet) masked, like every persona.
        assert message["chat"] == "private"
        assert message["persona"]["name"] == mask_name(name)
        assert message["persona"]["stage"] == "declining"
        assert message["reply"]["type"] == "text"
        assert message["reply"]["text"].startswith(
            f"{name or '亲爱的顾客'}您好，好久不见！送您一张老客回馈券 ¥30（满¥100.00可用），"
        )
        assert message["reply"]["text"].endswith("回复“退订”即不再接收优惠消息。")
    assert inbox["last"] == max(m["id"] for m in inbox["messages"])
    assert await _inbox(client, inbox["last"]) == {"messages": [], "last": inbox["last"]}

    # The customer answers in that conversation, as the message invites them to.
    [opted_out] = await _say(client, f"customer:{next(iter(queued))}", "退订")
    assert opted_out["text"].startswith("已退订营销消息，立即生效。")
