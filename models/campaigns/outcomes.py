"""The contract between the delivery workers and the platform senders.

A worker claims due `deliveries` rows (models/campaigns/outbox.py), renders each message
(models/campaigns/render.py), hands them to the sender of their route in batches, and records
the `Outcome` the sender returns for each — nothing else writes a delivery's status. A sender
never touches the database's delivery rows; it only calls its platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    run_id: int
    campaign_id: int
    customer_id: int
    platform: str
    app_id: str
    route: str  # wecom_task | wechat_cs | wechat_template | feishu
    recipient: str
    sender: str | None
    attempts: int  # including this one
    deadline_at: datetime

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this delivery: a platform that de-duplicates on a
        caller's key (Feishu's `uuid`, one hour) drops a re-send after a crash with it."""
        return f"fission-delivery-{self.id}"


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    # The variables the text was filled with (name, coupon, expiry, link, shop), for a
    # platform that sends structured fields (the Official Account template message).
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    """The platform accepted the message (and delivered it, as far as it tells)."""

    message_id: str | None = None
    route: str | None = None  # set when the sender chose another route (CS → template)


@dataclass(frozen=True)
class WaitingStaff:
    """A WeCom mass-message task waits for its staff member to confirm it in the app."""

    task_id: int


@dataclass(frozen=True)
class Retry:
    """A transient failure (network, 5xx, a rate limit): try again after `retry_after`
    seconds, or with the worker's back-off when None, until the delivery's deadline."""

    code: int | None
    error: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Dead:
    """A permanent failure: the customer blocked the account, is not a follower or contact,
    is over the platform's monthly limit … `reason` is a short code shown by `fission outbox`."""

    reason: str
    code: int | None = None
    error: str = ""


@dataclass(frozen=True)
class Skipped:
    """Not sent at all, deliberately: opted out since the run, outside the 48 h window with no
    template configured, no way to reach the customer on this platform."""

    reason: str


Outcome = Sent | WaitingStaff | Retry | Dead | Skipped


class RouteSender(Protocol):
    """Sends the deliveries of the routes it names; one outcome per delivery, in order."""

    routes: tuple[str, ...]

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]: ...
