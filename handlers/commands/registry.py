"""Commands declared once — names, aliases, role, usage and help text beside the handler.

Each feature module makes its own `Router` and declares commands on it with a decorator
(aiogram's routers, nonebot's `usage` metadata); `handlers/commands/__init__.py` composes the
routers into one `CommandRegistry` in one visible place. `/help`, the unknown-command reply
and the usage reply are all generated from the registry, so they cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from handlers.commands.filters import ArgFilter
from handlers.commands.permissions import Role, may_use, rank
from handlers.events import Reply
from handlers.i18n import L, Localized, lang, pick

if TYPE_CHECKING:
    from handlers.commands.call import CommandCall

T = TypeVar("T")
Handler = Callable[["CommandCall", T], Awaitable[list[Reply]]]
NO_USAGE: Localized = L("", "")


@dataclass(frozen=True)
class Command(Generic[T]):
    name: str  # English, the canonical name: `/invite`
    aliases: tuple[str, ...]  # Chinese (and other) names: `邀请`
    role: Role
    summary: Localized  # one line for /help
    usage: Localized  # the arguments, e.g. `<姓名|手机号|客户编号>`; empty when none
    args: ArgFilter[T]
    handler: Handler[T]
    private_only: bool = False  # answered in groups only with "please ask me privately"

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def usage_line(self, locale: str) -> str:
        """`/customer <姓名|手机号|客户编号>` in the caller's language."""
        args = pick(self.usage, locale)
        return f"/{self.name} {args}".rstrip()

    def title(self, locale: str) -> str:
        """`/customer（客户）` — both names, so people learn either."""
        if not self.aliases:
            return f"/{self.name}"
        names = "、".join(self.aliases) if lang(locale) == "zh-CN" else ", ".join(self.aliases)
        return f"/{self.name}（{names}）" if lang(locale) == "zh-CN" else f"/{self.name} ({names})"


class Router:
    """The commands of one feature, e.g. `router = Router("referral")`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command[Any]] = []

    def command(
        self,
        name: str,
        *aliases: str,
        role: Role,
        summary: Localized,
        args: ArgFilter[T],
        usage: Localized = NO_USAGE,
        private_only: bool = False,
    ) -> Callable[[Handler[T]], Handler[T]]:
        def register(handler: Handler[T]) -> Handler[T]:
            self.commands.append(
                Command(
                    name=name,
                    aliases=aliases,
                    role=role,
                    summary=summary,
                    usage=usage,
                    args=args,
                    handler=handler,
                    private_only=private_only,
                )
            )
            return handler

        return register


def _key(word: str) -> str:
    return word.casefold()


class CommandRegistry:
    """All commands of the bot, looked up by any of their names (case-insensitive)."""

    def __init__(self, *routers: Router) -> None:
        self.commands: tuple[Command[Any], ...] = tuple(c for r in routers for c in r.commands)
        self._by_word: dict[str, Command[Any]] = {}
        for command in self.commands:
            for word in command.words:
                if _key(word) in self._by_word:
                    raise ValueError(f"command name {word!r} is declared twice")
                self._by_word[_key(word)] = command
        # Longest first, so `我的邀请` wins over `邀请` when a name is glued to its arguments.
        self._glued = sorted(
            ((w, c) for c in self.commands for w in c.aliases if not w.isascii()),
            key=lambda item: -len(item[0]),
        )

    def find(self, word: str) -> Command[Any] | None:
        return self._by_word.get(_key(word))

    def find_glued(self, text: str) -> tuple[Command[Any], str] | None:
        """`客户张三` → (the /customer command, `张三`): Chinese names need no space after them."""
        for word, command in self._glued:
            if text.startswith(word) and len(text) > len(word):
                return command, text[len(word) :].strip()
        return None

    def visible_to(self, role: str) -> list[Command[Any]]:
        """The commands a caller with `role` may use, customer commands first."""
        allowed = [c for c in self.commands if may_use(role, c.role)]
        return sorted(allowed, key=lambda c: rank(c.role) > 0)

    def names_for(self, role: str, locale: str) -> Iterable[str]:
        return (c.title(locale) for c in self.visible_to(role))
