"""The follow-up reminder as the owner reads it in chat (masked names and phones, most
overdue first), for the 09:00 push and for `/due` alike.

A WeCom app message holds 2,048 bytes; the card is cut to fit well inside that (and at most
`MAX_LINES` customers), and the rest is counted in the last line instead of being lost to the
platform's silent truncation.
"""

from __future__ import annotations

from handlers.customer_card_text import stage_name
from handlers.events import CardReply
from handlers.i18n import L, tr
from models.followup_due import DueCustomer, OwnerDue

MAX_LINES = 20
MAX_BODY_BYTES = 1760  # leaves room for the title, 'N more' and footer in 2,048 bytes

TEXT = {
    "title": L("今日待跟进客户（{total} 位）", "Follow-ups due today ({total})"),
    "line": L(
        "{n}. {name}　{phone}　{external_id}　{stage}　{when}",
        "{n}. {name}  {phone}  {external_id}  {stage}  {when}",
    ),
    "today": L("今天到期", "due today"),
    "overdue": L("已逾期 {days} 天", "{days} days overdue"),
    "last": L("（上次 {day}）", " (last {day})"),
    "never": L("（从未跟进）", " (never followed up)"),
    "more": L("还有 {more} 位未列出。", "{more} more not listed."),
    "footer": L(
        "记录跟进：/followup <客户编号> <内容> [下次日期]　查看客户：/customer <客户编号>",
        "Log one: /followup <customer id> <note> [next date]  Card: /customer <customer id>",
    ),
    "none": L("今天没有到期的跟进，做得好！", "No follow-ups due today. Well done!"),
}


def _line(n: int, customer: DueCustomer, locale: str) -> str:
    when = (
        tr(TEXT, "overdue", locale, days=customer.overdue_days)
        if customer.overdue_days > 0
        else tr(TEXT, "today", locale)
    )
    if customer.last_follow_up is None:
        when += tr(TEXT, "never", locale)
    else:
        when += tr(TEXT, "last", locale, day=customer.last_follow_up.isoformat())
    return tr(
        TEXT,
        "line",
        locale,
        n=n,
        name=customer.masked_name or "-",
        phone=customer.masked_phone or "-",
        external_id=customer.external_id,
        stage=stage_name(customer.stage, locale),
        when=when,
    )


def render_reminder(owner: OwnerDue, locale: str) -> CardReply:
    lines: list[str] = []
    size = 0
    for n, customer in enumerate(owner.customers[:MAX_LINES], 1):
        line = _line(n, customer, locale)
        size += len(line.encode("utf-8")) + 1
        if size > MAX_BODY_BYTES:
            break
        lines.append(line)
    if owner.total > len(lines):
        lines.append(tr(TEXT, "more", locale, more=owner.total - len(lines)))
    return CardReply(
        title=tr(TEXT, "title", locale, total=owner.total),
        body="\n".join(lines),
        footer=tr(TEXT, "footer", locale),
    )


def nothing_due(locale: str) -> str:
    return tr(TEXT, "none", locale)
