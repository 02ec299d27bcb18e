"""`GET /metrics` counts callbacks by platform and result, times commands, counts deliveries."""

from __future__ import annotations

from pathlib import Path

from fakes.harness import WECOM_AES, WECOM_CORP, WECOM_TOKEN, channel_app
from fakes.signing import wecom_post

from models.db import Database

XML = (Path(__file__).parent / "data" / "wecom" / "text_message.xml").read_text("utf-8")


async def test_metrics_after_a_message_a_duplicate_and_a_forgery(db: Database) -> None:
    async with channel_app(db) as h:
        path, body = wecom_post(
            XML.format(text="hi", msg_id="77"),
            token=WECOM_TOKEN,
            aes_key=WECOM_AES,
            corp_id=WECOM_CORP,
            timestamp=h.clock.timestamp(),
        )
        for _ in range(2):
            assert (await h.client.post(path, data=body)).status == 200
        forged = path.replace("msg_signature=", "msg_signature=f", 1)
        assert (await h.client.post(forged, data=body)).status == 403
        assert (await h.client.post("/feishu/events", data=b"{")).status == 400
        await h.settle()

        resp = await h.client.get("/metrics")
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        lines = set((await resp.text()).splitlines())
        for expected in (
            'fission_callbacks_total{platform="wecom",result="accepted"} 1.0',
            'fission_callbacks_total{platform="wecom",result="duplicate"} 1.0',
            'fission_callbacks_total{platform="wecom",result="bad_signature"} 1.0',
            'fission_callbacks_total{platform="feishu",result="malformed"} 1.0',
            'fission_deliveries_total{platform="wecom",result="sent"} 1.0',
            'fission_command_seconds_count{kind="message",platform="wecom"} 1.0',
        ):
            assert expected in lines
