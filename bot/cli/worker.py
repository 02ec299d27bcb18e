"""`fission worker`: a process that only drains the campaign outbox (no web server), for
deployments that send more than the `fission serve` processes' own workers keep up with.

It stops cleanly on SIGTERM / SIGINT (Ctrl+C): sends in flight finish (up to
`[outbox] shutdown_seconds`), rows not yet sent go back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping

import click

from bot.bootstrap import bootstrap
from bot.cli.common import EXIT_USAGE, get_settings, open_database
from config import Settings
from jobs.delivery import DeliveryWorkers

_TEXT = {
    "zh-CN": {
        "no_senders": "没有可用的发送通道：请先配置企业微信、公众号或飞书，或 [outbox] senders。",
        "started": "投递进程已启动：{n} 个并发，发送 {routes}（Ctrl+C 退出）",
        "drained": "已处理 {n} 条到期投递：{stats}",
        "stopped": "投递进程已退出：{stats}",
    },
    "en": {
        "no_senders": "No channel to send through: configure WeCom, the Official Account or "
        "Feishu, or [outbox] senders.",
        "started": "Delivery worker running: {n} concurrent, routes {routes} (Ctrl+C to stop)",
        "drained": "Handled {n} due deliveries: {stats}",
        "stopped": "Delivery worker stopped: {stats}",
    },
}


# What a worker did, by the outcome of each delivery (DeliveryWorkers.stats).
_OUTCOMES = {
    "zh-CN": {
        "sent": "已发送",
        "waitingstaff": "待员工确认",
        "retry": "待重试",
        "dead": "失败",
        "skipped": "已跳过",
        "quiet_hours": "免打扰时段顺延",
        "stopping": "退回队列",
    },
    "en": {
        "waitingstaff": "waiting for staff",
        "retry": "retrying",
        "quiet_hours": "held for quiet hours",
        "stopping": "handed back",
    },
}


def _lang(settings: Settings) -> str:
    return "en" if settings.locale.lower().startswith("en") else "zh-CN"


def _text(settings: Settings) -> dict[str, str]:
    return _TEXT[_lang(settings)]


def format_stats(stats: Mapping[str, int], settings: Settings) -> str:
    labels = _OUTCOMES[_lang(settings)]
    sep = "，" if _lang(settings) == "zh-CN" else ", "
    return sep.join(f"{labels.get(k, k)} {n}" for k, n in stats.items() if n) or "-"


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="并发数（默认 [outbox] concurrency；SQLite 固定为 1）/ concurrent workers",
)
@click.option(
    "--once", is_flag=True, help="处理完当前到期的投递就退出 / drain what is due, then exit"
)
def worker_cmd(concurrency: int | None, once: bool) -> None:
    """运行活动消息投递进程 / run delivery workers that drain the campaign outbox."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    text = _text(settings)
    try:
        asyncio.run(_work(settings, concurrency, once, text))
    except ValueError as exc:  # a sender factory that cannot be loaded
        raise click.ClickException(str(exc)) from exc


async def _work(
    settings: Settings, concurrency: int | None, once: bool, text: dict[str, str]
) -> None:
    async with open_database(settings) as db:
        container = bootstrap(settings, db=db)
        try:
            if not container.senders.routes:
                click.echo(text["no_senders"], err=True)
                raise SystemExit(EXIT_USAGE)
            workers = DeliveryWorkers(
                db, settings, container.senders, clock=container.clock, concurrency=concurrency
            )
            if once:
                handled = await workers.drain()
                click.echo(
                    text["drained"].format(n=handled, stats=format_stats(workers.stats, settings))
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await workers.start()
            routes = ", ".join(container.senders.routes)
            click.echo(text["started"].format(n=workers.concurrency, routes=routes))
            try:
                await stop.wait()
            finally:
                await workers.stop()
                for signum in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(Exception):
                        loop.remove_signal_handler(signum)
            click.echo(text["stopped"].format(stats=format_stats(workers.stats, settings)))
        finally:
            await container.senders.close()
