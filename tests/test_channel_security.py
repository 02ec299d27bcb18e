"""Hostile or broken callbacks: each answered with the right status and no side effect — no
stored event, no dispatcher call, no outbound request.

Every refusal here happens before the database is touched, so these run on SQLite only; the
storing and de-duplicating paths run on both backends in the platform tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fakes.harness import (
    FEISHU_KEY,
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    WECOM_AES,
    WECOM_CORP,
    WECOM_TOKEN,
    Harness,
    channel_app,
)
from fakes.signing import feishu_post, sha1_signature, wechat_post, wecom_post
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.web.app import create_app
from config import load_settings
from models.channels import InboundEvent
from models.db import Database

DATA = Path(__file__).parent / "data"
TEXT = (
    (DATA / "wechat" / "text.xml")
    .read_text(encoding="utf-8")
    .format(openid="oUser", text="hi", msg_id="42")
)
BOMB = (DATA / "wechat" / "xml_bomb.xml").read_text(encoding="utf-8")
FEISHU_EVENT = json.loads((DATA / "feishu" / "message_p2p.json").read_text(encoding="utf-8"))


async def nothing_happened(h: Harness) -> None:
    await h.settle()
    assert await h.inbound() == []
    assert h.echo.messages == [] and h.echo.joins == []
    assert h.wecom.requests == [] and h.wechat.requests == [] and h.feishu.requests == []


async def send(
    h: Harness, platform: str, plain: str, *, timestamp: str | None = None, tamper: bool = False
) -> tuple[int, str]:
    """A correctly signed callback of `platform` carrying `plain`, optionally tampered."""
    ts = timestamp or h.clock.timestamp()
    if platform == "wecom":
        path, body = wecom_post(
            plain, token=WECOM_TOKEN, aes_key=WECOM_AES, corp_id=WECOM_CORP, timestamp=ts
        )
        headers: dict[str, str] = {}
    elif platform == "wechat":
        path, body = wechat_post(
            plain, token=WECHAT_TOKEN, timestamp=ts, aes_key=WECHAT_AES, app_id=WECHAT_APP
        )
        headers = {}
    else:
        headers, body = feishu_post(json.loads(plain), encrypt_key=FEISHU_KEY, timestamp=ts)
        path = "/feishu/events"
    if tamper:
        if platform == "feishu":
            headers["X-Lark-Signature"] = "0" * 64
        else:
            path = path.replace("msg_signature=", "msg_signature=0", 1)
    resp = await h.client.post(path, data=body, headers=headers)
    return resp.status, await resp.text()


pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PLAIN = {"wecom": TEXT, "wechat": TEXT, "feishu": json.dumps(FEISHU_EVENT)}


@pytest.mark.parametrize("platform", ["wecom", "wechat", "feishu"])
async def test_bad_signature_is_403_and_changes_nothing(db: Database, platform: str) -> None:
    async with channel_app(db) as h:
        status, body = await send(h, platform, PLAIN[platform], tamper=True)
        assert status == 403
        assert json.loads(body)["error"]["code"] == "bad_signature"
        await nothing_happened(h)


@pytest.mark.parametrize("platform", ["wecom", "wechat", "feishu"])
async def test_a_replay_ten_minutes_later_is_403(db: Database, platform: str) -> None:
    async with channel_app(db) as h:
        old = str(int(h.clock.now.timestamp()) - 600)
        status, body = await send(h, platform, PLAIN[platform], timestamp=old)
        assert (status, json.loads(body)["error"]["code"]) == (403, "stale")
        await nothing_happened(h)


@pytest.mark.parametrize("platform", ["wecom", "wechat", "feishu"])
async def test_oversized_body_is_413(db: Database, platform: str) -> None:
    async with channel_app(db) as h:
        path = {"wecom": "/wecom/callback", "wechat": "/wechat/callback"}.get(
            platform, "/feishu/events"
        )
        resp = await h.client.post(path, data=b"<" * (256 * 1024 + 1))
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "body_too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(300):
                yield b"<" * 1024

        resp = await h.client.post(path, data=chunks())
        assert resp.status == 413
        await nothing_happened(h)


async def test_xml_bombs_are_400_before_any_entity_is_expanded(db: Database) -> None:
    async with channel_app(db) as h:
        # As the outer body of a WeCom callback, and inside a correctly encrypted one.
        ts = h.clock.timestamp()
        resp = await h.client.post(
            "/wecom/callback",
            params={"msg_signature": "x", "timestamp": ts, "nonce": "n"},
            data=BOMB.encode(),
        )
        assert resp.status == 400
        assert (await send(h, "wecom", BOMB))[0] == 400
        assert (await send(h, "wechat", BOMB))[0] == 400
        await nothing_happened(h)


async def test_plaintext_official_account_bomb_is_400(db: Database) -> None:
    async with channel_app(db, wechat_aes=False) as h:
        path, body = wechat_post(BOMB, token=WECHAT_TOKEN, timestamp=h.clock.timestamp())
        resp = await h.client.post(path, data=body)
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "malformed"
        await nothing_happened(h)


async def test_malformed_xml_and_json_are_400(db: Database) -> None:
    async with channel_app(db) as h:
        ts = h.clock.timestamp()
        # Not XML at all, XML without <Encrypt>, a signed callback whose plaintext is broken.
        resp = await h.client.post("/wecom/callback", params={"timestamp": ts}, data=b"<xml><")
        assert resp.status == 400
        resp = await h.client.post(
            "/wecom/callback", params={"timestamp": ts}, data=b"<xml><A>1</A></xml>"
        )
        assert resp.status == 400
        assert (await send(h, "wechat", "<xml><MsgType>text</MsgType>"))[0] == 400
        # Feishu: not JSON, a JSON array, an encrypted payload that is not JSON inside.
        for raw in (b"{not json", b"[1, 2]"):
            resp = await h.client.post("/feishu/events", data=raw)
            assert resp.status == 400
        headers, body = feishu_post({}, encrypt_key=FEISHU_KEY, timestamp=ts)
        broken = body.replace(b'"encrypt": "', b'"encrypt": "AAAA')
        resp = await h.client.post("/feishu/events", data=broken, headers=headers)
        assert resp.status in (400, 403)  # undecryptable, or the signature no longer matches
        await nothing_happened(h)


async def test_missing_query_parameters_are_refused_not_crashed(db: Database) -> None:
    async with channel_app(db) as h:
        for path in ("/wecom/callback", "/wechat/callback"):
            resp = await h.client.get(path)
            assert resp.status == 403  # no timestamp: cannot be fresh
            ts = h.clock.timestamp()
            resp = await h.client.get(path, params={"timestamp": ts, "nonce": "n"})
            assert resp.status == 400  # no echostr
        ts = h.clock.timestamp()
        signature = sha1_signature(WECHAT_TOKEN, ts, "n")
        resp = await h.client.get(
            "/wechat/callback", params={"timestamp": ts, "nonce": "n", "signature": signature}
        )
        assert resp.status == 400
        await nothing_happened(h)


async def test_a_platform_without_credentials_answers_404(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    container = bootstrap(load_settings(database_url=url), db=db)
    async with TestClient(TestServer(create_app(container))) as client:
        for method, path in (
            ("POST", "/wecom/callback"),
            ("GET", "/wechat/callback"),
            ("POST", "/feishu/events"),
        ):
            resp = await client.request(method, path, data=b"<xml/>")
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "channel_not_configured"
    async with db.uow() as uow:
        assert (await uow.session.execute(select(InboundEvent))).first() is None
