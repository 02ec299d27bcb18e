"""Feishu end to end: encrypted, signed events posted as Feishu posts them; group @mentions,
private chats, group joins, ignored types; replies through the fake im/v1 API."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from fakes.harness import FEISHU_KEY, FEISHU_TOKEN, Harness, channel_app
from fakes.signing import feishu_post

from models.db import Database

DATA = Path(__file__).parent / "data" / "feishu"
MESSAGES = "/open-apis/im/v1/messages"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


async def post(h: Harness, payload: dict[str, Any]) -> tuple[int, Any]:
    headers, body = feishu_post(payload, encrypt_key=FEISHU_KEY, timestamp=h.clock.timestamp())
    resp = await h.client.post("/feishu/events", data=body, headers=headers)
    return resp.status, await resp.json()


def with_text(payload: dict[str, Any], text: str, event_id: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["header"]["event_id"] = event_id
    changed["event"]["message"]["content"] = json.dumps({"text": text})
    return changed


async def test_url_verification_answers_the_challenge_after_the_token_check(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        status, body = await post(h, event("url_verification.json"))
        assert (status, body) == (200, {"challenge": "ajls384kdjx98XX"})
        forged = event("url_verification.json") | {"token": "not-the-token"}
        status, body = await post(h, forged)
        assert (status, body["error"]["code"]) == (403, "bad_token")


async def test_group_mention_is_stripped_stored_once_and_answered_in_the_chat(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        payload = event("message_group.json")
        for _ in range(3):  # Feishu redelivers at least once; re-signed every time
            status, body = await post(h, payload)
            assert (status, body) == (200, {"msg": "success"})
        await h.settle()

        [msg] = h.echo.messages
        assert (msg.text, msg.is_group, msg.is_to_me) == ("/invite", True, True)
        assert msg.user_id == "ou_84aad35d084aa403a838cf73ee18467"
        assert msg.union_id == "on_8ed6aa67826108097d9ee143816345"
        assert msg.conversation_id == "oc_5ce6d572455d361153b7xx51da133945"
        [row] = await h.inbound()
        assert (row.event_id, row.status) == ("5e3702a84e847582be8db7fb73283c02", "done")
        [sent] = h.feishu.calls(MESSAGES)
        assert sent.query == {"receive_id_type": "chat_id"}
        assert sent.json["receive_id"] == "oc_5ce6d572455d361153b7xx51da133945"
        assert (sent.json["msg_type"], json.loads(sent.json["content"])) == (
            "text",
            {"text": "echo: /invite"},
        )
        assert len(sent.json["uuid"]) == 32
        assert sent.headers["Authorization"].startswith("Bearer tok-")
        assert h.feishu.token_fetches == 1
        assert len(h.feishu.calls("/open-apis/bot/v3/info")) == 1


async def test_private_chat_and_a_mention_of_somebody_else(db: Database) -> None:
    async with channel_app(db) as h:
        await post(h, event("message_p2p.json"))
        other = with_text(event("message_group.json"), "@_user_1 你好", "evt-other-mention")
        other["event"]["message"]["mentions"] = [
            {"key": "@_user_1", "id": {"open_id": "ou_wangwu"}, "name": "王五"}
        ]
        await post(h, other)
        await h.settle()
        private, group = h.echo.messages
        assert (private.text, private.is_group, private.is_to_me) == ("积分", False, True)
        assert private.conversation_id == private.user_id
        assert (group.text, group.is_group, group.is_to_me) == ("@王五 你好", True, False)


async def test_members_added_are_joins_welcomed_in_the_group(db: Database) -> None:
    async with channel_app(db) as h:
        assert await post(h, event("member_user_added.json")) == (200, {"msg": "success"})
        await h.settle()
        zhao, qian = h.echo.joins
        assert (zhao.user_id, zhao.union_id, zhao.display_name, zhao.channel) == (
            "ou_zhaoliu",
            "on_zhaoliu",
            "赵六",
            "feishu_group",
        )
        assert zhao.conversation_id == "oc_a0553eda9014c201e6969b478895c230"
        assert qian.event_id == "0d6b4a7f9c1e4a1bbd2d1c3e5f7a9b11:ou_qianqi"
        texts = [json.loads(m["content"])["text"] for m in h.feishu.delivered]
        assert texts == ["欢迎 -", "欢迎 -"]


async def test_cards_and_posters(db: Database) -> None:
    async with channel_app(db) as h:
        for text, event_id in (("/card", "evt-card"), ("/poster", "evt-poster")):
            await post(h, with_text(event("message_group.json"), f"@_user_1 {text}", event_id))
            await h.settle()  # two events are worked on concurrently: keep their order
        kinds = [m["msg_type"] for m in h.feishu.delivered]
        assert kinds == ["interactive", "text", "text", "image"]
        card = json.loads(h.feishu.delivered[0]["content"])
        assert card["header"]["title"]["content"] == "客户卡片"
        assert card["elements"][0]["fields"][0]["text"]["content"] == "阶段：成长客户"
        [upload] = h.feishu.calls("/open-apis/im/v1/images")
        image = json.loads(h.feishu.delivered[3]["content"])
        assert image["image_key"].startswith("img_")
        assert upload.form["image_type"] == "message"


async def test_other_event_types_and_bot_messages_are_stored_as_ignored_with_200(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        assert await post(h, event("message_read.json")) == (200, {"msg": "success"})
        unknown = event("message_read.json")
        unknown["header"] |= {"event_type": "contact.user.created_v3", "event_id": "evt-x"}
        assert await post(h, unknown) == (200, {"msg": "success"})
        assert await post(h, unknown) == (200, {"msg": "success"})  # redelivered
        from_bot = event("message_group.json")
        from_bot["event"]["sender"]["sender_type"] = "app"
        assert await post(h, from_bot) == (200, {"msg": "success"})
        await h.settle()
        rows = await h.inbound()
        assert [(r.event_id, r.kind, r.status, r.payload) for r in rows] == [
            (
                "aa11bb22cc33dd44ee55ff6677889900",
                "ignored",
                "done",
                {"type": "im.message.message_read_v1"},
            ),
            ("evt-x", "ignored", "done", {"type": "contact.user.created_v3"}),
            (
                "5e3702a84e847582be8db7fb73283c02",
                "ignored",
                "done",
                {"type": "im.message.receive_v1"},
            ),
        ]
        assert h.echo.messages == []
        assert h.feishu.requests == []


async def test_wrong_verification_token_in_an_event_is_refused(db: Database) -> None:
    async with channel_app(db) as h:
        payload = event("message_p2p.json")
        payload["header"]["token"] = FEISHU_TOKEN + "x"
        status, body = await post(h, payload)
        assert (status, body["error"]["code"]) == (403, "bad_token")
        assert await h.inbound() == []


async def test_events_not_encrypted_or_not_signed_are_refused(db: Database) -> None:
    async with channel_app(db) as h:
        payload = event("message_p2p.json")
        # Signed with the right key and token inside, but not encrypted: Feishu encrypts every
        # event once an Encrypt Key is set, so this did not come from Feishu.
        plain = json.dumps(payload).encode()
        ts = h.clock.timestamp()
        signature = hashlib.sha256((ts + "n1" + FEISHU_KEY).encode() + plain).hexdigest()
        signed = {
            "X-Lark-Request-Timestamp": ts,
            "X-Lark-Request-Nonce": "n1",
            "X-Lark-Signature": signature,
        }
        resp = await h.client.post("/feishu/events", data=plain, headers=signed)
        assert (resp.status, (await resp.json())["error"]["code"]) == (403, "not_encrypted")
        # Encrypted, but without the signature headers.
        headers, body = feishu_post(payload, encrypt_key=FEISHU_KEY, timestamp=ts)
        del headers["X-Lark-Signature"]
        resp = await h.client.post("/feishu/events", data=body, headers=headers)
        assert (resp.status, (await resp.json())["error"]["code"]) == (403, "bad_signature")
        await h.settle()
        assert await h.inbound() == []
        assert h.echo.messages == []
