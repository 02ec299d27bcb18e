"""Plain-text rendering of a customer card and of a match list, shared by the CLI and chat.

Chinese by default (`zh-CN`), English for `en`. Money is shown by `models.money.format_fen`
(`¥1,234.50`); everything personal was already masked when the card was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.lifecycle_labels import format_metrics, lang_of, rule_label
from models.customer_card import CustomerCard, CustomerMatch, FollowUpEntry
from models.money import format_fen
from models.reach import preferred_of
from models.referral.codes import referral_link
from models.reports.labels import STAGE_LABELS

__all__ = [
    "platform_name",
    "reach_line",
    "render_card_text",
    "render_match_list",
    "stage_name",
]

PLATFORM_NAMES: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {"wecom": "企业微信", "wechat": "公众号", "feishu": "飞书"},
    "en": {"wecom": "WeCom", "wechat": "Official Account", "feishu": "Feishu"},
}

STAGE_NAMES = STAGE_LABELS

_TEXT: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "title": "客户 {external_id}　{name}　{phone}",
        "profile": "地区：{region}　行业：{industry}　负责人：{owner}",
        "status_open": "状态：正常",
        "status_closed": "状态：已注销（{day}）",
        "status_closed_undated": "状态：已注销",
        "opt_out": "　已退订营销消息",
        "created": "　建档：{day}",
        "stage": "阶段：{stage}（自 {since} 起，依据 {as_of} 的数据）",
        "qualified": "　有意向（合格线索）",
        "why": "　原因：{rule}",
        "metrics": "　指标：{metrics}",
        "unclassified": "阶段：尚未分类（生命周期还没有运行过）",
        "grade": (
            "分级：{grade}（得分 {score}；近一年 {orders} 单，客单价 {aov}，累计 {ltv}；{as_of}）"
        ),
        "no_grade_no_orders": "分级：无（没有有效订单）",
        "no_grade": "分级：尚未分级",
        "orders": "订单：{count} 笔，合计 {total}，客单价 {aov}",
        "orders_as_of": "订单（截至 {as_of}）：{count} 笔，合计 {total}，客单价 {aov}",
        "order_dates": "　首单 {first}，最近一单 {last}",
        "refunded": "　另有 {count} 笔已退款（不计入）",
        "no_orders": "订单：暂无有效订单",
        "no_orders_as_of": "订单：截至 {as_of} 暂无有效订单",
        "later": "　{as_of} 之后另有 {count} 笔（下次分类时计入）",
        "history": "阶段变化：{history}",
        "no_history": "阶段变化：暂无",
        "follow_ups": "最近跟进：",
        "follow_up": "　{at} {staff}：{note}",
        "next_due": "（下次 {day}）",
        "no_follow_ups": "最近跟进：暂无",
        "code": "邀请码：{code}（{program}）{link}",
        "no_codes": "邀请码：暂无（客户发送“邀请”即可获得）",
        "unknown": "未知",
        "nobody": "未分配",
        "matches": "找到 {count} 位与“{query}”匹配的客户：",
        "matches_more": "匹配的客户超过 {count} 位，以下是前 {count} 位，请输入更完整的姓名：",
        "match_line": "{n:>2}. {name}　{phone}　{external_id}　{stage}",
        "rerun": "请用客户编号重新查询，例如：{command} {external_id}",
        "no_match": "没有找到与“{query}”匹配的客户。可以输入客户编号、完整手机号或姓名的一部分。",
        "stage_unknown": "未分类",
        "reach": "触达渠道：{items}",
        "reach_none": "触达渠道：无（没有企业微信、公众号或飞书身份，活动消息发不出去）",
        "reach_sep": "、",
        "preferred_set": "（首选，已指定）",
        "preferred_seen": "（首选，最近联系）",
    },
    "en": {
        "title": "Customer {external_id}  {name}  {phone}",
        "profile": "Region: {region}  Industry: {industry}  Owner: {owner}",
        "status_open": "Status: open",
        "status_closed": "Status: closed ({day})",
        "status_closed_undated": "Status: closed",
        "opt_out": "  opted out of marketing",
        "created": "  since {day}",
        "stage": "Stage: {stage} (since {since}, data as of {as_of})",
        "qualified": "  qualified lead",
        "why": "  Why: {rule}",
        "metrics": "  Metrics: {metrics}",
        "unclassified": "Stage: not classified yet (the lifecycle has not run)",
        "grade": (
            "Grade: {grade} (score {score}; {orders} orders in a year, AOV {aov}, "
            "lifetime {ltv}; {as_of})"
        ),
        "no_grade_no_orders": "Grade: none (no paid orders)",
        "no_grade": "Grade: not graded yet",
        "orders": "Orders: {count}, total {total}, average {aov}",
        "orders_as_of": "Orders as of {as_of}: {count}, total {total}, average {aov}",
        "order_dates": "  first {first}, last {last}",
        "refunded": "  plus {count} refunded (not counted)",
        "no_orders": "Orders: no paid orders",
        "no_orders_as_of": "Orders: no paid orders as of {as_of}",
        "later": "  plus {count} paid after {as_of} (counted by the next run)",
        "history": "History: {history}",
        "no_history": "History: none",
        "follow_ups": "Recent follow-ups:",
        "follow_up": "  {at} {staff}: {note}",
        "next_due": " (next {day})",
        "no_follow_ups": "Recent follow-ups: none",
        "code": "Referral code: {code} ({program}) {link}",
        "no_codes": "Referral codes: none yet (the customer gets one by sending /invite)",
        "unknown": "unknown",
        "nobody": "unassigned",
        "matches": "{count} customers match “{query}”:",
        "matches_more": "More than {count} customers match; the first {count}:",
        "match_line": "{n:>2}. {name}  {phone}  {external_id}  {stage}",
        "rerun": "Run it again with the customer id, e.g. {command} {external_id}",
        "no_match": (
            "No customer matches “{query}”. Try a customer id, a full phone number "
            "or part of a name."
        ),
        "stage_unknown": "unclassified",
        "reach": "Reach: {items}",
        "reach_none": (
            "Reach: none (no WeCom, Official Account or Feishu identity: campaign messages "
            "cannot be sent)"
        ),
        "reach_sep": ", ",
        "preferred_set": " (preferred, set by staff)",
        "preferred_seen": " (preferred, spoke there last)",
    },
}


def stage_name(stage: str | None, locale: str = "zh-CN") -> str:
    lang = lang_of(locale)
    if stage is None:
        return _TEXT[lang]["stage_unknown"]
    return STAGE_NAMES[lang].get(stage, stage)


def render_card_text(card: CustomerCard, locale: str = "zh-CN", *, public_base_url: str) -> str:
    """The card as text; `public_base_url` makes the links of the customer's referral codes."""
    lang = lang_of(locale)
    t = _TEXT[lang]
    unknown = t["unknown"]
    lines = [
        t["title"]
        .format(
            external_id=card.external_id, name=card.masked_name or unknown, phone=card.masked_phone
        )
        .rstrip(),
        t["profile"].format(
            region=card.region or unknown,
            industry=card.industry or unknown,
            owner=card.owner_name or t["nobody"],
        ),
    ]
    if card.status == "closed":
        status = (
            t["status_closed"].format(day=card.closed_on)
            if card.closed_on
            else t["status_closed_undated"]
        )
    else:
        status = t["status_open"]
    status += t["created"].format(day=card.created_on)
    if card.marketing_opt_out:
        status += t["opt_out"]
    lines.append(status)
    lines.append(reach_line(card, lang))

    if card.stage is None:
        lines.append(t["unclassified"])
    else:
        line = t["stage"].format(
            stage=stage_name(card.stage.stage, lang),
            since=card.stage.since,
            as_of=card.stage.as_of,
        )
        if card.stage.qualified:
            line += t["qualified"]
        lines.append(line)
        lines.append(t["why"].format(rule=rule_label(card.stage.rule, lang)))
        if card.stage.metrics:
            receipt = format_metrics(card.stage.metrics, lang, card.stage.as_of)
            lines.append(t["metrics"].format(metrics=receipt))

    if card.grade is not None:
        lines.append(
            t["grade"].format(
                grade=card.grade.grade,
                score=f"{card.grade.score:.2f}",
                orders=card.grade.orders_365d,
                aov=format_fen(card.grade.aov_fen),
                ltv=format_fen(card.grade.ltv_fen),
                as_of=card.grade.as_of,
            )
        )
    else:
        lines.append(t["no_grade_no_orders"] if card.orders.count == 0 else t["no_grade"])

    orders = card.orders
    # Totals of the date the stage and grade describe, when there is one.
    dated = "" if orders.as_of is None else "_as_of"
    if orders.count == 0:
        lines.append(t["no_orders" + dated].format(as_of=orders.as_of))
    else:
        lines.append(
            t["orders" + dated].format(
                as_of=orders.as_of,
                count=orders.count,
                total=format_fen(orders.total_fen),
                aov=format_fen(orders.aov_fen),
            )
        )
        lines.append(t["order_dates"].format(first=orders.first_on, last=orders.last_on))
    if orders.refunded_count:
        lines.append(t["refunded"].format(count=orders.refunded_count))
    if orders.later_count:
        lines.append(t["later"].format(as_of=orders.as_of, count=orders.later_count))

    if card.transitions:
        history = " → ".join(
            f"{entry.as_of} {stage_name(entry.to_stage, lang)}" for entry in card.transitions
        )
        lines.append(t["history"].format(history=history))
    else:
        lines.append(t["no_history"])

    if card.follow_ups:
        lines.append(t["follow_ups"])
        lines.extend(_follow_up_line(entry, lang) for entry in card.follow_ups)
    else:
        lines.append(t["no_follow_ups"])

    lines.extend(
        t["code"].format(
            code=entry.code,
            program=entry.program_name,
            link=referral_link(public_base_url, entry.code),
        )
        for entry in card.referral_codes
    )
    if not card.referral_codes:
        lines.append(t["no_codes"])
    return "\n".join(lines)


