"""From a platform's refusal to a delivery's outcome.

- transient — the network, a 5xx, a quota or rate limit (WeChat 45009, Feishu 99991400 with its
  `x-ogw-ratelimit-reset`), a code the platform documents as "try later" → `Retry`;
- a code the platform documents as permanent for this recipient (blocked, not a follower, left
  the company …) → `Dead` with a short reason code;
- any other code → `Retry`, bounded by the delivery's deadline: an unknown code is as likely a
  misconfiguration an operator fixes within the deadline (an IP allow-list, a missing
  permission) as a dead recipient, and `fission outbox` shows it as the last error meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.channels.outbound.errors import ApiError, RateLimited
from models.campaigns.outcomes import Dead, Retry


def outcome_of_error(
    error: ApiError,
    permanent: Mapping[int, str],
    *,
    waits: Mapping[int, float] | None = None,
) -> Retry | Dead:
    """`permanent`: code → reason; `waits`: code → seconds to wait before the retry."""
    message = error.message[:200]
    if isinstance(error, RateLimited):
        return Retry(error.code, message, retry_after=error.retry_after)
    reason = permanent.get(error.code) if error.code is not None else None
    if reason is not None:
        return Dead(reason, error.code, message)
    wait = (waits or {}).get(error.code) if error.code is not None else None
    return Retry(error.code, message, retry_after=wait)
