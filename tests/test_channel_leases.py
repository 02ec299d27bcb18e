"""An inbound event is worked on by one attempt at a time.

A handler slower than the lease keeps it (the worker renews it while the handler runs), so the
periodic sweep does not start the same event a second time. An attempt that lost its row anyway
(another process, its clock ahead, claimed it) cannot overwrite that attempt's outcome, and
stops its own work at the next renewal."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes.harness import FAST, Clock, Harness, channel_app

from bot.channels.dispatcher import Dispatcher
from bot.channels.inbound import InboundStore
from bot.channels.registry import build_channels
from handlers.events import ChatMessage, HandlerContext, JoinEvent, Reply, TextReply
from models.db import Database

XML = (Path(__file__).parent / "data" / "wecom" / "text_message.xml").read_text("utf-8")
SEND = "/cgi-bin/message/send"


class WallClock(Clock):
    """The real time, for leases measured while real handlers sleep."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self) -> str:
        return str(int(time.time()))


async def post_text(h: Harness, text: str, msg_id: str) -> None:
    assert await h.post_wecom(XML.format(text=text, msg_id=msg_id)) == (200, "")


async def test_a_handler_slower_than_the_lease_runs_once(db: Database) -> None:
    # The sweep looks for expired leases every 0.1 s; the handler needs 2 s, the lease 0.6 s.
    options = replace(FAST, lease=timedelta(seconds=0.6), sweep_interval=0.1)
    async with channel_app(db, clock=WallClock(), options=options) as h:
        h.echo.delay = 2.0
        await post_text(h, "/slow", "5001")
        await h.settle()  # the sweep ran ~20 times meanwhile
        assert [m.text for m in h.echo.messages] == ["/slow"]
        [row] = await h.inbound()
        assert (row.status, row.attempts, row.last_error) == ("done", 1, None)
        [sent] = h.wecom.calls(SEND)
        assert sent.json["text"] == {"content": "echo: /slow"}


async def test_an_attempt_that_lost_its_row_cannot_overwrite_the_next_one(db: Database) -> None:
    first_may_fail = asyncio.Event()
    attempts: list[str] = []

    async def message(ctx: HandlerContext, msg: ChatMessage) -> list[Reply]:
        attempts.append(msg.text)
        if len(attempts) == 1:
            await first_may_fail.wait()
            raise RuntimeError("the first attempt fails, late")
        return [TextReply("second attempt")]

    async def join(ctx: HandlerContext, event: JoinEvent) -> list[Reply]:
        return []

    dispatcher = Dispatcher(message=message, join=join)
    clock = Clock()
    async with channel_app(db, clock=clock, dispatcher=dispatcher) as h:
        await post_text(h, "/points", "5002")
        await asyncio.sleep(0.2)
        # The first process stalls past its lease; a second process picks the event up.
        clock.advance(minutes=3)
        other = build_channels(
            h.registry.settings, db, clock=clock, dispatcher=dispatcher, options=FAST
        )
        try:
            assert await other.worker.resume() == 1
            await asyncio.wait_for(other.tasks.join(), timeout=10)
        finally:
            await other.stop()
        first_may_fail.set()
        await h.settle()
        assert attempts == ["/points", "/points"]
        [row] = await h.inbound()
        assert (row.status, row.attempts, row.last_error) == ("done", 2, None)
        assert [c.json["text"]["content"] for c in h.wecom.calls(SEND)] == ["second attempt"]


async def test_an_attempt_whose_row_was_claimed_again_stops_working(db: Database) -> None:
    options = replace(FAST, lease=timedelta(seconds=0.6))
    async with channel_app(db, clock=WallClock(), options=options) as h:
        h.echo.delay = 5.0
        started = time.monotonic()
        await post_text(h, "/slow", "5003")
        await asyncio.sleep(0.1)
        # A process whose clock runs an hour ahead sees the lease as long expired.
        ahead = InboundStore(
            db, lambda: datetime.now(UTC) + timedelta(hours=1), lease=options.lease
        )
        [row_id] = await ahead.claimable_ids()
        claimed = await ahead.claim(row_id)
        assert claimed is not None and claimed.attempts == 2
        await h.settle()
        assert time.monotonic() - started < 3.0  # stopped at a renewal, not after 5 s of work
        assert h.wecom.calls(SEND) == []
        [row] = await h.inbound()
        assert (row.status, row.attempts) == ("working", 2)  # the second attempt's, untouched
