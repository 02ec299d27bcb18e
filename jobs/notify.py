"""Chat messages from a scheduled job to staff members: the follow-up reminders and the
win-back alerts.

Each message goes through the channel's `push` under an idempotency key, so the outbound log
sends it at most once whatever re-runs the job. A staff member with no identity on a configured
platform (or only an Official Account one, outside its 48-hour window) is skipped and counted;
a failed send is counted with its reason, the others still go out, and the job reports the
failures at the end (`Tally.raise_if_failed`), so its run row says so in `fission jobs`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from bot.channels.outbound.errors import OUTSIDE_WINDOW, SendResult
from handlers.events import Reply
from models.staff_reach import PUSH_PLATFORMS

log = logging.getLogger(__name__)


class Pusher(Protocol):
    """What a job needs of the channel registry (bot/channels/registry.py)."""

    def get(self, platform: str) -> object | None: ...

    async def push(
        self, platform: str, user_id: str, replies: list[Reply], key: str
    ) -> list[SendResult]: ...


def configured_platforms(channels: Pusher | None) -> list[str]:
    if channels is None:
        return []
    return [p for p in PUSH_PLATFORMS if channels.get(p) is not None]


@dataclass
class Tally:
    sent: int = 0
    # No chat identity on a configured platform, or outside the Official Account's window.
    unreachable: int = 0
    failures: list[str] = field(default_factory=list)

    def raise_if_failed(self, job: str) -> None:
        if self.failures:
            shown = "; ".join(self.failures[:3])
            raise RuntimeError(f"{job}: {len(self.failures)} message(s) not sent: {shown}")


async def notify(
    channels: Pusher | None,
    target: tuple[str, str] | None,
    replies: list[Reply],
    key: str,
    tally: Tally,
) -> bool:
    """Push `replies` to one staff member's `target` (platform, user id); True when sent (or
    sent before under `key`)."""
    if channels is None or target is None:
        tally.unreachable += 1
        return False
    platform, user_id = target
    try:
        results = await channels.push(platform, user_id, replies, key)
    except Exception as exc:  # one staff member's failure must not stop the others' messages
        log.exception("push %s to %s failed", key, platform)
        tally.failures.append(f"{platform}: {type(exc).__name__}")
        return False
    failed = [r for r in results if not r.ok]
    if any(r.status == OUTSIDE_WINDOW for r in failed):
        # The Official Account reaches a follower only within 48 h of their last message:
        # not a failure to retry, the staff member cannot be reached there today.
        tally.unreachable += 1
        return False
    if failed:
        first = failed[0]
        tally.failures.append(f"{platform} {first.status} {first.code or ''}".rstrip())
        return False
    tally.sent += 1
    return True
