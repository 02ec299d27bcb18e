"""`fission customer prefer QUERY PLATFORM`: where campaign messages reach a customer who can be
reached on several platforms (one message, on the preferred one). `auto` goes back to the
default, the platform they last spoke on."""

from __future__ import annotations

from dataclasses import dataclass

import click

from bot.cli.common import EXIT_USAGE, get_settings, open_database, run
from config import Settings
from handlers.customer_card_text import platform_name, render_match_list
from handlers.i18n import L, tr
from handlers.staff_directory import PLATFORM_WORDS
from models.base import utcnow
from models.customer_card import find_customers
from models.reach import REACH_PLATFORMS, preferred_of, reach_of, set_preferred_platform

EXIT_NOT_FOUND = 1
AUTO_WORDS = ("auto", "自动", "默认")
TEXT = {
    "unknown": L(
        "未知渠道“{word}”：可选 wecom（企业微信）、wechat（公众号）、feishu（飞书），"
        "或 auto（自动：最近联系的渠道）。",
        "Unknown platform “{word}”: use wecom, wechat (Official Account), feishu, or auto "
        "(the platform they last spoke on).",
    ),
    "unreachable": L(
        "客户 {external_id} 没有{platform}身份（能触达：{reach}），不能设为首选。",
        "Customer {external_id} has no {platform} identity (reachable on: {reach}); "
        "it cannot be their preferred platform.",
    ),
    "nowhere": L("无", "none"),
    "sep": L("、", ", "),
    "set": L(
        "已将客户 {external_id}（{name}）的首选渠道设为{platform}。",
        "Customer {external_id} ({name}) now gets campaign messages on {platform}.",
    ),
    "auto": L(
        "客户 {external_id}（{name}）不再指定首选渠道："
        "活动消息发到最近联系的渠道（目前是{current}）。",
        "Customer {external_id} ({name}) has no preferred platform any more: campaign messages "
        "go where they last spoke (now {current}).",
    ),
}


@dataclass(frozen=True)
class _Answer:
    text: str
    code: int = 0


def platform_of(word: str) -> str | None:
    """The platform a staff member means (`飞书`, `feishu` …); None for `auto`."""
    cleaned = word.strip().lower()
    if cleaned in AUTO_WORDS:
        return None
    platform = PLATFORM_WORDS.get(cleaned)
    if platform not in REACH_PLATFORMS:
        raise click.UsageError(tr(TEXT, "unknown", get_settings().locale, word=word.strip()))
    return platform


@click.command("prefer")
@click.argument("query")
@click.argument("platform")
def prefer_cmd(query: str, platform: str) -> None:
    """Send campaign messages on PLATFORM: wecom | wechat | feishu, or auto (where they last
    spoke). QUERY: external id, exact phone number, or a unique part of a name."""
    settings = get_settings()
    chosen = platform_of(platform)
    answer = run(_prefer, settings, query, chosen)
    click.echo(answer.text, err=answer.code == EXIT_USAGE)
    if answer.code:
        raise click.exceptions.Exit(answer.code)


async def _prefer(settings: Settings, query: str, platform: str | None) -> _Answer:
    locale = settings.locale
    async with open_database(settings) as db:
        matches = await find_customers(db, query, limit=11)
        if len(matches) != 1:
            text = render_match_list(
                matches[:10],
                query.strip(),
                rerun_command="fission customer prefer",
                more=len(matches) > 10,
                locale=locale,
            )
            return _Answer(text, EXIT_NOT_FOUND)
        match = matches[0]
        async with db.uow() as uow:
            reach = await reach_of(uow.session, match.customer_id)
            reachable = [r.platform for r in reach]
            if platform is not None and platform not in reachable:
                listed = tr(TEXT, "sep", locale).join(platform_name(p, locale) for p in reachable)
                text = tr(
                    TEXT,
                    "unreachable",
                    locale,
                    external_id=match.external_id,
                    platform=platform_name(platform, locale),
                    reach=listed or tr(TEXT, "nowhere", locale),
                )
                return _Answer(text, EXIT_USAGE)
            await set_preferred_platform(uow.session, match.customer_id, platform, now=utcnow())
            await uow.commit()
    values = {"external_id": match.external_id, "name": match.masked_name or "-"}
    if platform is not None:
        return _Answer(tr(TEXT, "set", locale, platform=platform_name(platform, locale), **values))
    current = preferred_of(None, reach)
    now = platform_name(current, locale) if current else tr(TEXT, "nowhere", locale)
    return _Answer(tr(TEXT, "auto", locale, current=now, **values))
