"""`/followup` (log a contact and the next date) and `/assign` (give a customer an owner)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from handlers.commands.call import CommandCall
from handlers.commands.filters import AssignInput, FollowUpInput, assign_args, follow_up_args
from handlers.commands.registry import Router
from handlers.commands.staff.lookup import one_customer
from handlers.customer_card_text import stage_name
from handlers.events import Reply, TextReply
from handlers.i18n import L
from models.customer import Customer
from models.customer_card import CustomerMatch
from models.staff import FollowUp, Staff
from models.stages import StageAssignment

router = Router("staff.followups")

TEXT = {
    "logged": L(
        "已记录对 {name}（{external_id}）的跟进。",
        "Follow-up with {name} ({external_id}) logged.",
    ),
    "next_given": L("下次跟进：{day}", "Next follow-up: {day}"),
    "next_cadence": L(
        "下次跟进：{day}（{stage}建议{cadence}跟进）",
        "Next follow-up: {day} ({stage}: {cadence} by the playbook)",
    ),
    "no_next": L(
        "没有设定下次跟进日期（客户尚未分类）。",
        "No next date set (the customer has no stage yet).",
    ),
    "assigned": L(
        "已将 {name}（{external_id}）分配给 {staff}。",
        "{name} ({external_id}) is now owned by {staff}.",
    ),
    "no_staff": L(
        "没有找到员工“{query}”。可以输入员工姓名或编号（#编号），发送 /staff list 查看。",
        "No staff member “{query}”. Use a name or #id; /staff list shows them.",
    ),
    "many_staff": L(
        "“{query}”对应多位员工：{names}。请输入完整姓名或 #编号。",
        "“{query}” matches several staff: {names}. Use the full name or #id.",
    ),
}


def _who(match: CustomerMatch) -> str:
    return match.masked_name or match.masked_phone or match.external_id


@router.command(
    "followup",
    "跟进",
    role="agent",
    summary=L(
        "记录一次客户跟进。下次日期可写 明天、下周三、6月5日、3天后；不写时按阶段的跟进节奏安排",
        "Log a follow-up. Next date like tomorrow, +3, in 3 days, 2024-06-05; without one the "
        "stage's cadence sets it",
    ),
    usage=L("<客户> <跟进内容> [下次日期]", "<customer> <note> [next date]"),
    args=follow_up_args,
    private_only=True,
)
async def log_follow_up(call: CommandCall, data: FollowUpInput) -> list[Reply]:
    found = await one_customer(call, data.customer, "/followup")
    if isinstance(found, list):
        return found
    lines = [call.t(TEXT, "logged", name=_who(found), external_id=found.external_id)]
    next_due = data.next_due
    if next_due is not None:
        lines.append(call.t(TEXT, "next_given", day=next_due))
    else:
        stage = await call.session.scalar(
            select(StageAssignment.stage).where(StageAssignment.customer_id == found.customer_id)
        )
        play = call.ctx.settings.playbook.play(stage, call.locale) if stage else None
        if stage is None or play is None:
            lines.append(call.t(TEXT, "no_next"))
        else:
            next_due = call.today + timedelta(days=play.cadence_days)
            lines.append(
                call.t(
                    TEXT,
                    "next_cadence",
                    day=next_due,
                    stage=stage_name(stage, call.locale),
                    cadence=play.cadence,
                )
            )
    assert call.caller.staff is not None
    call.session.add(
        FollowUp(
            customer_id=found.customer_id,
            staff_id=call.caller.staff.id,
            note=data.note,
            created_at=call.now,
            next_due_on=next_due,
        )
    )
    await call.session.flush()
    return [TextReply("\n".join(lines))]


@router.command(
    "assign",
    "分配",
    role="manager",
    summary=L("把客户分配给一位员工负责", "Make a staff member the customer's owner"),
    usage=L("<客户> <员工姓名|#编号>", "<customer> <staff name|#id>"),
    args=assign_args,
    private_only=True,
)
async def assign_owner(call: CommandCall, data: AssignInput) -> list[Reply]:
    found = await one_customer(call, data.customer, "/assign")
    if isinstance(found, list):
        return found
    staff = await _find_staff(call, data.staff)
    if isinstance(staff, list):
        return staff
    await call.session.execute(
        update(Customer)
        .where(Customer.id == found.customer_id)
        .values(owner_staff_id=staff.id, updated_at=call.now)
    )
    return [
        TextReply(
            call.t(
                TEXT, "assigned", name=_who(found), external_id=found.external_id, staff=staff.name
            )
        )
    ]


async def _find_staff(call: CommandCall, query: str) -> Staff | list[Reply]:
    """An active staff member by `#id`, exact name, or (if unique) part of a name."""
    active = select(Staff).where(Staff.active.is_(True))
    text = query.strip().lstrip("#＃")
    if text.isdigit():
        candidates = list((await call.session.scalars(active.where(Staff.id == int(text)))).all())
    else:
        candidates = list((await call.session.scalars(active.where(Staff.name == text))).all())
        if not candidates:
            like = active.where(func.lower(Staff.name).contains(text.lower(), autoescape=True))
            candidates = list((await call.session.scalars(like.order_by(Staff.id))).all())
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return [TextReply(call.t(TEXT, "no_staff", query=query))]
    names = "、".join(f"{s.name}（#{s.id}）" for s in candidates[:8])
    return [TextReply(call.t(TEXT, "many_staff", query=query, names=names))]
