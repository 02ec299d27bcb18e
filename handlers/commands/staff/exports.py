"""`/export grades|lifecycle|referral|invitations [filters]`: the seeds' tables as a file in the
chat (models/exports) — an XLSX (or CSV) message on Feishu and WeCom; on the Official Account,
which has no file message, the text saying which `fission export` command makes it.

A whole customer base leaves the system this way, masked but complete, so it is a manager's
command, answered in private chats only.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass

from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv, split_args
from handlers.commands.registry import Router
from handlers.commands.staff.lists import EXPORT_ROLE
from handlers.events import FileReply, Reply, TextReply
from handlers.i18n import L, Localized, fill
from models.exports import (
    FILTERS_OF,
    ExportEnv,
    ExportFilters,
    OwnerNotFound,
    build_export,
    default_file_name,
    filter_words,
    find_owner,
    write_export,
)
from models.reports.labels import parse_grade, parse_stage

router = Router("staff.exports")

KIND_WORDS = {
    "grades": "grades",
    "grade": "grades",
    "分级": "grades",
    "分级表": "grades",
    "客户分级": "grades",
    "客户分级表": "grades",
    "lifecycle": "lifecycle",
    "stages": "lifecycle",
    "生命周期": "lifecycle",
    "阶段": "lifecycle",
    "跟踪表": "lifecycle",
    "生命周期跟踪表": "lifecycle",
    "referral": "referral",
    "裂变": "referral",
    "裂变表": "referral",
    "裂变管理表": "referral",
    "invitations": "invitations",
    "invites": "invitations",
    "邀请": "invitations",
    "邀请记录": "invitations",
}
FILTER_KEYS = {
    "stage": "stage",
    "阶段": "stage",
    "grade": "grade",
    "等级": "grade",
    "分级": "grade",
    "owner": "owner",
    "负责人": "owner",
    "责任人": "owner",
}
_KEY_VALUE = re.compile(r"(?:--)?([^=:：\s]+)\s*[=:：]\s*(.+)")
_FORMATS = {"xlsx": "xlsx", "excel": "xlsx", "csv": "csv"}
_PLAIN_WORD = re.compile(r"[\w\-.,:@%+=/]+")

TEXT = {
    "caption": L(
        "{title}{filters}：{rows} 行，联系方式已脱敏。",
        "{title}{filters}: {rows} rows, contact details masked.",
    ),
    "filters": L("（{words}）", " ({words})"),
    "sep": L("、", ", "),
    "fallback": L(
        "这里无法直接发送文件。请在服务器上运行：{command}（生成 {filename}）",
        "Files cannot be sent here. On the server, run: {command} (writes {filename})",
    ),
    "empty": L("{title}{filters}：没有符合条件的行。", "{title}{filters}: no rows match."),
    "no_owner": L(
        "没有名为“{name}”的员工。负责人可选：{names}，或“未分配”。",
        "No staff member is called “{name}”. Owners: {names}, or “none”.",
    ),
}
BAD_KIND: Localized = L(
    "要导出哪张表？grades（客户分级表）、lifecycle（生命周期跟踪表）、referral（裂变管理表）"
    "或 invitations（邀请记录）。",
    "Which table? grades, lifecycle, referral or invitations.",
)
NOT_A_FILTER: Localized = L(
    "“{word}”不是可用的筛选条件。可以加：阶段（如 衰退）、等级（如 A）、负责人=姓名、csv。",
    "“{word}” is not a filter. Add a stage (e.g. declining), a grade (e.g. A), owner=NAME or csv.",
)
FILTER_NAMES = {
    "stage": L("阶段", "stage"),
    "grade": L("等级", "grade"),
    "owner": L("负责人", "owner"),
}


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    fmt: str = "xlsx"
    stage: str | None = None
    grade: str | None = None
    owner: str | None = None


def _filter(kind: str, key: str, value: str, found: dict[str, str]) -> None:
    if key not in FILTERS_OF[kind]:
        what = FILTER_NAMES[key]
        raise ArgumentError(
            L(
                f"{kind} 不能按{what['zh-CN']}筛选。",
                f"The {kind} export cannot be filtered by {what['en']}.",
            )
        )
    if key == "stage":
        parsed = parse_stage(value)
    elif key == "grade":
        parsed = parse_grade(value)
    else:
        parsed = value.strip() or None
    if parsed is None:
        raise ArgumentError(fill(NOT_A_FILTER, word=value))
    found[key] = parsed


def export_args(args: str, env: ParseEnv) -> ExportRequest:
    words = split_args(args)
    if not words:
        raise ArgumentError(BAD_KIND)
    kind = KIND_WORDS.get(words[0].casefold())
    if kind is None:
        raise ArgumentError(BAD_KIND)
    fmt = "xlsx"
    found: dict[str, str] = {}
    for word in words[1:]:
        pair = _KEY_VALUE.fullmatch(word)
        if word.casefold() in _FORMATS:
            fmt = _FORMATS[word.casefold()]
        elif pair is not None and pair[1].casefold() in FILTER_KEYS:
            _filter(kind, FILTER_KEYS[pair[1].casefold()], pair[2], found)
        elif parse_stage(word) is not None:
            _filter(kind, "stage", word, found)
        elif parse_grade(word) is not None:
            _filter(kind, "grade", word, found)
        else:
            raise ArgumentError(fill(NOT_A_FILTER, word=word))
    return ExportRequest(kind=kind, fmt=fmt, **found)


def cli_command(request: ExportRequest) -> str:
    """The `fission export` command that writes the same file."""
    parts = ["fission", "export", request.kind]
    for option, value in (
        ("--stage", request.stage),
        ("--grade", request.grade),
        ("--owner", request.owner),
    ):
        if value is not None:
            parts += [option, value]
    if request.fmt != "xlsx":
        parts += ["--format", request.fmt]
    return " ".join(_shell_word(part) for part in parts)


def _shell_word(word: str) -> str:
    """A word as typed at a shell: quoted only when it must be (`赵敏` stays `赵敏`)."""
    return word if _PLAIN_WORD.fullmatch(word) else shlex.quote(word)


@router.command(
    "export",
    "导出",
    role=EXPORT_ROLE,
    summary=L(
        "把客户分级表、生命周期跟踪表、裂变管理表或邀请记录导出为 Excel 文件（已脱敏）",
        "The grades, lifecycle, referral or invitations table as an Excel file (masked)",
    ),
    usage=L(
        "<grades|lifecycle|referral|invitations> [阶段] [等级] [负责人=姓名] [csv]",
        "<grades|lifecycle|referral|invitations> [stage] [grade] [owner=NAME] [csv]",
    ),
    args=export_args,
    private_only=True,
)
async def export(call: CommandCall, request: ExportRequest) -> list[Reply]:
    owner = None
    if request.owner is not None:
        try:
            owner = await find_owner(call.session, request.owner)
        except OwnerNotFound as missing:
            names = "、".join(missing.known) or "-"
            return [TextReply(call.t(TEXT, "no_owner", name=missing.name, names=names))]
    filters = ExportFilters(stage=request.stage, grade=request.grade, owner=owner)
    env = ExportEnv(call.ctx.settings, call.today)
    table = await build_export(call.session, request.kind, env, filters)
    words = filter_words(filters, call.locale)
    shown = call.t(TEXT, "filters", words=call.t(TEXT, "sep").join(words)) if words else ""
    if table.total == 0:
        return [TextReply(call.t(TEXT, "empty", title=table.title, filters=shown))]
    out = io.BytesIO()
    rows = await write_export(table, out, request.fmt)
    filename = default_file_name(table, call.today, request.fmt, filters, call.locale)
    return [
        FileReply(
            content=out.getvalue(),
            filename=filename,
            caption=call.t(TEXT, "caption", title=table.title, filters=shown, rows=f"{rows:,}"),
            fallback=call.t(TEXT, "fallback", command=cli_command(request), filename=filename),
        )
    ]
