"""WeCom end to end: sign and encrypt a callback as WeCom does, post it to the running app,
then look at the database and at what the fake WeCom API received."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fakes.harness import PNG, WECOM_CORP, Clock, Harness, channel_app

from models.db import Database

DATA = Path(__file__).parent / "data" / "wecom"
SEND = "/cgi-bin/message/send"


def xml(name: str, **fields: str) -> str:
    text = (DATA / name).read_text(encoding="utf-8")
    for key, value in fields.items():
        text = text.replace("{" + key + "}", value)
    return text


async def post(h: Harness, plain_xml: str) -> tuple[int, str]:
    return await h.post_wecom(plain_xml)


async def test_url_verification_with_the_published_echostr(db: Database) -> None:
    clock = Clock(datetime.fromtimestamp(1409659589, UTC))
    async with channel_app(db, clock=clock) as h:
        resp = await h.client.get(
            "/wecom/callback",
            params={
                "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                "timestamp": "1409659589",
                "nonce": "263014780",
                "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8"
                "TgAE7OaBO+FZXvnaqQ==",
            },
        )
        assert resp.status == 200
        assert await resp.text() == "1616140317555161061"
        assert await h.inbound() == []


async def test_the_published_message_is_stored_answered_and_replied_once(db: Database) -> None:
    clock = Clock(datetime.fromtimestamp(1409659813, UTC))
    encrypted = (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczcd"
        "CUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjv"
        "d4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnv"
        "w2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k2"
        "2Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoyy"
        "H2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    )
    body = (
        "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
    )
    params = {
        "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
        "timestamp": "1409659813",
        "nonce": "1372623149",
    }
    async with channel_app(db, clock=clock) as h:
        for _ in range(2):  # WeCom retries: the second delivery must change nothing
            resp = await h.client.post("/wecom/callback", params=params, data=body)
            assert resp.status == 200
            assert await resp.text() == ""
            await h.settle()

        [row] = await h.inbound()
        assert (row.platform, row.app_id, row.event_id) == (
            "wecom",
            WECOM_CORP,
            "4561255354251345929",
        )
        assert (row.kind, row.status, row.attempts) == ("message", "done", 1)
        [msg] = h.echo.messages
        assert (msg.user_id, msg.text, msg.is_group, msg.is_to_me) == (
            "mycreate",
            "hello",
            False,
            True,
        )
        [sent] = h.wecom.calls(SEND)
        assert sent.json == {
            "touser": "mycreate",
            "msgtype": "text",
            "agentid": 1000002,
            "text": {"content": "echo: hello"},
        }
        assert sent.query["access_token"] in h.wecom.issued_tokens
        assert h.wecom.token_fetches == 1
        [log] = await h.outbound()
        assert (log.status, log.recipient, log.kind) == ("sent", "mycreate", "text")


async def test_poster_is_uploaded_once_and_cards_become_markdown(db: Database) -> None:
    async with channel_app(db) as h:
        for msg_id, text in (("101", "/poster"), ("102", "/poster"), ("103", "/card")):
            status, _ = await post(h, xml("text_message.xml", text=text, msg_id=msg_id))
            assert status == 200
        await h.settle()

        [upload] = h.wecom.calls("/cgi-bin/media/upload")
        assert upload.query["type"] == "image"
        assert upload.form["media"] == PNG
        sent = [call.json for call in h.wecom.calls(SEND)]
        images = [s for s in sent if s["msgtype"] == "image"]
        assert len(images) == 2
        assert images[0]["image"]["media_id"] == images[1]["image"]["media_id"]
        [card] = [s for s in sent if s["msgtype"] == "markdown"]
        assert card["markdown"]["content"].startswith("**客户卡片**\n> 阶段：成长客户")
        # text, caption + image, twice; the card: seven sends, all logged as sent
        assert [row.status for row in await h.outbound()] == ["sent"] * 7


async def test_contact_added_with_a_referral_state_is_a_join_with_a_welcome(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        h.wecom.contacts["wmEXTERNAL0001"] = {"name": "王小二", "unionid": "oUNION0001"}
        status, text = await post(h, xml("add_external_contact.xml", state="K7P2M9QX"))
        assert (status, text) == (200, "")
        await h.settle()

        [join] = h.echo.joins
        assert (join.user_id, join.channel, join.referral_code) == (
            "wmEXTERNAL0001",
            "wecom_contact",
            "K7P2M9QX",
        )
        assert (join.union_id, join.display_name) == ("oUNION0001", "王小二")
        [welcome] = h.wecom.calls("/cgi-bin/externalcontact/send_welcome_msg")
        assert welcome.json == {
            "welcome_code": "WELCOMECODE-1",
            "text": {"content": "欢迎 K7P2M9QX"},
        }


async def test_a_prefixed_state_is_not_a_referral_code(db: Database) -> None:
    async with channel_app(db) as h:
        await post(h, xml("add_external_contact.xml", state="channel_spring"))
        await h.settle()
        [join] = h.echo.joins
        assert join.referral_code is None


async def test_group_join_is_resolved_through_the_group_chat_api(db: Database) -> None:
    async with channel_app(db) as h:
        h.wecom.group_chats["wrGROUP0001"] = json.loads(
            (DATA / "groupchat_get.json").read_text(encoding="utf-8")
        )
        status, _ = await post(h, xml("change_external_chat_add_member.xml"))
        assert status == 200
        await h.settle()

        [lookup] = h.wecom.calls("/cgi-bin/externalcontact/groupchat/get")
        assert lookup.json == {"chat_id": "wrGROUP0001", "need_name": 1}
        # The staff member and the member who joined months ago are not new arrivals.
        [join] = h.echo.joins
        assert (join.user_id, join.channel, join.conversation_id) == (
            "wmNEWMEMBER",
            "wecom_group",
            "wrGROUP0001",
        )
        assert (join.referral_code, join.union_id, join.display_name) == (
            "K7P2M9QX",
            "oUNIONnew",
            "王五",
        )
        assert join.occurred_at == datetime.fromtimestamp(1700000199, UTC)
        # An app cannot post into a customer group: nothing is sent.
        assert h.wecom.calls(SEND) == []
        [row] = await h.inbound()
        assert (row.kind, row.status) == ("group_change", "done")


async def test_ignored_events_are_answered_and_stored_as_ignored(db: Database) -> None:
    async with channel_app(db) as h:
        enter_agent = (
            "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>"
            "<FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>"
            "<EventKey><![CDATA[]]></EventKey><AgentID>1000002</AgentID></xml>"
        )
        assert await post(h, enter_agent) == (200, "")
        assert await post(h, enter_agent) == (200, "")  # WeCom's retry
        await h.settle()
        [row] = await h.inbound()
        assert (row.kind, row.status, row.payload) == (
            "ignored",
            "done",
            {"type": "event:enter_agent"},
        )
        assert h.echo.messages == []
        assert h.wecom.requests == []
