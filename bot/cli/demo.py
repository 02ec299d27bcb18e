"""`fission demo`: a separate demo database with synthetic customers, classified and summarised.

It never touches the configured database unless told to with `--database-url`, and it refuses
to write into a database that already has customers unless `--reset` is given (which recreates a
SQLite file or empties every table on PostgreSQL).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from bot.cli.common import get_settings, run
from bot.cli.lifecycle import format_summary_table
from config import Settings
from models.clock import today
from models.db import Database

DEFAULT_DEMO_URL = "sqlite+aiosqlite:///./fission-demo.db"
SUPPORTED_URLS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")

_TEXT = {
    "zh-CN": {
        "start": "正在生成演示数据：{customers} 位客户，基准日期 {as_of}，随机种子 {seed} …",
        "made": (
            "已写入 {customers} 位客户、{orders} 笔订单（其中 {refunded} 笔已退款）、"
            "{events} 条行为记录、{staff} 位员工、{follow_ups} 条跟进记录。"
        ),
        "referrals": (
            "老带新活动：{codes} 位客户有专属邀请码，{clicks} 次链接点击，{joins} 位好友加入，"
            "{conversions} 位完成首单（{review} 位待审核，{refunds} 笔退款撤销奖励），"
            "已结算奖励 {settled} 个。"
        ),
        "history": "已按月运行生命周期分类：{dates}",
        "try": "试试查看客户卡片：",
        "most_history": "阶段变化最多的客户",
        "declining": "一位衰退客户（看看原因）",
        "surname": "按姓氏查找：列出多位客户",
        "not_empty": (
            "数据库 {url} 里已经有 {count} 位客户，演示数据只写入空数据库。"
            "如确定要清空后重建，请加 --reset。"
        ),
        "refuse_configured": (
            "--reset 会清空数据库，不能用在配置的正式数据库 {url} 上；请换一个 --database-url。"
        ),
    },
    "en": {
        "start": "Generating demo data: {customers} customers, as of {as_of}, seed {seed} …",
        "made": (
            "Wrote {customers} customers, {orders} orders ({refunded} refunded), "
            "{events} activity events, {staff} staff, {follow_ups} follow-ups."
        ),
        "referrals": (
            "Referrals: {codes} customers with a personal code, {clicks} link clicks, "
            "{joins} friends joined, {conversions} converted ({review} under review, "
            "{refunds} refunded and revoked), {settled} rewards settled."
        ),
        "history": "Lifecycle classified monthly on: {dates}",
        "try": "Try a customer card:",
        "most_history": "the customer with the longest stage history",
        "declining": "a declining customer (see why)",
        "surname": "search by surname: a list of matches",
        "not_empty": (
            "The database {url} already has {count} customers; the demo only writes into an "
            "empty database. Add --reset to wipe it and start again."
        ),
        "refuse_configured": (
            "--reset wipes the database and is refused on the configured database {url}; "
            "pass another --database-url."
        ),
    },
}


@click.command("demo")
@click.option(
    "--database-url",
    default=DEFAULT_DEMO_URL,
    show_default=True,
    help="Where to create the demo (not the configured database unless you say so).",
)
@click.option(
    "--customers",
    type=click.IntRange(1, 50_000),
    default=3000,
    show_default=True,
    help="How many synthetic customers (built in memory; bench/ generates millions).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Reference date YYYY-MM-DD (default: today in the configured time zone).",
)
@click.option("--reset", is_flag=True, help="Wipe the demo database first (recreate / truncate).")
def demo_cmd(
    database_url: str, customers: int, seed: int, as_of: datetime | None, reset: bool
) -> None:
    """演示数据 / create a demo database with synthetic customers and classify it."""
    settings = get_settings()
    if not database_url.startswith(SUPPORTED_URLS):
        raise click.BadParameter(
            "must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
            param_hint="--database-url",
        )
    text = _TEXT["en" if settings.locale == "en" else "zh-CN"]
    if reset and database_url == settings.database_url:
        raise click.UsageError(text["refuse_configured"].format(url=database_url))
    day = as_of.date() if as_of is not None else today(settings.tz)
    click.echo(text["start"].format(customers=customers, as_of=day, seed=seed))
    output = run(_demo, settings, database_url, customers, seed, day, reset)
    click.echo(output)


async def _demo(
    settings: Settings, url: str, customers: int, seed: int, as_of: date, reset: bool
) -> str:
    from models.demo import DemoDatabaseNotEmpty, create_demo_data, wipe_all_data
    from models.demo_history import classify_history, history_dates, pick_examples
    from models.demo_referrals import create_demo_referrals
    from models.migrate import upgrade

    lang = "en" if settings.locale == "en" else "zh-CN"
    text = _TEXT[lang]
    if reset:
        _remove_sqlite_file(url)
    db = Database.from_url(url)
    try:
        await upgrade(db)
        if reset and db.dialect != "sqlite":
            await wipe_all_data(db)
        try:
            stats = await create_demo_data(
                db, as_of=as_of, tz=settings.tz, customers=customers, seed=seed
            )
        except DemoDatabaseNotEmpty as exc:
            raise click.ClickException(
                text["not_empty"].format(url=_display_url(url), count=exc.customers)
            ) from exc
        # Before the lifecycle runs: converted referrals are a "mature" signal.
        referrals = await create_demo_referrals(db, as_of=as_of, tz=settings.tz, seed=seed)
        summary = await classify_history(
            db, as_of=as_of, tz=settings.tz, rules=settings.lifecycle, grading=settings.grading
        )
        examples = await pick_examples(db)
    finally:
        await db.dispose()

    lines = [
        text["made"].format(
            customers=stats.customers,
            orders=stats.orders,
            refunded=stats.refunded_orders,
            events=stats.events,
            staff=stats.staff,
            follow_ups=stats.follow_ups,
        ),
        text["referrals"].format(
            codes=referrals.codes,
            clicks=referrals.clicks,
            joins=referrals.joins,
            conversions=referrals.conversions,
            review=referrals.under_review,
            refunds=referrals.refunds,
            settled=referrals.rewards_settled,
        ),
        text["history"].format(dates=", ".join(str(d) for d in history_dates(as_of))),
        "",
        format_summary_table(summary, settings.locale),
        "",
        text["try"],
    ]
    # Passwords are starred out: the output may end up in a CI log or a screenshot.
    shown = shlex.quote(_display_url(url))
    prefix = "" if url == settings.database_url else f"FISSION_DATABASE_URL={shown} "
    command = f"{prefix}{_program()} customer show"
    for query, label in (
        (examples.most_history, "most_history"),
        (examples.declining, "declining"),
        (examples.surname, "surname"),
    ):
        if query:
            lines.append(f"  {command} {query}    # {text[label]}")
    return "\n".join(lines)


def _remove_sqlite_file(url: str) -> None:
    """`--reset` on SQLite: start from a new file (also drops a schema from older runs)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(str(parsed.database))
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _display_url(url: str) -> str:
    """The URL without a password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _program() -> str:
    """How to call `fission` again: the bare name when it is on PATH, else the path that was
    used (e.g. `.venv/bin/fission` after `make run`)."""
    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name != "fission":
        return "fission"
    found = shutil.which("fission")
    if found and os.path.exists(invoked) and os.path.samefile(found, invoked):
        return "fission"
    return invoked
