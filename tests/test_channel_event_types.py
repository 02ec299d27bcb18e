"""Each platform's event types as the platform sends them (golden payloads under
tests/data/<platform>/, one file per type), signed and encrypted, posted to the running app:
answered the way the platform expects, stored once — as work, or as `ignored` with nothing but
its type — and never answered with an error, which would make the platform retry for hours."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.harness import (
    FEISHU_KEY,
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    Harness,
    channel_app,
    decrypt_reply,
)
from fakes.signing import feishu_post, wechat_post

from models.db import Database

DATA = Path(__file__).parent / "data"
WORK = "done"  # the event was worked on after the answer

# (file, placeholders, what is stored: the kind, and for an ignored event its type)
WECOM = [
    ("text_message.xml", {"text": "积分", "msg_id": "1234567890123456"}, "message", None),
    ("subscribe.xml", {}, "ignored", "event:subscribe"),
    ("enter_agent.xml", {}, "ignored", "event:enter_agent"),
    ("add_external_contact.xml", {"state": "K7P2M9QX"}, "join", None),
    (
        "del_follow_user.xml",
        {},
        "follow",  # the follow ends: a mass message's sender must follow the customer
        None,
    ),
    (
        "del_external_contact.xml",
        {},
        "follow",
        None,
    ),
    ("change_external_chat_add_member.xml", {}, "group_change", None),
    ("change_external_tag.xml", {}, "ignored", "event:change_external_tag:create"),
]

# (file, placeholders, the answer: a passive reply's text or "success", kind, ignored type)
OFFICIAL_ACCOUNT = [
    (
        "text.xml",
        {"openid": "oUserText", "text": "积分", "msg_id": "24281750118000000"},
        "echo: 积分",
        "message",
        None,
    ),
    ("image.xml", {}, "success", "ignored", "image"),
    ("subscribe.xml", {}, "欢迎 -", "join", None),
    (
        "subscribe_qrscene.xml",
        {"openid": "oUserQr", "scene": "K7P2M9QX"},
        "欢迎 K7P2M9QX",
        "join",
        None,
    ),
    ("unsubscribe.xml", {}, "success", "ignored", "event:unsubscribe"),
    ("scan.xml", {"openid": "oUserScan", "scene": "K7P2M9QX"}, "欢迎 K7P2M9QX", "join", None),
    ("click.xml", {}, "success", "ignored", "event:click"),
    ("view.xml", {}, "success", "ignored", "event:view"),
    ("templatesendjobfinish.xml", {}, "success", "ignored", "event:templatesendjobfinish"),
    ("subscribe_msg_popup_event.xml", {}, "success", "ignored", "event:subscribe_msg_popup_event"),
    (
        "subscribe_msg_change_event.xml",
        {},
        "success",
        "ignored",
        "event:subscribe_msg_change_event",
    ),
    ("subscribe_msg_sent_event.xml", {}, "success", "ignored", "event:subscribe_msg_sent_event"),
]

SUCCESS = {"msg": "success"}
# (file, the JSON answer, kind, ignored type); url_verification is answered, never stored
FEISHU = [
    ("message_p2p.json", SUCCESS, "message", None),
    ("message_group.json", SUCCESS, "message", None),
    ("member_user_added.json", SUCCESS, "join", None),
    ("bot_added.json", SUCCESS, "ignored", "im.chat.member.bot.added_v1"),
    ("url_verification.json", {"challenge": "ajls384kdjx98XX"}, None, None),
    ("unknown_type.json", SUCCESS, "ignored", "contact.user.created_v3"),
]


def golden(platform: str, name: str, fields: dict[str, str]) -> str:
    text = (DATA / platform / name).read_text(encoding="utf-8")
    for key, value in fields.items():
        text = text.replace("{" + key + "}", value)
    return text


async def stored(h: Harness) -> list[tuple[str, str, str | None]]:
    """(kind, status, type of an ignored event) of every stored event, in arrival order."""
    return [(row.kind, row.status, row.payload.get("type")) for row in await h.inbound()]


def expected_rows(cases: list[tuple[str | None, str | None]]) -> list[tuple[str, str, str | None]]:
    return [(kind, WORK, kind_type) for kind, kind_type in cases if kind is not None]


async def test_wecom_event_types(db: Database) -> None:
    async with channel_app(db) as h:
        h.wecom.group_chats["wrGROUP0001"] = json.loads(
            (DATA / "wecom" / "groupchat_get.json").read_text(encoding="utf-8")
        )
        answers = []
        for _ in range(2):  # WeCom retries every callback it thinks went unanswered
            for name, fields, _kind, _type in WECOM:
                answers.append((name, *await h.post_wecom(golden("wecom", name, fields))))
            await h.settle()
        assert answers == [(name, 200, "") for name, *_ in WECOM] * 2
        assert await stored(h) == expected_rows([(kind, t) for _, _, kind, t in WECOM])
        # The text, the new contact and the group join were worked on, once each.
        assert [m.text for m in h.echo.messages] == ["积分"]
        assert [j.user_id for j in h.echo.joins] == ["wmEXTERNAL0001", "wmNEWMEMBER"]


async def test_official_account_event_types(db: Database) -> None:
    async with channel_app(db) as h:
        answers = []
        for name, fields, _answer, _kind, _type in OFFICIAL_ACCOUNT:
            path, body = wechat_post(
                golden("wechat", name, fields),
                token=WECHAT_TOKEN,
                timestamp=h.clock.timestamp(),
                aes_key=WECHAT_AES,
                app_id=WECHAT_APP,
            )
            resp = await h.client.post(path, data=body)
            text = await resp.text()
            answer = text if text == "success" else decrypt_reply(text)["Content"]
            answers.append((name, resp.status, answer))
        await h.settle()
        assert answers == [(name, 200, answer) for name, _, answer, *_ in OFFICIAL_ACCOUNT]
        assert await stored(h) == expected_rows([(k, t) for *_, k, t in OFFICIAL_ACCOUNT])
        assert [j.referral_code for j in h.echo.joins] == [None, "K7P2M9QX", "K7P2M9QX"]


async def test_feishu_event_types(db: Database) -> None:
    async with channel_app(db) as h:
        answers = []
        for name, _answer, _kind, _type in FEISHU:
            payload = json.loads(golden("feishu", name, {}))
            headers, body = feishu_post(
                payload, encrypt_key=FEISHU_KEY, timestamp=h.clock.timestamp()
            )
            resp = await h.client.post("/feishu/events", data=body, headers=headers)
            answers.append((name, resp.status, await resp.json()))
        await h.settle()
        assert answers == [(name, 200, answer) for name, answer, *_ in FEISHU]
        assert await stored(h) == expected_rows([(k, t) for *_, k, t in FEISHU])
        # Nothing of an ignored event's content is kept: not the new employee's name or phone.
        rows = await h.inbound()
        assert "13812345678" not in json.dumps([row.payload for row in rows])
        assert [m.text for m in h.echo.messages] == ["积分", "/invite"]
        assert [j.user_id for j in h.echo.joins] == ["ou_zhaoliu", "ou_qianqi"]
