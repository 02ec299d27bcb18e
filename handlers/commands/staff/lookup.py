"""From what a staff member typed to exactly one customer, or a reply asking which one."""

from __future__ import annotations

from handlers.commands.call import CommandCall
from handlers.customer_card_text import render_match_list
from handlers.events import Reply, TextReply
from models.customer_card import CustomerMatch, find_customers

MAX_MATCHES = 8


async def one_customer(call: CommandCall, query: str, rerun: str) -> CustomerMatch | list[Reply]:
    """The single customer `query` names, or the reply to send instead: "no such customer", or
    a short masked list with how to ask again (`rerun`, e.g. `/followup`)."""
    matches = await find_customers(call.ctx.db, query, limit=MAX_MATCHES + 1)
    if len(matches) == 1:
        return matches[0]
    text = render_match_list(
        matches[:MAX_MATCHES],
        query.strip(),
        rerun_command=rerun,
        more=len(matches) > MAX_MATCHES,
        locale=call.locale,
    )
    return [TextReply(text)]
