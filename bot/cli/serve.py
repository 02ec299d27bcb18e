"""`fission serve`: the aiohttp app (HTTP API, landing pages, platform callbacks)."""

from __future__ import annotations

import asyncio
import logging

import click
from aiohttp import web

from bot.bootstrap import bootstrap
from bot.cli.common import get_settings
from bot.web.app import create_app
from config import Settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
def serve_cmd(host: str, port: int) -> None:
    """启动服务 / run the bot's web server."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_serve(get_settings(), host, port))


async def _serve(settings: Settings, host: str, port: int) -> None:
    container = bootstrap(settings)
    runner = web.AppRunner(create_app(container), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    click.echo(f"Fission 已启动: http://{host}:{port}/  (Ctrl+C 退出)")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await container.close()
