"""`/campaign`（活动）— managers see, preview and run the reactivation campaigns from chat, as
`fission campaign` does on the command line (handlers/campaign_views.py does the work).

Sub-commands are words after the command, each with its Chinese name: none or `列表` lists the
campaigns, `查看 KEY` shows one, `预览 KEY` is the dry run, `运行 KEY` runs it now, `报告 KEY`
says whether it worked (handlers/commands/staff/campaign_report.py). A campaign
is named by its key or its Chinese name. Another sub-command is one more entry in `VERBS` and
`ACTIONS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.campaign_text import error_text
from handlers.campaign_views import card_text, list_text, run_text
from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv, split_args
from handlers.commands.registry import Router
from handlers.commands.staff.campaign_report import campaign_report_reply
from handlers.events import Reply, TextReply
from handlers.i18n import L, fill
from models.campaigns.catalog import CampaignError

router = Router("staff.campaigns")

TEXT = {
    "unknown_verb": L(
        "不认识“{word}”。可以用：列表、查看、预览、运行、报告，后面跟活动键或名称。",
        "Unknown “{word}”. Use list, show, preview, run or report, followed by a campaign key or "
        "name.",
    ),
    "which": L("请在“{word}”后面写上活动键或名称。", "Name the campaign after “{word}”."),
}


@dataclass(frozen=True)
class CampaignRequest:
    verb: str  # list | show | preview | run | report
    campaign: str = ""


# Every word a sub-command answers to; the first is its canonical name.
VERBS: dict[str, tuple[str, ...]] = {
    "list": ("list", "ls", "列表"),
    "show": ("show", "查看", "详情"),
    "preview": ("preview", "dry-run", "预览", "试运行"),
    "run": ("run", "运行", "执行"),
    "report": ("report", "报告", "效果"),
}
_BY_WORD = {word.casefold(): verb for verb, words in VERBS.items() for word in words}


def campaign_args(args: str, env: ParseEnv) -> CampaignRequest:
    words = split_args(args)
    if not words:
        return CampaignRequest("list")
    verb = _BY_WORD.get(words[0].casefold())
    if verb is None:
        raise ArgumentError(fill(TEXT["unknown_verb"], word=words[0]))
    campaign = " ".join(words[1:])
    if verb != "list" and not campaign:
        raise ArgumentError(fill(TEXT["which"], word=words[0]))
    return CampaignRequest(verb, campaign)


async def _list(call: CommandCall, request: CampaignRequest) -> Reply:
    return TextReply(await list_text(call.session, call.ctx.settings, call.now))


async def _show(call: CommandCall, request: CampaignRequest) -> Reply:
    text = await card_text(call.session, request.campaign, call.ctx.settings, call.now)
    return TextReply(text)


async def _preview(call: CommandCall, request: CampaignRequest) -> Reply:
    settings = call.ctx.settings
    text = await run_text(call.session, request.campaign, settings, call.now, dry_run=True)
    return TextReply(text)


async def _run(call: CommandCall, request: CampaignRequest) -> Reply:
    settings = call.ctx.settings
    text = await run_text(call.session, request.campaign, settings, call.now, dry_run=False)
    return TextReply(text)


async def _report(call: CommandCall, request: CampaignRequest) -> Reply:
    return await campaign_report_reply(call, request.campaign)


ACTIONS: dict[str, Callable[[CommandCall, CampaignRequest], Awaitable[Reply]]] = {
    "list": _list,
    "show": _show,
    "preview": _preview,
    "run": _run,
    "report": _report,
}


@router.command(
    "campaign",
    "活动",
    role="manager",
    summary=L(
        "召回活动：列表、查看、预览（不发送）、立即运行、效果报告",
        "Reactivation campaigns: list, show, preview (sends nothing), run now, report",
    ),
    usage=L(
        "[列表 | 查看 <活动> | 预览 <活动> | 运行 <活动> | 报告 <活动>]",
        "[list | show <campaign> | preview <campaign> | run <campaign> | report <campaign>]",
    ),
    args=campaign_args,
    private_only=True,
)
async def campaigns(call: CommandCall, request: CampaignRequest) -> list[Reply]:
    try:
        return [await ACTIONS[request.verb](call, request)]
    except CampaignError as error:
        return [TextReply(error_text(error, call.locale))]
