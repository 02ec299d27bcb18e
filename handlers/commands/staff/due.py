"""`/due` (待跟进): the caller's own customers due for a follow-up today — the same list the
09:00 reminder pushes (jobs/reminders.py), on demand."""

from __future__ import annotations

from handlers.commands.call import CommandCall
from handlers.commands.filters import no_args
from handlers.commands.registry import Router
from handlers.events import Reply, TextReply
from handlers.i18n import L
from handlers.reminder_text import MAX_LINES, nothing_due, render_reminder
from models.followup_due import cadence_days, due_follow_ups

router = Router("staff.due")


@router.command(
    "due",
    "待跟进",
    "今日跟进",
    role="agent",
    summary=L(
        "我负责的客户里今天该跟进的（按阶段跟进节奏，逾期最久的在前，已脱敏）",
        "My customers due for a follow-up today (stage cadence, most overdue first, masked)",
    ),
    args=no_args,
    private_only=True,
)
async def show_due(call: CommandCall, _: None) -> list[Reply]:
    assert call.caller.staff is not None
    settings = call.ctx.settings
    owners = await due_follow_ups(
        call.session,
        today=call.today,
        tz=settings.tz,
        cadence=cadence_days(settings.playbook, call.locale),
        limit=MAX_LINES,
        owner_id=call.caller.staff.id,
    )
    if not owners:
        return [TextReply(nothing_due(call.locale))]
    return [render_reminder(owners[0], call.locale)]
