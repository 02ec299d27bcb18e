"""`fission serve`: the aiohttp app (HTTP API, landing pages, platform callbacks).

`--demo` serves a fresh demo database instead of the configured one, with the web chat
simulator: `make run` is `fission serve --demo`. The simulator exists only there — it comes with
the demo's own settings, so it never runs against a configured database.
"""

from __future__ import annotations

import asyncio
import logging

import click
from aiohttp import web

from bot.bootstrap import Container, bootstrap
from bot.channels.senders.console import ConsoleSender
from bot.cli.common import get_settings
from bot.cli.serve_demo import DemoReady
from bot.web.app import create_app
from bot.web.keys import SIMULATOR_INBOX
from config import Settings
from jobs.delivery import DeliveryWorkers
from jobs.scheduler import JobScheduler
from jobs.web import attach_scheduler, attach_workers

DEMO_CUSTOMERS = 3000


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--demo",
    is_flag=True,
    help="演示模式：新建 SQLite 演示数据库（不动已配置的数据库）并打开 /simulator 聊天模拟器 "
    "/ demo mode: a fresh SQLite demo database and the web chat simulator.",
)
def serve_cmd(host: str, port: int, demo: bool) -> None:
    """启动服务 / run the bot's web server."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # APScheduler logs every execution (a 30 s heartbeat) at INFO; our jobs log their own runs.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = get_settings()
    ready = _prepare_demo(settings, host, port) if demo else None
    asyncio.run(_serve(settings, host, port, ready))


def _prepare_demo(settings: Settings, host: str, port: int) -> DemoReady:
    from bot.cli.serve_demo import prepare_demo

    click.echo(f"正在生成演示数据（{DEMO_CUSTOMERS} 位客户）… / building the demo database …")
    ready = asyncio.run(prepare_demo(settings, host=host, port=port, customers=DEMO_CUSTOMERS))
    click.echo(
        f"演示数据已就绪：{ready.customers} 位客户，{ready.staff_accounts} 个员工模拟器账号 "
        f"（数据库 {ready.settings.database_url}）"
    )
    return ready


def serve_app(
    settings: Settings, demo: DemoReady | None = None
) -> tuple[web.Application, Container]:
    """The app `fission serve` runs: on the configured database without a simulator, or with
    `--demo` on the demo's settings (its own database) with the simulator."""
    if demo is not None:
        settings = demo.settings
    container = bootstrap(settings)
    app = create_app(container, simulator=demo is not None)
    if demo is not None:
        # The demo's campaign messages (route `console`) arrive in the simulator's inbox.
        container.senders.add(ConsoleSender(app[SIMULATOR_INBOX]))
    if settings.scheduler.enabled:
        scheduler = JobScheduler(
            container.db, settings, clock=container.clock, channels=container.channels
        )
        attach_scheduler(app, scheduler)
    # Campaign deliveries: one worker on SQLite, `[outbox] concurrency` on PostgreSQL.
    attach_workers(app, DeliveryWorkers(container.db, settings, container.senders))
    return app, container


async def _serve(settings: Settings, host: str, port: int, demo: DemoReady | None) -> None:
    app, container = serve_app(settings, demo)
    settings = container.settings
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    base = settings.public_base_url if demo else f"http://{host}:{port}"
    if demo is not None:
        example = demo.example_customer or "张"
        click.echo(
            "\n"
            f"打开聊天模拟器 / open the simulator:  {base}/simulator\n"
            "  1. 选一位客户，发送“邀请”：拿到邀请链接和海报，点开链接就是落地页。\n"
            f"  2. 选一位员工，发送“客户 {example}”或“/stage 衰退”：查看（已脱敏的）客户卡片。\n"
            "  3. 选经理，发送“/活动 预览 衰退客户挽回”看会发给谁、发什么，再发送“/活动 运行 "
            "衰退客户挽回”：\n"
            "     几秒后收到优惠券的客户出现在左侧“新消息”里，点开就是他们收到的活动消息"
            "（回复“退订”即退订）。\n"
        )
    click.echo(f"Fission 已启动: {base}/  (Ctrl+C 退出)")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await container.close()
