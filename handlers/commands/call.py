"""What one command invocation gets: the message, who sent it, the open unit of work, the time.

A handler never opens a session or commits: the dispatcher owns the unit of work and commits
once, after the handler returned its replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import ChatMessage, HandlerContext
from handlers.i18n import Localized, tr
from handlers.identities import StaffMember, resolve_customer

if TYPE_CHECKING:
    from handlers.commands.registry import CommandRegistry


@dataclass
class Caller:
    """The sender. `customer_id` is None for a staff member until a customer command needs it."""

    platform: str
    app_id: str
    user_id: str
    union_id: str | None = None
    display_name: str | None = None
    staff: StaffMember | None = None
    customer_id: int | None = None

    @property
    def role(self) -> str:
        return self.staff.role if self.staff is not None else "customer"


@dataclass
class CommandCall:
    ctx: HandlerContext
    session: AsyncSession
    message: ChatMessage
    caller: Caller
    registry: CommandRegistry
    now: datetime
    today: date  # the local calendar day in the configured time zone

    @property
    def locale(self) -> str:
        return self.ctx.settings.locale

    def t(self, table: Mapping[str, Localized], key: str, **values: Any) -> str:
        return tr(table, key, self.locale, **values)

    async def customer_id(self) -> int:
        """The caller as a customer; created now if a staff member uses a customer command."""
        if self.caller.customer_id is None:
            self.caller.customer_id = await resolve_customer(
                self.session,
                platform=self.caller.platform,
                app_id=self.caller.app_id,
                user_id=self.caller.user_id,
                union_id=self.caller.union_id,
                display_name=self.caller.display_name,
                now=self.now,
                sender_kind=self.message.sender_kind,
            )
        return self.caller.customer_id
