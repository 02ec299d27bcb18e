"""`fission campaign …`: reactivation campaigns — sync from fission.toml, list, show, switch
on and off, run (or dry-run) one now. A campaign is named by its key or its Chinese name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.campaign_report import report_cmd
from bot.cli.common import EXIT_USAGE, get_settings, open_database, run
from config import Settings
from handlers.campaign_text import error_text
from handlers.campaign_views import card_text, list_text, run_text, switch_text
from handlers.i18n import L, tr
from models.base import utcnow
from models.campaigns.catalog import CampaignError
from models.campaigns.sync import CampaignConfigError, sync_campaigns

TEXT = {
    "synced": L(
        "活动：新增 {created}，更新 {updated}，未变 {unchanged}，启用 {enabled}，停用 {disabled}；"
        "优惠券模板：新增 {t_created}，更新 {t_updated}",
        "campaigns: {created} created, {updated} updated, {unchanged} unchanged, {enabled} "
        "switched on, {disabled} switched off; coupon templates: {t_created} created, "
        "{t_updated} updated",
    ),
    "bad_config": L("活动配置无效：\n{error}", "Invalid campaign configuration:\n{error}"),
    "bad_now": L(
        "--now 不是有效时间（例：2024-06-04T10:00 或 2024-06-04T10:00:00+08:00）：{value}",
        "--now is not a valid time (e.g. 2024-06-04T10:00 or 2024-06-04T10:00:00+08:00): {value}",
    ),
}

Work = Callable[[AsyncSession], Awaitable[str]]


def _echo(settings: Settings, work: Work, *, commit: bool = True) -> None:
    """Run `work` in one unit of work, committed if it returns (unless `commit` is off), and
    print its text; a campaign or configuration error is printed as a sentence, exit 2."""

    async def go() -> str:
        async with open_database(settings) as db, db.uow() as uow:
            text = await work(uow.session)
            if commit:
                await uow.commit()
            return text

    try:
        click.echo(run(go))
    except CampaignError as exc:
        click.echo(error_text(exc, settings.locale), err=True)
        raise SystemExit(EXIT_USAGE) from None
    except CampaignConfigError as exc:
        click.echo(tr(TEXT, "bad_config", settings.locale, error=exc), err=True)
        raise SystemExit(EXIT_USAGE) from None


@click.group("campaign")
def campaign_group() -> None:
    """召回活动 / reactivation campaigns (sync, list, show, enable, disable, run)."""


@campaign_group.command("sync")
def sync_cmd() -> None:
    """Load [[campaigns]] and [[coupon_templates]] from fission.toml into the database."""
    settings = get_settings()

    async def work(session: AsyncSession) -> str:
        report = await sync_campaigns(
            session,
            campaigns=settings.campaigns,
            templates=settings.coupon_templates,
            timezone=settings.timezone,
            now=utcnow(),
        )
        return tr(
            TEXT,
            "synced",
            settings.locale,
            created=len(report.created),
            updated=len(report.updated),
            unchanged=len(report.unchanged),
            enabled=len(report.enabled),
            disabled=len(report.disabled),
            t_created=len(report.templates_created),
            t_updated=len(report.templates_updated),
        )

    _echo(settings, work)


@campaign_group.command("list")
def list_cmd() -> None:
    """Every campaign: on or off, its schedule and next run, its last run."""
    settings = get_settings()
    _echo(settings, lambda session: list_text(session, settings, utcnow()), commit=False)


@campaign_group.command("show")
@click.argument("campaign")
def show_cmd(campaign: str) -> None:
    """One campaign: audience, coupon, message, schedule, rules and its recent runs."""
    settings = get_settings()
    _echo(settings, lambda session: card_text(session, campaign, settings, utcnow()), commit=False)


def _switch_command(name: str, enabled: bool) -> click.Command:
    @click.command(name)
    @click.argument("campaign")
    def command(campaign: str) -> None:
        settings = get_settings()
        _echo(settings, lambda s: switch_text(s, campaign, enabled, settings, utcnow()))

    command.help = (
        "启用活动，从现在起按计划运行 / switch a campaign on (it runs on its schedule from now)."
        if enabled
        else "停用活动 / switch a campaign off."
    )
    return command


campaign_group.add_command(report_cmd)
campaign_group.add_command(_switch_command("enable", enabled=True))
campaign_group.add_command(_switch_command("disable", enabled=False))


@campaign_group.command("run")
@click.argument("campaign")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what a run would do, with three sample messages; change nothing.",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Run as of this time (ISO 8601; local time unless it has an offset); also the slot.",
)
def run_cmd(campaign: str, dry_run: bool, now_text: str | None) -> None:
    """Run a campaign now: members by arm, coupons, queued messages (sent by the workers)."""
    settings = get_settings()
    now = _parse_now(now_text, settings)
    _echo(
        settings,
        lambda session: run_text(session, campaign, settings, now, dry_run=dry_run),
        commit=not dry_run,
    )


def _parse_now(value: str | None, settings: Settings) -> datetime:
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        click.echo(tr(TEXT, "bad_now", settings.locale, value=value), err=True)
        raise SystemExit(EXIT_USAGE) from None
    return moment.replace(tzinfo=settings.tz) if moment.tzinfo is None else moment
