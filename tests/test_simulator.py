"""The web chat simulator over HTTP (both backends): only where the app asks for it, personas,
messages through the console channel into the real dispatcher, and clear errors for bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from chatkit import NOW, People, seed_people
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.channels.console import ConsoleChannel, ConsoleInbox, ConsoleInput
from bot.web.app import create_app
from bot.web.keys import SIMULATOR_INBOX
from config import load_settings
from handlers.events import ChatMessage, Reply, TextReply
from models.customer import Customer, CustomerIdentity
from models.db import Database

Client = TestClient[web.Request, web.Application]


async def _client(db: Database, tmp_path: Path, *, simulator: bool) -> Client:
    loaded = load_settings(database_url=str(db.engine.url), state_dir=tmp_path)
    app = create_app(bootstrap(loaded, db=db), simulator=simulator)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def sim(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Client, People]]:
    people = await seed_people(db)
    client = await _client(db, tmp_path, simulator=True)
    try:
        yield client, people
    finally:
        await client.close()


async def _say(client: Client, persona: str, text: str, chat: str = "private") -> Any:
    resp = await client.post(
        "/simulator/messages", json={"persona": persona, "chat": chat, "text": text}
    )
    assert resp.status == 200, await resp.text()
    return (await resp.json())["replies"]


async def test_simulator_is_off_unless_asked_for(db: Database, tmp_path: Path) -> None:
    client = await _client(db, tmp_path, simulator=False)
    try:
        for path in ("/simulator", "/simulator/personas"):
            resp = await client.get(path)
            assert resp.status == 404
        resp = await client.post("/simulator/messages", json={})
        assert resp.status in (404, 405)
    finally:
        await client.close()


async def test_page_assets_and_personas(sim: tuple[Client, People]) -> None:
    """The page and its two files; personas are masked customers and console staff."""
    client, people = sim
    page = await client.get("/simulator")
    assert page.status == 200 and page.content_type == "text/html"
    assert "Fission 聊天模拟器" in await page.text()
    for name, kind in (("simulator.js", "application/javascript"), ("simulator.css", "text/css")):
        asset = await client.get(f"/simulator/static/{name}")
        assert asset.status == 200 and asset.content_type == kind
    assert (await client.get("/simulator/static/../app.py")).status == 404
    assert (await client.get("/simulator/static/secret.py")).status == 404
    data = await (await client.get("/simulator/personas")).json()
    customers = {c["id"]: c for c in data["customers"]}
    assert customers[f"customer:{people.zhang}"] == {
        "id": f"customer:{people.zhang}",
        "name": "张*",
        "external_id": "C001",
        "stage": "growing",
    }
    assert [s["name"] for s in data["staff"]] == ["赵敏", "钱经理", "孙管理"]
    assert json.dumps(data, ensure_ascii=False).count("张三") == 0


async def test_staff_persona_queries_a_customer(sim: tuple[Client, People]) -> None:
    client, people = sim
    replies = await _say(client, f"staff:{people.agent}", "/customer 张三")
    assert [r["type"] for r in replies] == ["card"]
    body = replies[0]["body"]
    assert "张*" in body and "138****8888" in body and "张三" not in body


async def test_a_manager_downloads_an_export(sim: tuple[Client, People]) -> None:
    client, people = sim
    [reply] = await _say(client, f"staff:{people.manager}", "/export grades csv")
    assert reply["type"] == "file"
    assert reply["name"].startswith("客户分级表-") and reply["name"].endswith(".csv")
    assert reply["caption"] == "客户分级表：1 行，联系方式已脱敏。"
    prefix = "data:text/csv;base64,"
    assert reply["href"].startswith(prefix)
    content = base64.b64decode(reply["href"][len(prefix) :]).decode("utf-8-sig")
    assert content.splitlines()[1].startswith("张*,138****8888,3,123.50,370.50,A,得分 1.00")


async def test_customer_persona_gets_link_and_inline_poster(
    sim: tuple[Client, People], db: Database
) -> None:
    client, people = sim
    replies = await _say(client, f"customer:{people.wang}", "邀请")
    assert [r["type"] for r in replies] == ["text", "image"]
    assert "/r/" in replies[0]["text"]
    prefix = "data:image/png;base64,"
    assert replies[1]["src"].startswith(prefix)
    assert base64.b64decode(replies[1]["src"][len(prefix) :]).startswith(b"\x89PNG")
    await _say(client, f"customer:{people.wang}", "积分")
    async with db.uow() as uow:
        linked = (
            await uow.session.scalars(
                select(CustomerIdentity.customer_id).where(
                    CustomerIdentity.value == f"sim-customer-{people.wang}"
                )
            )
        ).all()
    assert list(linked) == [people.wang]  # one identity, the demo customer's


async def test_group_chat_needs_a_mention_or_slash(sim: tuple[Client, People]) -> None:
    client, people = sim
    persona = f"customer:{people.zhang}"
    assert await _say(client, persona, "帮助", chat="group") == []
    mentioned = await _say(client, persona, "@Fission 帮助", chat="group")
    slashed = await _say(client, persona, "/help", chat="group")
    assert mentioned == slashed and mentioned[0]["text"].startswith("你可以对我说：")
    staff = await _say(client, f"staff:{people.agent}", "@Fission 客户 张三", chat="group")
    assert staff == [{"type": "text", "text": "为保护客户隐私，请私聊我使用 /customer。"}]


async def test_a_new_visitor_becomes_a_chat_customer(
    sim: tuple[Client, People], db: Database
) -> None:
    client, _ = sim
    replies = await _say(client, "visitor:abc123", "你好")
    assert replies[0]["text"].startswith("我还不认识“你好”")
    async with db.uow() as uow:
        found = await uow.session.scalar(
            select(Customer.source).where(Customer.external_id == "console:sim-visitor-abc123")
        )
    assert found == "chat"


async def test_pushed_messages_show_in_the_conversation_of_their_persona(
    sim: tuple[Client, People],
) -> None:
    """What the bot sends on its own (the console route's sender fills the inbox in `fission
    serve --demo`) is listed with the persona whose console user it went to."""
    client, people = sim
    await _say(client, "visitor:abc123", "你好")  # a chat customer now
    await _say(client, f"customer:{people.zhang}", "积分")  # his console identity
    inbox = client.app[SIMULATOR_INBOX]
    first = inbox.push("sim-visitor-abc123", TextReply("欢迎"), key="delivery-1")
    # The same delivery again (its outcome was lost and it was claimed again): shown once.
    assert inbox.push("sim-visitor-abc123", TextReply("欢迎"), key="delivery-1") == first
    inbox.push(f"sim-customer-{people.zhang}", TextReply("张三您好"), key="delivery-2")
    inbox.push("not-a-persona", TextReply("?"))

    data = await (await client.get("/simulator/inbox")).json()
    assert data["last"] == 3
    assert [(m["id"], m["persona"], m["chat"], m["reply"]) for m in data["messages"]] == [
        (
            1,
            {
                "id": "visitor:abc123",
                "name": "console:sim-visitor-abc123",
                "external_id": "console:sim-visitor-abc123",
                "stage": None,
            },
            "private",
            {"type": "text", "text": "欢迎"},
        ),
        (
            2,
            {
                "id": f"customer:{people.zhang}",
                "name": "张*",
                "external_id": "C001",
                "stage": "growing",
            },
            "private",
            {"type": "text", "text": "张三您好"},
        ),
    ]
    later = await (await client.get("/simulator/inbox", params={"after": "1"})).json()
    assert [m["id"] for m in later["messages"]] == [2]


def test_the_inbox_keeps_the_latest_messages() -> None:
    inbox = ConsoleInbox(keep=2)
    for n in range(3):
        inbox.push("u", TextReply(str(n)), key=f"k{n}")
    assert [p.seq for p in inbox.since(0)] == [2, 3]
    assert inbox.push("u", TextReply("0"), key="k0") == 4  # forgotten with its message


async def test_bad_requests_get_clear_errors(sim: tuple[Client, People]) -> None:
    client, people = sim
    resp = await client.post("/simulator/messages", data=b"{not json")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "malformed_json"
    resp = await client.post("/simulator/messages", json={"persona": "boss:1", "chat": "x"})
    assert resp.status == 422
    fields = (await resp.json())["error"]["fields"]
    assert set(fields) == {"persona", "chat", "text"}
    resp = await client.post(
        "/simulator/messages", json={"persona": "staff:99999", "text": "/help"}
    )
    assert resp.status == 404
    long_text = "字" * 2001
    resp = await client.post(
        "/simulator/messages", json={"persona": f"staff:{people.agent}", "text": long_text}
    )
    assert resp.status == 422
    for after in ("x", "-1", "²"):
        resp = await client.get("/simulator/inbox", params={"after": after})
        assert resp.status == 422
        assert set((await resp.json())["error"]["fields"]) == {"after"}


async def test_console_channel_strips_the_mention_like_a_platform() -> None:
    seen: list[ChatMessage] = []

    async def echo(msg: ChatMessage) -> list[Reply]:
        seen.append(msg)
        return [TextReply(msg.text)]

    channel = ConsoleChannel(echo, clock=lambda: NOW)
    group = await channel.send(ConsoleInput(user_id="u", text="@Fission  /invite", group=True))
    private = await channel.send(ConsoleInput(user_id="u", text="积分"))
    plain_group = await channel.send(ConsoleInput(user_id="u", text="大家好", group=True))
    assert group == [{"type": "text", "text": "/invite"}]
    assert private == [{"type": "text", "text": "积分"}]
    assert plain_group == [{"type": "text", "text": "大家好"}]
    assert [(m.is_group, m.is_to_me, m.conversation_id) for m in seen] == [
        (True, True, "sim-group"),
        (False, True, "u"),
        (True, False, "sim-group"),
    ]
