"""`fission outbox` shows where the campaign deliveries stand; `fission worker` drains them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from fakes.inbox import PATH, FakeInbox
from outbox_world import deliveries, drain_into, seed_run
from sqlalchemy import update

from bot.cli import main
from models import Customer
from models.db import Database

TESTS = Path(__file__).parent
REPO = TESTS.parent


def _outbox(db_url: str, tmp_path: Path, *args: str, locale: str = "zh-CN") -> tuple[int, str]:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": locale}
    with contextlib.chdir(tmp_path):  # no ./fission.toml from the working tree
        result = CliRunner().invoke(main, ["outbox", *args], env=env)
    return result.exit_code, result.output


async def _worked(db: Database, inbox: FakeInbox) -> None:
    """Five deliveries: two sent, one retrying after a 500, one dead (blocked), one skipped."""
    await seed_run(db, ["张三", "李四", "王五", "赵六", "孙七"])
    async with db.uow() as uow:
        await uow.session.execute(
            update(Customer).where(Customer.external_id == "C5").values(marketing_opt_out=True)
        )
        await uow.commit()
    inbox.fail_next(PATH, "server_error", "blocked")
    await drain_into(inbox, db)


async def test_the_outbox_by_state_campaign_and_platform_with_the_latest_errors(
    db: Database, db_url: str, inbox: FakeInbox, tmp_path: Path
) -> None:
    assert await asyncio.to_thread(_outbox, db_url, tmp_path) == (
        0,
        "投递队列是空的：还没有活动消息。\n",
    )
    await _worked(db, inbox)

    code, out = await asyncio.to_thread(_outbox, db_url, tmp_path)

    assert code == 0, out
    assert out.splitlines()[:18] == [
        "投递队列：共 5 条，其中 1 条已到发送时间",
        "  已发送 2 · 待重试 1 · 失败 1 · 已跳过 1",
        "",
        "按活动和平台",
        "活动          平台  已发送  待重试  失败  已跳过",
        "------------  ----  ------  ------  ----  ------",
        "衰退客户挽回  飞书       2       1     1       1",
        "",
        "跳过、重试与失败的原因",
        "状态    原因      条数",
        "------  --------  ----",
        "失败    blocked      1",
        "待重试  临时错误     1",
        "已跳过  已退订       1",
        "",
        "最近的错误",
        "时间              活动          平台  状态    次数  错误码  错误",
        "----------------  ------------  ----  ------  ----  ------  ----------------------------",
    ]
    assert set(out.splitlines()[18:]) == {  # which customer got which failure: either
        "2024-07-02 10:00  衰退客户挽回  飞书  失败       1  230013  the user has blocked the bot",
        "2024-07-02 10:00  衰退客户挽回  飞书  待重试     1  500     HTTP 500",
    }


async def test_the_outbox_in_english_and_as_json(
    db: Database, db_url: str, inbox: FakeInbox, tmp_path: Path
) -> None:
    await _worked(db, inbox)

    code, out = await asyncio.to_thread(_outbox, db_url, tmp_path, locale="en")
    assert code == 0, out
    assert out.splitlines()[:2] == [
        "Outbox: 5 deliveries, 1 of them due now",
        "  sent 2 · retrying 1 · dead 1 · skipped 1",
    ]
    assert "Feishu" in out and "opted_out" in out

    code, out = await asyncio.to_thread(_outbox, db_url, tmp_path, "--json", "--errors", "1")
    data = json.loads(out)
    assert data["by_status"] == {"sent": 2, "failed": 1, "dead": 1, "skipped": 1}
    assert [e["error"] for e in data["errors"]] == ["the user has blocked the bot"]
    assert data["campaigns"] == [
        {
            "campaign": "衰退客户挽回",
            "platform": "feishu",
            "by_status": {"sent": 2, "failed": 1, "dead": 1, "skipped": 1},
        }
    ]


def _worker_env(db_url: str, api_base: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)]),
        "FISSION_DATABASE_URL": db_url,
        "FISSION_LOCALE": "zh-CN",
        "FISSION_FEISHU_API_BASE": api_base,
        "FISSION_MARKETING__QUIET_HOURS": "",
        "FISSION_OUTBOX__SENDERS": json.dumps(["fakes.inbox:build_senders"]),
        **extra,
    }


async def test_fission_worker_once_drains_what_is_due_through_configured_senders(
    db: Database, db_url: str, inbox: FakeInbox, tmp_path: Path
) -> None:
    await seed_run(db, ["张三", "李四"], at=datetime.now(UTC) - timedelta(minutes=1))
    env = _worker_env(db_url, inbox.url)
    command = [sys.executable, "-c", "from bot.cli import main; main()", "worker", "--once"]

    proc = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)

    assert proc.returncode == 0
    assert out.decode().strip() == "已处理 2 条到期投递：已发送 2"
    assert [r.status for r in await deliveries(db)] == ["sent", "sent"]
    assert len(inbox.delivered) == 2


def test_fission_worker_without_any_sender_says_what_to_configure(
    db_url: str, tmp_path: Path
) -> None:
    env = {"FISSION_DATABASE_URL": db_url, "FISSION_LOCALE": "zh-CN"}
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["worker"], env=env)
    assert result.exit_code == 2
    assert "没有可用的发送通道" in result.output

    env["FISSION_OUTBOX__SENDERS"] = '["nowhere.to_be:found"]'
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["worker"], env=env)
    assert result.exit_code == 1
    assert "[outbox] senders: cannot load nowhere.to_be:found" in result.output
