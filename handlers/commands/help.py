"""`/help` and the two replies built from the registry: "unknown command" and "how to use it".

Everything here is generated from the declared commands and filtered by the caller's role, so a
customer never sees (or learns of) a staff command: asking for one gets exactly the reply an
unknown command gets.
"""

from __future__ import annotations

from typing import Any

from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, optional_word
from handlers.commands.permissions import is_staff_role, may_use
from handlers.commands.registry import Command, Router
from handlers.events import Reply, TextReply
from handlers.i18n import ZH, L, lang, pick

router = Router("help")

_MAX_ECHO = 20

TEXT = {
    "unknown": L(
        "我还不认识“{word}”。可以发送：{names}\n发送“帮助”查看每个命令的用法。",
        "I don't know “{word}”. You can send: {names}\nSend /help to see how to use them.",
    ),
    "usage": L("用法：{usage}", "Usage: {usage}"),
    "also": L("也可以发送：{examples}", "Also works: {examples}"),
    "help_title": L("你可以对我说：", "Here is what I can do:"),
    "help_staff": L("员工命令：", "Staff commands:"),
    "help_line": L("{title}\n　{summary}", "{title}\n  {summary}"),
    "help_usage": L("　用法：{usage}", "  Usage: {usage}"),
    "help_footer": L(
        "私聊时可以不加“/”；在群里请 @我 或以“/”开头。发送“帮助 命令名”查看详细用法。",
        "In a private chat the “/” is optional; in a group @mention me or start with “/”. "
        "Send /help <command> for details.",
    ),
    "private_only": L(
        "为保护客户隐私，请私聊我使用 {command}。",
        "To protect customers' privacy, please use {command} in a private chat with me.",
    ),
    "role": L("需要角色：{role}", "Role required: {role}"),
}
ROLE_NAMES = {
    "agent": L("专员及以上", "agent or above"),
    "manager": L("经理及以上", "manager or above"),
    "admin": L("管理员", "admin"),
}


def _names(call: CommandCall) -> str:
    """What the caller may send: the Chinese names in Chinese (what people type), else `/name`."""
    visible = call.registry.visible_to(call.caller.role)
    if lang(call.locale) == ZH:
        return "、".join(next((a for a in c.aliases if not a.isascii()), c.name) for c in visible)
    return ", ".join(f"/{c.name}" for c in visible)


def unknown_reply(call: CommandCall, word: str) -> list[Reply]:
    shown = word if len(word) <= _MAX_ECHO else word[:_MAX_ECHO] + "…"
    return [TextReply(call.t(TEXT, "unknown", word=shown, names=_names(call)))]


def usage_text(call: CommandCall, command: Command[Any]) -> str:
    lines = [call.t(TEXT, "usage", usage=command.usage_line(call.locale))]
    args = pick(command.usage, call.locale)
    if command.aliases:
        examples = "、".join(f"{alias} {args}".rstrip() for alias in command.aliases)
        lines.append(call.t(TEXT, "also", examples=examples))
    lines.append(pick(command.summary, call.locale))
    return "\n".join(lines)


def usage_reply(call: CommandCall, command: Command[Any], error: ArgumentError) -> list[Reply]:
    lines = [pick(error.message, call.locale)] if error.message else []
    lines.append(usage_text(call, command))
    return [TextReply("\n".join(lines))]


def private_only_reply(call: CommandCall, command: Command[Any]) -> list[Reply]:
    return [TextReply(call.t(TEXT, "private_only", command=f"/{command.name}"))]


@router.command(
    "help",
    "帮助",
    role="customer",
    summary=L("查看我能做什么", "See what I can do"),
    usage=L("[命令名]", "[command]"),
    args=optional_word,
)
async def show_help(call: CommandCall, word: str | None) -> list[Reply]:
    if word is not None:
        command = call.registry.find(word.lstrip("/／"))
        if command is None or not may_use(call.caller.role, command.role):
            return unknown_reply(call, word)
        return [TextReply(_details(call, command))]
    visible = call.registry.visible_to(call.caller.role)
    lines = [call.t(TEXT, "help_title")]
    staff_header_done = False
    for command in visible:
        if is_staff_role(command.role) and not staff_header_done:
            lines.append(call.t(TEXT, "help_staff"))
            staff_header_done = True
        lines.append(
            call.t(
                TEXT,
                "help_line",
                title=command.title(call.locale),
                summary=pick(command.summary, call.locale),
            )
        )
        if pick(command.usage, call.locale):
            lines.append(call.t(TEXT, "help_usage", usage=command.usage_line(call.locale)))
    lines.append(call.t(TEXT, "help_footer"))
    return [TextReply("\n".join(lines))]


def _details(call: CommandCall, command: Command[Any]) -> str:
    lines = [command.title(call.locale), usage_text(call, command)]
    if is_staff_role(command.role):
        lines.append(call.t(TEXT, "role", role=pick(ROLE_NAMES[command.role], call.locale)))
    return "\n".join(lines)
