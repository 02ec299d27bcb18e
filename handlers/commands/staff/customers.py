"""`/customer` (the masked card with the stage playbook) and `/stage` (a stage's top customers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from config.playbook import StagePlay
from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv, required_text, split_args
from handlers.commands.registry import Router
from handlers.commands.staff.lookup import one_customer
from handlers.commands.staff.queries import ReferralFacts, referral_facts, stage_top
from handlers.customer_card_text import STAGE_NAMES, render_card_text, stage_name
from handlers.events import CardReply, Reply, TextReply
from handlers.i18n import L, fill
from models.clock import local_date
from models.customer_card import CustomerCard, build_card
from models.money import format_fen
from models.stages import STAGES

router = Router("staff.customers")

DEFAULT_STAGE_LIMIT = 10
MAX_STAGE_LIMIT = 50

TEXT = {
    "card_title": L("客户卡片", "Customer card"),
    "referrals": L(
        "推荐：带来 {joins} 位好友，成交 {conversions} 位，已奖励 {rewarded} 位",
        "Referrals: brought {joins} friends, {conversions} converted, {rewarded} rewarded",
    ),
    "invited_by": L("　由 {name} 邀请加入", "  invited by {name}"),
    "play": L("策略（{stage}）：{goal}", "Playbook ({stage}): {goal}"),
    "actions": L("　动作：{actions}", "  Actions: {actions}"),
    "owner": L("　负责：{owner}　跟进节奏：{cadence}", "  Owner: {owner}  Cadence: {cadence}"),
    "next_due": L("　下次跟进：{day}", "  Next follow-up: {day}"),
    "overdue": L(
        "　下次跟进：{day}（已逾期 {days} 天）", "  Next follow-up: {day} ({days} days overdue)"
    ),
    "never_followed": L("　还没有跟进记录，建议尽快联系", "  No follow-up yet: get in touch soon"),
    "hint": L(
        "记录跟进：/followup {external_id} <内容> [下次日期]",
        "Log a follow-up: /followup {external_id} <note> [next date]",
    ),
    "stage_title": L(
        "{stage}（共 {total} 位）按累计消费前 {count} 位：",
        "{stage} ({total} in total), top {count} by total spent:",
    ),
    "stage_line": L(
        "{n}. {name}　{phone}　{external_id}　{total}，{orders} 单{last}{grade}",
        "{n}. {name}  {phone}  {external_id}  {total}, {orders} orders{last}{grade}",
    ),
    "stage_last": L("，最近 {day}", ", last {day}"),
    "stage_grade": L("，{grade} 级", ", grade {grade}"),
    "stage_empty": L(
        "目前没有{stage}。生命周期还没运行过的话，请先运行 fission lifecycle run。",
        "No {stage} customers right now. If the lifecycle has never run, run "
        "`fission lifecycle run` first.",
    ),
    "stage_footer": L("查看详情：/customer <客户编号>", "Details: /customer <customer id>"),
    "bad_stage": L(
        "没有“{word}”这个阶段。可选：{stages}",
        "There is no stage “{word}”. Choose one of: {stages}",
    ),
}


@router.command(
    "customer",
    "客户",
    role="agent",
    summary=L(
        "查看客户卡片：阶段及原因、分级、订单、推荐、跟进策略和最近跟进（已脱敏）",
        "A customer's card: stage and why, grade, orders, referrals, playbook, follow-ups (masked)",
    ),
    usage=L("<姓名|手机号|客户编号>", "<name|phone|customer id>"),
    args=required_text,
    private_only=True,
)
async def show_customer(call: CommandCall, query: str) -> list[Reply]:
    found = await one_customer(call, query, "/customer")
    if isinstance(found, list):
        return found
    settings = call.ctx.settings
    card = await build_card(
        call.ctx.db, found.customer_id, tz=settings.tz, grading=settings.grading
    )
    facts = await referral_facts(call.session, found.customer_id)
    card_text = render_card_text(card, call.locale, public_base_url=settings.public_base_url)
    body = [card_text, *_referral_lines(call, facts)]
    body += _playbook_lines(call, card)
    return [
        CardReply(
            title=call.t(TEXT, "card_title"),
            body="\n".join(body),
            footer=call.t(TEXT, "hint", external_id=card.external_id),
        )
    ]


def _referral_lines(call: CommandCall, facts: ReferralFacts) -> list[str]:
    lines = [
        call.t(
            TEXT,
            "referrals",
            joins=facts.joins,
            conversions=facts.conversions,
            rewarded=facts.rewarded,
        )
    ]
    if facts.invited_by:
        lines.append(call.t(TEXT, "invited_by", name=facts.invited_by))
    return lines


def _playbook_lines(call: CommandCall, card: CustomerCard) -> list[str]:
    if card.stage is None:
        return []
    play = call.ctx.settings.playbook.play(card.stage.stage, call.locale)
    if play is None:
        return []
    sep = "；" if call.locale.startswith("zh") else "; "
    lines = [
        call.t(TEXT, "play", stage=stage_name(card.stage.stage, call.locale), goal=play.goal),
        call.t(TEXT, "actions", actions=sep.join(play.actions)),
        call.t(TEXT, "owner", owner=play.owner, cadence=play.cadence),
    ]
    lines.append(_next_due_line(call, card, play))
    return lines


def _next_due_line(call: CommandCall, card: CustomerCard, play: StagePlay) -> str:
    """The promised next date of the latest follow-up, else the cadence after it."""
    if not card.follow_ups:
        return call.t(TEXT, "never_followed")
    latest = card.follow_ups[0]
    due = latest.next_due_on or local_date(latest.created_at, call.ctx.settings.tz) + timedelta(
        days=play.cadence_days
    )
    if due < call.today:
        return call.t(TEXT, "overdue", day=due, days=(call.today - due).days)
    return call.t(TEXT, "next_due", day=due)


@dataclass(frozen=True)
class StageQuery:
    stage: str
    limit: int


def _stage_words() -> dict[str, str]:
    """Every way to name a stage: `declining`, `衰退客户`, `衰退`."""
    words: dict[str, str] = {}
    for names in STAGE_NAMES.values():
        for stage, name in names.items():
            words[name.casefold()] = stage
            if name.endswith("客户") and len(name) > 2:
                words[name[: -len("客户")]] = stage
    words.update({stage: stage for stage in STAGES})
    words["新"] = "new"
    return words


def stage_args(args: str, env: ParseEnv) -> StageQuery:
    words = split_args(args)
    if not words or len(words) > 2:
        raise ArgumentError()
    stage = _stage_words().get(words[0].casefold())
    if stage is None:
        choices = "、".join(stage_name(s, env.locale) for s in STAGES)
        raise ArgumentError(fill(TEXT["bad_stage"], word=words[0], stages=choices))
    limit = DEFAULT_STAGE_LIMIT
    if len(words) == 2:
        if not words[1].isdigit() or not 1 <= int(words[1]) <= MAX_STAGE_LIMIT:
            raise ArgumentError(
                L(
                    f"人数应为 1 到 {MAX_STAGE_LIMIT} 之间的整数。",
                    f"The count must be a whole number from 1 to {MAX_STAGE_LIMIT}.",
                )
            )
        limit = int(words[1])
    return StageQuery(stage=stage, limit=limit)


@router.command(
    "stage",
    "阶段",
    role="agent",
    summary=L(
        "某个生命周期阶段里最有价值的客户（默认前 10 位，已脱敏）",
        "The most valuable customers of a lifecycle stage (top 10 by default, masked)",
    ),
    usage=L("<阶段> [人数]　阶段：潜在/新/成长/成熟/衰退/流失", "<stage> [count]"),
    args=stage_args,
    private_only=True,
)
async def show_stage(call: CommandCall, query: StageQuery) -> list[Reply]:
    total, entries = await stage_top(call.session, query.stage, limit=query.limit)
    name = stage_name(query.stage, call.locale)
    if not entries:
        return [TextReply(call.t(TEXT, "stage_empty", stage=name))]
    tz = call.ctx.settings.tz
    lines = []
    for n, entry in enumerate(entries, 1):
        last = entry.last_paid_at
        lines.append(
            call.t(
                TEXT,
                "stage_line",
                n=n,
                name=entry.masked_name or "-",
                phone=entry.masked_phone or "-",
                external_id=entry.external_id,
                total=format_fen(entry.total_fen),
                orders=entry.orders,
                last=call.t(TEXT, "stage_last", day=local_date(last, tz)) if last else "",
                grade=call.t(TEXT, "stage_grade", grade=entry.grade) if entry.grade else "",
            )
        )
    title = call.t(TEXT, "stage_title", stage=name, total=total, count=len(entries))
    return [CardReply(title=title, body="\n".join(lines), footer=call.t(TEXT, "stage_footer"))]
