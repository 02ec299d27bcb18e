"""Official Account end to end: plaintext and safe mode, passive replies inside WeChat's 5 s,
customer-service messages for slow work, referral joins from parametric QR codes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from defusedxml.ElementTree import fromstring
from fakes.harness import (
    WECHAT_AES,
    WECHAT_APP,
    WECHAT_TOKEN,
    Clock,
    EchoDispatcher,
    Harness,
    channel_app,
    decrypt_reply,
)
from fakes.signing import sha1_signature, wechat_post

from models.db import Database

DATA = Path(__file__).parent / "data" / "wechat"
CUSTOM = "/cgi-bin/message/custom/send"


def xml(name: str, **fields: str) -> str:
    text = (DATA / name).read_text(encoding="utf-8")
    for key, value in fields.items():
        text = text.replace("{" + key + "}", value)
    return text


async def post(h: Harness, plain_xml: str, *, safe: bool = True) -> tuple[int, str]:
    path, body = wechat_post(
        plain_xml,
        token=WECHAT_TOKEN,
        timestamp=h.clock.timestamp(),
        aes_key=WECHAT_AES if safe else None,
        app_id=WECHAT_APP,
    )
    resp = await h.client.post(path, data=body)
    return resp.status, await resp.text()


async def test_url_verification_echoes_after_the_signature_check(db: Database) -> None:
    async with channel_app(db) as h:
        ts = h.clock.timestamp()
        good = {"timestamp": ts, "nonce": "n1", "echostr": "e-123"}
        resp = await h.client.get(
            "/wechat/callback", params=good | {"signature": sha1_signature(WECHAT_TOKEN, ts, "n1")}
        )
        assert (resp.status, await resp.text()) == (200, "e-123")
        resp = await h.client.get("/wechat/callback", params=good | {"signature": "0" * 40})
        assert resp.status == 403
        assert (await resp.json())["error"]["code"] == "bad_signature"


async def test_the_published_safe_mode_message_gets_an_encrypted_passive_reply(
    db: Database,
) -> None:
    clock = Clock(datetime.fromtimestamp(1409735669, UTC))
    encrypted = (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6"
        "F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T33"
        "2jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCg"
        "avjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6Oewp"
        "usjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    )
    body = (
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    params = {
        "timestamp": "1409735669",
        "nonce": "1320562132",
        "encrypt_type": "aes",
        "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    }
    async with channel_app(db, clock=clock) as h:
        resp = await h.client.post("/wechat/callback", params=params, data=body)
        assert resp.status == 200
        reply = decrypt_reply(await resp.text())
        assert reply["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
        assert reply["FromUserName"] == "gh_10f6c3c3ac5a"
        assert (reply["MsgType"], reply["Content"]) == ("text", "echo: abcdteT")
        await h.settle()
        assert h.wechat.calls(CUSTOM) == []  # the passive reply was the whole answer
        [row] = await h.inbound()
        assert (row.event_id, row.status) == ("6054768590064713728", "done")
        [log] = await h.outbound()
        assert (log.kind, log.status) == ("passive", "sent")


async def test_slow_work_is_acknowledged_at_once_and_replied_through_the_api(
    db: Database,
) -> None:
    async with channel_app(db, echo=EchoDispatcher(delay=1.2)) as h:
        started = time.monotonic()
        status, text = await post(h, xml("text.xml", openid="oSlow", text="/slow", msg_id="7"))
        assert (status, text) == (200, "success")
        assert time.monotonic() - started < 1.0  # the 0.4 s budget, not the 1.2 s of work
        assert h.wechat.calls(CUSTOM) == []
        await h.settle()
        [sent] = h.wechat.calls(CUSTOM)
        assert sent.json == {
            "touser": "oSlow",
            "msgtype": "text",
            "text": {"content": "echo: /slow"},
        }


async def test_first_text_goes_passive_and_the_poster_through_the_api(db: Database) -> None:
    async with channel_app(db) as h:
        status, text = await post(h, xml("text.xml", openid="oPoster", text="/poster", msg_id="8"))
        assert status == 200
        assert decrypt_reply(text)["Content"] == "你的邀请链接"
        await h.settle()
        assert [c.json["msgtype"] for c in h.wechat.calls(CUSTOM)] == ["text", "image"]
        [upload] = h.wechat.calls("/cgi-bin/media/upload")
        assert h.wechat.calls(CUSTOM)[1].json["image"]["media_id"] != ""
        assert upload.query["type"] == "image"


async def test_plaintext_mode_replies_in_plain_xml_and_drops_duplicates(db: Database) -> None:
    async with channel_app(db, wechat_aes=False) as h:
        # The user typed `帮助 ]]> <b>`; WeChat splits the CDATA section around `]]>`.
        message = xml("text.xml", openid="oPlain", text="帮助 ]]]]><![CDATA[> <b>", msg_id="9001")
        status, text = await post(h, message, safe=False)
        assert status == 200
        reply = {child.tag: child.text for child in fromstring(text)}
        assert reply["Content"] == "echo: 帮助 ]]> <b>"  # CDATA could not be broken out of
        status, text = await post(h, message, safe=False)
        assert (status, text) == (200, "success")
        await h.settle()
        assert len(h.echo.messages) == 1
        assert len(await h.inbound()) == 1
        assert h.wechat.calls(CUSTOM) == []


async def test_subscribe_through_a_referral_qr_is_a_join_with_the_code(db: Database) -> None:
    async with channel_app(db) as h:
        h.wechat.users["oFriend"] = {"unionid": "oUNIONfriend"}
        status, text = await post(
            h, xml("subscribe_qrscene.xml", openid="oFriend", scene="K7P2M9QX")
        )
        assert status == 200
        assert decrypt_reply(text)["Content"] == "欢迎 K7P2M9QX"
        await post(h, xml("scan.xml", openid="oFollower", scene="K7P2M9QX"))
        await post(h, xml("subscribe_qrscene.xml", openid="oOther", scene="poster_2024"))
        await h.settle()
        first, scan, other = h.echo.joins
        assert (first.user_id, first.channel, first.referral_code, first.union_id) == (
            "oFriend",
            "wechat_qr",
            "K7P2M9QX",
            "oUNIONfriend",
        )
        assert (scan.user_id, scan.referral_code) == ("oFollower", "K7P2M9QX")
        assert other.referral_code is None  # a prefixed scene is not a referral code


async def test_outside_the_48_hour_window_is_a_result_not_a_storm(db: Database) -> None:
    async with channel_app(db, echo=EchoDispatcher(delay=0.6)) as h:
        # Too slow for a passive reply, and the user is outside the customer-service window:
        # the first refusal stops the batch, the poster is neither uploaded nor sent.
        h.wechat.fail_next(CUSTOM, "outside_window")
        await post(h, xml("text.xml", openid="oDormant", text="/slow /poster", msg_id="10"))
        await h.settle()
        [attempt] = h.wechat.calls(CUSTOM)
        assert attempt.json["touser"] == "oDormant"
        assert h.wechat.calls("/cgi-bin/media/upload") == []
        [log] = await h.outbound()
        assert (log.status, log.error_code) == ("outside_window", 45015)
        [row] = await h.inbound()
        assert row.status == "done"


async def test_unsubscribe_is_stored_as_ignored_and_safe_mode_refuses_plaintext(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        assert await post(h, xml("unsubscribe.xml")) == (200, "success")
        status, _ = await post(h, xml("text.xml", openid="o1", text="hi", msg_id="11"), safe=False)
        assert status == 400
        await h.settle()
        [row] = await h.inbound()  # the unsubscribe, with nothing to do
        assert (row.kind, row.payload) == ("ignored", {"type": "event:unsubscribe"})
        assert h.echo.messages == []


async def test_an_event_type_wechatpy_does_not_know_is_acknowledged_and_stored(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        popup = xml("subscribe_msg_popup_event.xml")
        assert await post(h, popup) == (200, "success")
        assert await post(h, popup) == (200, "success")  # WeChat's retry changes nothing
        await h.settle()
        [row] = await h.inbound()
        assert (row.kind, row.status) == ("ignored", "done")
        assert row.payload == {"type": "event:subscribe_msg_popup_event"}
        assert h.echo.messages == [] and h.echo.joins == []
        assert h.wechat.requests == []
