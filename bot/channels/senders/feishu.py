"""Campaign messages to Feishu users: the bot writes to each user directly
(`im/v1/messages?receive_id_type=open_id`), within the app's availability.

Every message carries a `uuid` derived from the delivery id, so Feishu itself drops a second
send of the same delivery within an hour: a worker killed between the send and recording it
sends again after the claim's lease and the customer still sees one message. That closes the
duplicate window for Feishu, as long as the retry comes within the hour.
"""

from __future__ import annotations

from bot.channels.feishu.api import FeishuApi
from bot.channels.outbound.errors import ApiError
from bot.channels.senders.failures import outcome_of_error
from models.campaigns.outcomes import ClaimedDelivery, Outcome, RenderedMessage, Sent, Skipped

# Documented codes of im/v1/messages that no retry will change for this recipient.
PERMANENT = {
    230013: "not_available",  # outside the bot's availability, or the user left the company
    230035: "no_permission",  # the tenant's communication rules forbid it
    230038: "cross_tenant",
    230006: "bot_disabled",  # the app's bot ability is off
    230001: "invalid_request",
    230022: "content_refused",  # sensitive content
    230028: "content_refused",  # data-loss-prevention review
    230025: "too_long",
    99992351: "invalid_user",  # no such open_id
    99992361: "invalid_user",  # an open_id of another app
}
# 230020: the 5-per-second limit per user tripped; a second later is fine.
WAITS = {230020: 1.0}


def delivery_key(delivery_id: int) -> str:
    """The idempotency key Feishu's `uuid` is derived from: stable across processes."""
    return f"campaign-delivery:{delivery_id}"


class FeishuSender:
    routes: tuple[str, ...] = ("feishu",)

    def __init__(self, api: FeishuApi, *, app_id: str) -> None:
        self._api = api
        self._app_id = app_id

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        return [await self._one(delivery, message) for delivery, message in batch]

    async def _one(self, delivery: ClaimedDelivery, message: RenderedMessage) -> Outcome:
        if delivery.app_id != self._app_id:
            return Skipped("unreachable")
        try:
            message_id = await self._api.send_message(
                delivery.recipient,
                "text",
                {"text": message.text},
                key=delivery_key(delivery.id),
                receive_id_type="open_id",
            )
        except ApiError as error:
            return outcome_of_error(error, PERMANENT, waits=WAITS)
        return Sent(message_id=message_id or None)
