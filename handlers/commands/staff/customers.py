"""`/customer`: the masked card with the stage playbook and the referral facts."""

from __future__ import annotations

from config.playbook import StagePlay
from handlers.commands.call import CommandCall
from handlers.commands.filters import required_text
from handlers.commands.registry import Router
from handlers.commands.staff.lookup import one_customer
from handlers.commands.staff.queries import ReferralFacts, referral_facts
from handlers.customer_card_text import render_card_text, stage_name
from handlers.events import CardReply, Reply
from handlers.i18n import L
from models.clock import local_date
from models.customer_card import CustomerCard, build_card

router = Router("staff.customers")

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
    due = play.next_due(local_date(latest.created_at, call.ctx.settings.tz), latest.next_due_on)
    if due < call.today:
        return call.t(TEXT, "overdue", day=due, days=(call.today - due).days)
    return call.t(TEXT, "next_due", day=due)
