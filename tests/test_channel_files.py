"""A file for staff (an export) as each platform can take it: Feishu uploads it to im/v1/files
and sends a `file` message, WeCom uploads temporary media of type file and sends a `file` app
message, the Official Account (no file message) and any file over a platform's size limit get
the text saying how else to get it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from fakes.feishu import UploadedFile
from fakes.harness import (
    EXPORT,
    FEISHU_KEY,
    Harness,
    channel_app,
)
from fakes.signing import feishu_post
from test_channel_wechat import decrypt_reply
from test_channel_wechat import post as wechat_post
from test_channel_wechat import xml as wechat_xml
from test_channel_wecom_members import say as wecom_says

from models.db import Database

FEISHU_P2P = json.loads(
    (Path(__file__).parent / "data" / "feishu" / "message_p2p.json").read_text("utf-8")
)


async def feishu_says(h: Harness, text: str, event_id: str) -> None:
    payload = copy.deepcopy(FEISHU_P2P)
    payload["header"]["event_id"] = event_id
    payload["event"]["message"]["content"] = json.dumps({"text": text})
    headers, body = feishu_post(payload, encrypt_key=FEISHU_KEY, timestamp=h.clock.timestamp())
    resp = await h.client.post("/feishu/events", data=body, headers=headers)
    assert resp.status == 200
    await h.settle()


def feishu_texts(h: Harness) -> list[str]:
    return [json.loads(m["content"])["text"] for m in h.feishu.delivered if m["msg_type"] == "text"]


async def test_feishu_uploads_the_file_and_sends_a_file_message_after_the_caption(
    db: Database,
) -> None:
    async with channel_app(db) as h:
        await feishu_says(h, "/file", "evt-file")
        assert [m["msg_type"] for m in h.feishu.delivered] == ["text", "file"]
        assert feishu_texts(h) == ["客户分级表：3 行"]
        assert h.feishu.file_messages() == [
            UploadedFile("客户分级表-2026-12-05.xlsx", "xls", EXPORT.content)
        ]
        [upload] = h.feishu.calls("/open-apis/im/v1/files")
        assert upload.filenames["file"] == "客户分级表-2026-12-05.xlsx"
        assert [(row.kind, row.status) for row in await h.outbound()] == [
            ("text", "sent"),
            ("file", "sent"),
        ]
        # Feishu redelivers the event: nothing is uploaded or sent twice
        await feishu_says(h, "/file", "evt-file")
        assert len(h.feishu.calls("/open-apis/im/v1/files")) == 1


async def test_wecom_sends_temporary_media_of_type_file_to_the_member(db: Database) -> None:
    async with channel_app(db) as h:
        await wecom_says(h, "/file", "501")
        [upload] = h.wecom.calls("/cgi-bin/media/upload")
        assert upload.query["type"] == "file"
        assert upload.filenames["media"] == "客户分级表-2026-12-05.xlsx"
        assert [m["msgtype"] for m in h.wecom.delivered] == ["text", "file"]
        assert h.wecom.delivered[0]["text"]["content"] == "客户分级表：3 行"
        [media] = h.wecom.file_messages()
        assert (media.kind, media.filename, media.content) == (
            "file",
            "客户分级表-2026-12-05.xlsx",
            EXPORT.content,
        )
        assert h.wecom.delivered[1]["touser"] == "zhangsan"  # the member who asked


async def test_the_official_account_says_how_to_get_the_file_instead(db: Database) -> None:
    async with channel_app(db) as h:
        status, text = await wechat_post(
            h, wechat_xml("text.xml", openid="oStaff", text="/file", msg_id="77")
        )
        assert status == 200
        reply = decrypt_reply(text)
        assert reply["Content"] == "客户分级表：3 行\n请在服务器上运行：fission export grades"
        await h.settle()
        assert h.wechat.calls("/cgi-bin/media/upload") == []


async def test_a_file_over_the_size_limit_becomes_the_text_instead(db: Database) -> None:
    async with channel_app(db) as h:
        await feishu_says(h, "/bigfile", "evt-big")
        await wecom_says(h, "/bigfile", "502")
        assert feishu_texts(h) == ["fission export lifecycle"]
        assert h.feishu.calls("/open-apis/im/v1/files") == []
        assert [m["text"]["content"] for m in h.wecom.delivered] == ["fission export lifecycle"]
        assert h.wecom.calls("/cgi-bin/media/upload") == []
