"""`fission serve --demo`: a manager in the simulator can preview and run the default
campaigns, whose messages go to a few declining and churned customers on the console channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from chatkit import as_text
from sqlalchemy import select

from bot.cli.serve_demo import DEMO_URL, prepare_demo
from config import load_settings
from handlers.dispatch import dispatch_message
from handlers.events import ChatMessage, HandlerContext
from models import Campaign, Delivery, Staff, StaffIdentity
from models.base import utcnow
from models.db import Database
from models.demo_campaigns import REACHABLE_PER_STAGE


async def test_the_demo_campaigns_preview_and_run_in_the_simulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'real.db'}", state_dir=tmp_path / "state"
    )
    ready = await prepare_demo(settings, host="127.0.0.1", port=8123, customers=400)
    db = Database.from_url(DEMO_URL)
    try:
        async with db.uow() as uow:
            enabled = set(await uow.session.scalars(select(Campaign.key).where(Campaign.enabled)))
            manager = await uow.session.scalar(
                select(StaffIdentity.user_id)
                .join(Staff, Staff.id == StaffIdentity.staff_id)
                .where(Staff.role == "manager", StaffIdentity.platform == "console")
            )
        assert enabled == {"winback_declining", "comeback_churned"}
        assert manager is not None
        ctx = HandlerContext(db=db, settings=ready.settings, now=utcnow)

        async def say(text: str) -> str:
            message = ChatMessage(
                platform="console",
                app_id="",
                event_id=f"demo-{text}",
                user_id=manager,
                conversation_id=manager,
                is_group=False,
                text=text,
                is_to_me=True,
                received_at=utcnow(),
            )
            return as_text(await dispatch_message(ctx, message))

        preview = (await say("活动 预览 衰退客户挽回")).splitlines()
        channels = next(line for line in preview if line.startswith("发送渠道："))
        reachable = int(channels.removeprefix("发送渠道：模拟器 "))
        assert 1 <= reachable <= REACHABLE_PER_STAGE
        assert any(line.startswith("1. [模拟器] ") for line in preview)

        ran = await say("活动 运行 衰退客户挽回")
        assert ran.startswith("活动已运行：衰退客户挽回（winback_declining）")
        async with db.uow() as uow:
            sent = (await uow.session.execute(select(Delivery.platform, Delivery.recipient))).all()
        assert len(sent) == reachable
        assert all(p == "console" and r.startswith("sim-customer-") for p, r in sent)
    finally:
        await db.dispose()
