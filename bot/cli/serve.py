"""`fission serve`: the aiohttp app (HTTP API, landing pages, platform callbacks).

`--demo` serves a fresh demo database instead of the configured one, with the web chat
simulator on: `make run` is `fission serve --demo`.
"""

from __future__ import annotations

import asyncio
import logging

import click
from aiohttp import web

from bot.bootstrap import bootstrap
from bot.cli.common import get_settings
from bot.web.app import create_app
from config import Settings
from jobs.scheduler import JobScheduler
from jobs.web import attach_scheduler

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
    example = None
    if demo:
        settings, example = _prepare_demo(settings, host, port)
    asyncio.run(_serve(settings, host, port, demo, example))


def _prepare_demo(settings: Settings, host: str, port: int) -> tuple[Settings, str]:
    from bot.cli.serve_demo import prepare_demo

    click.echo(f"正在生成演示数据（{DEMO_CUSTOMERS} 位客户）… / building the demo database …")
    ready = asyncio.run(prepare_demo(settings, host=host, port=port, customers=DEMO_CUSTOMERS))
    click.echo(
        f"演示数据已就绪：{ready.customers} 位客户，{ready.staff_accounts} 个员工模拟器账号 "
        f"（数据库 {ready.settings.database_url}）"
    )
    return ready.settings, ready.example_customer or "张"


async def _serve(
    settings: Settings, host: str, port: int, demo: bool, example: str | None = None
) -> None:
    container = bootstrap(settings)
    app = create_app(container)
    if settings.scheduler.enabled:
        scheduler = JobScheduler(
            container.db, settings, clock=container.clock, channels=container.channels
        )
        attach_scheduler(app, scheduler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    base = settings.public_base_url if demo else f"http://{host}:{port}"
    if demo:
        click.echo(
            "\n"
            f"打开聊天模拟器 / open the simulator:  {base}/simulator\n"
            "  1. 选一位客户，发送“邀请”：拿到邀请链接和海报，点开链接就是落地页。\n"
            f"  2. 选一位员工，发送“客户 {example}”或“/stage 衰退”：查看（已脱敏的）客户卡片。\n"
        )
    click.echo(f"Fission 已启动: {base}/  (Ctrl+C 退出)")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await container.close()
