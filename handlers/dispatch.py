"""The two entry points channel adapters call: a chat message, and a referral join.

Each runs in one unit of work: identify the sender, run the command (or record the join),
commit, and only then hand the neutral replies back — nothing is acknowledged before it is
stored. A failure rolls everything back and the sender gets a short apology, never a
traceback; the error is logged with the event id so it can be found.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.commands import default_registry
from handlers.commands.call import Caller, CommandCall
from handlers.commands.filters import ArgumentError, ParseEnv
from handlers.commands.help import private_only_reply, unknown_reply, usage_reply
from handlers.commands.parse import Invocation, read_command
from handlers.commands.permissions import may_use
from handlers.events import SENDER_MEMBER, ChatMessage, HandlerContext, JoinEvent, Reply, TextReply
from handlers.i18n import L, tr
from handlers.identities import find_customer, find_staff, resolve_customer, user_id_kind
from handlers.joins import welcome_join
from models.clock import local_date
from models.reach import touch_last_seen

log = logging.getLogger(__name__)

TEXT = {
    "failed": L(
        "抱歉，刚才没有处理成功，请稍后再试。",
        "Sorry, something went wrong. Please try again in a moment.",
    ),
    "not_staff": L(
        "您还不是员工账号，请联系管理员用 fission staff add 添加：\n"
        "fission staff add --platform {platform} --user-id {user_id} --name 姓名 --role agent",
        "You are not registered as staff yet. Ask an administrator to add you:\n"
        "fission staff add --platform {platform} --user-id {user_id} --name NAME --role agent",
    ),
}


async def dispatch_message(ctx: HandlerContext, msg: ChatMessage) -> list[Reply]:
    """Replies to a chat message; [] when the bot should stay silent (group chatter)."""
    registry = default_registry()
    invocation = read_command(
        msg.text, is_group=msg.is_group, is_to_me=msg.is_to_me, registry=registry
    )
    if invocation is None:
        await _seen(ctx, msg)
        return []
    now = ctx.now()
    try:
        async with ctx.db.uow() as uow:
            caller = await _identify(uow.session, msg, now)
            if caller is None:
                return [_not_staff_reply(ctx, msg)]
            call = CommandCall(
                ctx=ctx,
                session=uow.session,
                message=msg,
                caller=caller,
                registry=registry,
                now=now,
                today=local_date(now, ctx.settings.tz),
            )
            replies = await _run(call, invocation)
            await uow.commit()
    except Exception:
        log.exception("command failed: %s event %s", msg.platform, msg.event_id)
        return [TextReply(tr(TEXT, "failed", ctx.settings.locale))]
    return replies


async def _seen(ctx: HandlerContext, msg: ChatMessage) -> None:
    """Chatter the bot does not answer still shows the sender is around (the Official
    Account's 48 h window, the platform they last spoke on): one UPDATE, no customer created."""
    try:
        async with ctx.db.uow() as uow:
            await touch_last_seen(
                uow.session,
                platform=msg.platform,
                app_id=msg.app_id,
                kind=user_id_kind(msg.platform, msg.sender_kind),
                value=msg.user_id,
                at=msg.received_at,
            )
            await uow.commit()
    except Exception:  # a missed last-seen time is not worth a retried event
        log.exception("last-seen update failed: %s event %s", msg.platform, msg.event_id)


def _not_staff_reply(ctx: HandlerContext, msg: ChatMessage) -> Reply:
    return TextReply(
        tr(TEXT, "not_staff", ctx.settings.locale, platform=msg.platform, user_id=msg.user_id)
    )


async def _identify(session: AsyncSession, msg: ChatMessage, now: datetime) -> Caller | None:
    """Staff are recognised by their platform user id; anybody else is a customer, created on
    first contact. A staff member becomes a customer record only when a customer command
    needs one (see `CommandCall.customer_id`).

    None for an organisation member who is not staff (a WeCom corp member writing to the app):
    customers never write from a member account, so a member is staff or nobody."""
    caller = Caller(
        platform=msg.platform,
        app_id=msg.app_id,
        user_id=msg.user_id,
        union_id=msg.union_id,
        display_name=msg.display_name,
    )
    caller.staff = await find_staff(session, platform=msg.platform, user_id=msg.user_id)
    if caller.staff is None and msg.sender_kind == SENDER_MEMBER:
        return None
    if caller.staff is None:
        caller.customer_id = await resolve_customer(
            session,
            platform=msg.platform,
            app_id=msg.app_id,
            user_id=msg.user_id,
            union_id=msg.union_id,
            display_name=msg.display_name,
            now=now,
            seen_at=msg.received_at,
        )
    else:
        caller.customer_id = await find_customer(
            session,
            platform=msg.platform,
            app_id=msg.app_id,
            user_id=msg.user_id,
            union_id=msg.union_id,
            sender_kind=msg.sender_kind,
        )
    return caller


async def _run(call: CommandCall, invocation: Invocation) -> list[Reply]:
    command = invocation.command
    if command is None or not may_use(call.caller.role, command.role):
        # A staff command asked for by a customer is answered exactly like an unknown one.
        return unknown_reply(call, invocation.word)
    if command.private_only and call.message.is_group:
        return private_only_reply(call, command)
    try:
        parsed = command.args(invocation.args, ParseEnv(today=call.today, locale=call.locale))
    except ArgumentError as error:
        return usage_reply(call, command, error)
    replies: list[Reply] = await command.handler(call, parsed)
    return replies


async def dispatch_join(ctx: HandlerContext, event: JoinEvent) -> list[Reply]:
    """Records somebody arriving through a referral hook and returns a short welcome.

    Unlike a message, a failed join is raised to the adapter: nobody would send it again, so the
    adapter's event store must keep it for a retry."""
    async with ctx.db.uow() as uow:
        replies = await welcome_join(uow.session, ctx, event)
        await uow.commit()
    return replies
