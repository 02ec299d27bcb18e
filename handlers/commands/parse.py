"""Is this message a command, and which one?

Private chats: everything is for the bot, and the `/` is optional (`邀请` = `/invite`).
Groups: the bot answers only when @mentioned (`is_to_me`, mention already stripped by the
adapter) or when the text starts with `/` — people talk to each other there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.commands.registry import Command, CommandRegistry

_SLASHES = ("/", "／")


@dataclass(frozen=True)
class Invocation:
    word: str  # what was typed as the command's name (shown back in the "unknown" reply)
    command: Command[Any] | None  # None: no such command
    args: str


def read_command(
    text: str, *, is_group: bool, is_to_me: bool, registry: CommandRegistry
) -> Invocation | None:
    """The invocation in `text`, or None when the bot should stay silent."""
    body = text.replace("\u3000", " ").strip()
    if not body:
        return None
    explicit = body.startswith(_SLASHES)
    if is_group and not (explicit or is_to_me):
        return None
    if explicit:
        body = body[1:].strip()
        if not body:
            return Invocation(word="/", command=None, args="")
    word, _, rest = body.partition(" ")
    shown = ("/" if explicit else "") + word
    command = registry.find(word)
    if command is not None:
        return Invocation(word=shown, command=command, args=rest.strip())
    glued = registry.find_glued(body)
    if glued is not None:
        return Invocation(word=shown, command=glued[0], args=glued[1])
    return Invocation(word=shown, command=None, args=rest.strip())
