"""`/stage 衰退` and `/grade A`: a stage's or a grade's customers, ten a page, masked — the rows of
the lifecycle and grades exports in the same order, for a look in chat; `/export` sends them
all as a file."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv, split_args
from handlers.commands.permissions import Role, may_use
from handlers.commands.registry import Router
from handlers.commands.staff.paging import (
    PAGE_SIZE,
    Page,
    next_page_hint,
    page_arg,
    page_label,
    past_end,
)
from handlers.customer_card_text import stage_name
from handlers.events import CardReply, Reply, TextReply
from handlers.i18n import EN, L, fill, lang
from models.clock import local_date
from models.exports import grade_page
from models.exports.stage_list import stage_page
from models.money import format_fen
from models.reports.labels import parse_grade, parse_stage
from models.stages import STAGES

router = Router("staff.lists")

EXPORT_ROLE: Role = "manager"  # who may use /export (handlers/commands/staff/exports.py)

TEXT = {
    "stage_title": L(
        "{stage}（共 {total} 位）按累计消费排序，{page}：",
        "{stage} ({total} in total) by total spent, {page}:",
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
    "bad_stage": L(
        "没有“{word}”这个阶段。可选：{stages}",
        "There is no stage “{word}”. Choose one of: {stages}",
    ),
    "grade_name": L("{grade} 级客户", "Grade {grade}"),
    "grade_title": L(
        "{name}（共 {total} 位）按得分排序，{page}：",
        "{name} ({total} in total) by score, {page}:",
    ),
    "grade_line": L(
        "{n}. {name}　{phone}　{external_id}　得分 {score}，近一年 {orders} 单，"
        "客单价 {aov}，累计 {ltv}",
        "{n}. {name}  {phone}  {external_id}  score {score}, {orders} orders a year, "
        "AOV {aov}, lifetime {ltv}",
    ),
    "grade_empty": L(
        "目前没有 {grade} 级客户。分级由生命周期运行计算：fission lifecycle run。",
        "No grade {grade} customers right now. Grades come from `fission lifecycle run`.",
    ),
    "bad_grade": L(
        "没有“{word}”这个等级。可选：A、B、C", "There is no grade “{word}”. Choose A, B or C"
    ),
    "details": L("查看详情：/customer <客户编号>", "Details: /customer <customer id>"),
    "export": L("导出全部：/export {what}", "All of them as a file: /export {what}"),
}


@dataclass(frozen=True)
class StageQuery:
    stage: str
    page: Page


@dataclass(frozen=True)
class GradeQuery:
    grade: str
    page: Page


def _words(args: str, usage_error: ArgumentError) -> tuple[str, str | None]:
    words = split_args(args)
    if not words or len(words) > 2:
        raise usage_error
    return words[0], words[1] if len(words) == 2 else None


def stage_args(args: str, env: ParseEnv) -> StageQuery:
    word, page = _words(args, ArgumentError())
    stage = parse_stage(word)
    if stage is None:
        choices = "、".join(stage_name(s, env.locale) for s in STAGES)
        raise ArgumentError(fill(TEXT["bad_stage"], word=word, stages=choices))
    return StageQuery(stage=stage, page=page_arg(page))


def grade_args(args: str, env: ParseEnv) -> GradeQuery:
    word, page = _words(args, ArgumentError())
    grade = parse_grade(word)
    if grade is None:
        raise ArgumentError(fill(TEXT["bad_grade"], word=word))
    return GradeQuery(grade=grade, page=page_arg(page))


def stage_word(stage: str, locale: str) -> str:
    """How to type a stage back: `衰退`, or `declining`."""
    if lang(locale) == EN:
        return stage
    return stage_name(stage, locale).removesuffix("客户")


def _footer(call: CommandCall, page: Page, total: int, command: str, export: str) -> str:
    lines = [next_page_hint(page, total, command, call.locale), call.t(TEXT, "details")]
    if may_use(call.caller.role, EXPORT_ROLE):
        lines.append(call.t(TEXT, "export", what=export))
    return "\n".join(line for line in lines if line)


@router.command(
    "stage",
    "阶段",
    role="agent",
    summary=L(
        "某个生命周期阶段的客户，按累计消费排序，每页 10 位（已脱敏）",
        "A lifecycle stage's customers by total spent, 10 a page (masked)",
    ),
    usage=L("<阶段> [页码]　阶段：潜在/新/成长/成熟/衰退/流失", "<stage> [page]"),
    args=stage_args,
    private_only=True,
)
async def show_stage(call: CommandCall, query: StageQuery) -> list[Reply]:
    page = query.page
    total, entries = await stage_page(
        call.session, query.stage, offset=page.offset, limit=PAGE_SIZE
    )
    name = stage_name(query.stage, call.locale)
    word = stage_word(query.stage, call.locale)
    command = f"/stage {word}"
    beyond = past_end(page, total, name, command, call.locale)
    if beyond is not None:
        return [TextReply(beyond)]
    if not entries:
        return [TextReply(call.t(TEXT, "stage_empty", stage=name))]
    tz = call.ctx.settings.tz
    lines = []
    for n, entry in enumerate(entries, page.offset + 1):
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
    title = call.t(
        TEXT, "stage_title", stage=name, total=total, page=page_label(page, total, call.locale)
    )
    footer = _footer(call, page, total, command, f"lifecycle {word}")
    return [CardReply(title=title, body="\n".join(lines), footer=footer)]


@router.command(
    "grade",
    "分级",
    "等级",
    role="agent",
    summary=L(
        "A/B/C 某一级的客户，按分级得分排序，每页 10 位（已脱敏）",
        "The customers of grade A, B or C by score, 10 a page (masked)",
    ),
    usage=L("<A|B|C> [页码]", "<A|B|C> [page]"),
    args=grade_args,
    private_only=True,
)
async def show_grade(call: CommandCall, query: GradeQuery) -> list[Reply]:
    page, grade = query.page, query.grade
    total, lines = await grade_page(
        call.session, call.ctx.settings.grading, grade, offset=page.offset, limit=PAGE_SIZE
    )
    command = f"/grade {grade}"
    name = call.t(TEXT, "grade_name", grade=grade)
    beyond = past_end(page, total, name, command, call.locale)
    if beyond is not None:
        return [TextReply(beyond)]
    if not lines:
        return [TextReply(call.t(TEXT, "grade_empty", grade=grade))]
    body = [
        call.t(
            TEXT,
            "grade_line",
            n=n,
            name=line.masked_name or "-",
            phone=line.masked_phone or "-",
            external_id=line.external_id,
            score=f"{line.score:.2f}",
            orders=line.orders_365d,
            aov=format_fen(line.aov_fen),
            ltv=format_fen(line.ltv_fen),
        )
        for n, line in enumerate(lines, page.offset + 1)
    ]
    title = call.t(
        TEXT, "grade_title", name=name, total=total, page=page_label(page, total, call.locale)
    )
    footer = _footer(call, page, total, command, f"grades {grade}")
    return [CardReply(title=title, body="\n".join(body), footer=footer)]
