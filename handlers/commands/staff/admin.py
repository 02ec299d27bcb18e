"""`/staff` — the admin manages the staff directory from chat (list, add, remove)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.commands.call import CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv, split_args
from handlers.commands.registry import Router
from handlers.events import Reply, TextReply
from handlers.i18n import L, fill
from handlers.staff_directory import (
    MAX_NAME,
    MAX_USER_ID,
    PLATFORM_WORDS,
    ROLE_WORDS,
    StaffEntry,
    add_staff,
    list_staff,
    remove_staff,
)

router = Router("staff.admin")

TEXT = {
    "list_title": L("员工（{count} 位）：", "Staff ({count}):"),
    "list_line": L("#{id} {name}　{role}　{ids}", "#{id} {name}  {role}  {ids}"),
    "no_ids": L("（无账号）", "(no accounts)"),
    "added": L(
        "已添加员工 #{id} {name}（{role}），{platform} 账号 {user_id}。",
        "Added staff #{id} {name} ({role}), {platform} account {user_id}.",
    ),
    "updated": L(
        "已更新员工 #{id} {name}（{role}），{platform} 账号 {user_id}。",
        "Updated staff #{id} {name} ({role}), {platform} account {user_id}.",
    ),
    "removed": L(
        "已移除 {name} 的 {platform} 账号 {user_id}。",
        "Removed {name}'s {platform} account {user_id}.",
    ),
    "removed_inactive": L(
        "{name} 已没有其他账号，已停用（历史记录保留）。",
        "{name} has no other account and is now inactive (history kept).",
    ),
    "not_found": L(
        "{platform} 上没有员工账号 {user_id}。",
        "No staff account {user_id} on {platform}.",
    ),
    "not_self": L(
        "不能移除自己正在使用的账号，请让另一位管理员操作。",
        "You cannot remove the account you are using; ask another admin.",
    ),
    "bad_word": L(
        "“{word}”既不是角色也不是平台。角色：agent（专员）、manager（经理）、admin（管理员）；"
        "平台：wecom、wechat、feishu、console",
        "“{word}” is neither a role (agent, manager, admin) nor a platform "
        "(wecom, wechat, feishu, console).",
    ),
    "bad_platform": L(
        "没有“{word}”这个平台。可选：wecom、wechat、feishu、console",
        "No platform “{word}”. Choose wecom, wechat, feishu or console.",
    ),
    "too_long": L("账号最多 {id} 个字符，姓名最多 {name} 个字符。", "At most {id} / {name} chars."),
}
ROLE_LABELS = {
    "agent": L("专员", "agent"),
    "manager": L("经理", "manager"),
    "admin": L("管理员", "admin"),
}


@dataclass(frozen=True)
class StaffAction:
    action: str  # "list" | "add" | "remove"
    user_id: str = ""
    name: str = ""
    role: str = "agent"
    platform: str | None = None  # None: the admin's own platform


def staff_args(args: str, env: ParseEnv) -> StaffAction:
    words = split_args(args)
    verb = words[0].casefold() if words else "list"
    if verb in ("list", "列表", "ls"):
        return StaffAction("list")
    if verb in ("add", "添加") and 3 <= len(words) <= 5:
        role, platform = "agent", None
        for word in words[3:]:
            if word.casefold() in ROLE_WORDS:
                role = ROLE_WORDS[word.casefold()]
            elif word.casefold() in PLATFORM_WORDS:
                platform = PLATFORM_WORDS[word.casefold()]
            else:
                raise ArgumentError(fill(TEXT["bad_word"], word=word))
        if len(words[1]) > MAX_USER_ID or len(words[2]) > MAX_NAME:
            raise ArgumentError(fill(TEXT["too_long"], id=MAX_USER_ID, name=MAX_NAME))
        return StaffAction("add", user_id=words[1], name=words[2], role=role, platform=platform)
    if verb in ("remove", "rm", "删除", "移除") and 2 <= len(words) <= 3:
        platform = None
        if len(words) == 3:
            platform = PLATFORM_WORDS.get(words[2].casefold())
            if platform is None:
                raise ArgumentError(fill(TEXT["bad_platform"], word=words[2]))
        return StaffAction("remove", user_id=words[1], platform=platform)
    raise ArgumentError()


@router.command(
    "staff",
    "员工",
    role="admin",
    summary=L("管理员工：查看、添加、移除", "Manage staff: list, add, remove"),
    usage=L(
        "list | add <账号ID> <姓名> [agent|manager|admin] [平台] | remove <账号ID> [平台]",
        "list | add <user id> <name> [agent|manager|admin] [platform] | remove <user id> "
        "[platform]",
    ),
    args=staff_args,
    private_only=True,
)
async def manage_staff(call: CommandCall, action: StaffAction) -> list[Reply]:
    if action.action == "list":
        return [TextReply(_list_text(call, await list_staff(call.session)))]
    platform = action.platform or call.caller.platform
    if action.action == "add":
        entry, created = await add_staff(
            call.session,
            platform=platform,
            user_id=action.user_id,
            name=action.name,
            role=action.role,
            now=call.now,
        )
        key = "added" if created else "updated"
        role = call.t(ROLE_LABELS, entry.role)
        text = call.t(
            TEXT,
            key,
            id=entry.id,
            name=entry.name,
            role=role,
            platform=platform,
            user_id=action.user_id,
        )
        return [TextReply(text)]
    if platform == call.caller.platform and action.user_id == call.caller.user_id:
        return [TextReply(call.t(TEXT, "not_self"))]
    removed = await remove_staff(call.session, platform=platform, user_id=action.user_id)
    if removed is None:
        return [TextReply(call.t(TEXT, "not_found", platform=platform, user_id=action.user_id))]
    lines = [call.t(TEXT, "removed", name=removed.name, platform=platform, user_id=action.user_id)]
    if not removed.active:
        lines.append(call.t(TEXT, "removed_inactive", name=removed.name))
    return [TextReply("\n".join(lines))]


def _list_text(call: CommandCall, people: list[StaffEntry]) -> str:
    lines = [call.t(TEXT, "list_title", count=len(people))]
    for entry in people:
        ids = "，".join(f"{p}:{u}" for p, u in entry.identities) or call.t(TEXT, "no_ids")
        role = call.t(ROLE_LABELS, entry.role)
        lines.append(call.t(TEXT, "list_line", id=entry.id, name=entry.name, role=role, ids=ids))
    return "\n".join(lines)