def platform_name(platform: str, locale: str = "zh-CN") -> str:
    return PLATFORM_NAMES[lang_of(locale)].get(platform, platform)


def reach_line(card: CustomerCard, locale: str = "zh-CN") -> str:
    """The platforms campaign messages can reach the customer on, the preferred one marked."""
    t = _TEXT[lang_of(locale)]
    if not card.reach:
        return t["reach_none"]
    preferred = preferred_of(card.preferred_platform, card.reach)
    items = []
    for reach in card.reach:
        item = platform_name(reach.platform, locale)
        if reach.platform == preferred:
            chosen = reach.platform == card.preferred_platform
            item += t["preferred_set"] if chosen else t["preferred_seen"]
        items.append(item)
    return t["reach"].format(items=t["reach_sep"].join(items))


def _follow_up_line(entry: FollowUpEntry, lang: str) -> str:
    t = _TEXT[lang]
    line = t["follow_up"].format(
        at=entry.created_at.strftime("%Y-%m-%d %H:%M"),
        staff=entry.staff_name or t["unknown"],
        note=" ".join(entry.note.split()),
    )
    if entry.next_due_on is not None:
        line += t["next_due"].format(day=entry.next_due_on)
    return line


def render_match_list(
    matches: Sequence[CustomerMatch],
    query: str,
    *,
    rerun_command: str,
    more: bool = False,
    locale: str = "zh-CN",
) -> str:
    """The "which one did you mean" list; `rerun_command` is how this channel asks again
    (`fission customer show` on the CLI, `/customer` in chat)."""
    t = _TEXT[lang_of(locale)]
    if not matches:
        return t["no_match"].format(query=query)
    header = t["matches_more"] if more else t["matches"]
    lines = [header.format(count=len(matches), query=query)]
    for n, match in enumerate(matches, start=1):
        lines.append(
            t["match_line"]
            .format(
                n=n,
                name=match.masked_name or t["unknown"],
                phone=match.masked_phone or "-",
                external_id=match.external_id,
                stage=stage_name(match.stage, locale),
            )
            .rstrip()
        )
    lines.append(t["rerun"].format(command=rerun_command, external_id=matches[0].external_id))
    return "\n".join(lines)
