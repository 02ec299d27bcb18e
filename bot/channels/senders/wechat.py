"""Campaign messages to Official Account followers.

A customer-service message (`message/custom/send`) reaches a follower only within 48 h of
their last interaction, which Fission knows as the identity's last-seen time (every message,
menu click or scan moves it, see models/reach.py). Outside the window — or when WeChat answers
45015 / 45047 despite our clock — the configured template message goes out instead
(`[marketing] wechat_template_id`, its fields filled from the message variables), recorded as
route `wechat_template`; with no template configured the delivery is skipped as
`outside_window`. Dormant customers are exactly the ones outside the window, so a campaign
for them needs the template (or another platform).

Neither API de-duplicates: a timeout after WeChat accepted a message and the retry that
follows can show it twice. That window is the HTTP call's own; it cannot be closed here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.channels.outbound.errors import ApiError, OutsideWindow
from bot.channels.senders.failures import outcome_of_error
from bot.channels.senders.text import fill
from bot.channels.wechat.api import WeChatApi
from config.campaigns import MarketingSettings
from models.campaigns.outcomes import ClaimedDelivery, Outcome, RenderedMessage, Sent, Skipped
from models.db import Database
from models.reach import last_seen_of

WINDOW = timedelta(hours=48)
# Codes no retry changes for this follower, on either API.
PERMANENT = {
    40003: "invalid_user",  # not an openid of this account
    43004: "not_follower",  # unfollowed
    43101: "refused",  # the follower refuses the account's template messages
    40037: "bad_template",  # wechat_template_id is not a template of this account
    47003: "bad_template_data",  # a field does not fit the template's rules
}


class WeChatSender:
    routes: tuple[str, ...] = ("wechat_cs", "wechat_template")

    def __init__(
        self,
        api: WeChatApi,
        *,
        app_id: str,
        db: Database,
        clock: Callable[[], datetime],
        marketing: MarketingSettings,
    ) -> None:
        self._api = api
        self._app_id = app_id
        self._db = db
        self._clock = clock
        self._marketing = marketing

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        async with self._db.uow() as uow:
            seen = await last_seen_of(
                uow.session,
                platform="wechat",
                app_id=self._app_id,
                kind="openid",
                values=[delivery.recipient for delivery, _ in batch],
            )
        outcomes: list[Outcome] = []
        for delivery, message in batch:
            if delivery.app_id != self._app_id:
                outcomes.append(Skipped("unreachable"))
                continue
            outcomes.append(await self._one(delivery, message, seen.get(delivery.recipient)))
        return outcomes

    async def _one(
        self, delivery: ClaimedDelivery, message: RenderedMessage, seen_at: datetime | None
    ) -> Outcome:
        if seen_at is not None and self._clock() - seen_at < WINDOW:
            try:
                await self._api.send_custom(delivery.recipient, "text", {"content": message.text})
            except OutsideWindow:
                pass  # WeChat's clock (or its 20-replies rule) disagrees: the template then
            except ApiError as error:
                return outcome_of_error(error, PERMANENT)
            else:
                return Sent(route=_other(delivery, "wechat_cs"))
        return await self._template(delivery, message)

    async def _template(self, delivery: ClaimedDelivery, message: RenderedMessage) -> Outcome:
        template_id = self._marketing.wechat_template_id
        fields = self._marketing.wechat_template_fields
        if not template_id or not fields:
            return Skipped("outside_window")
        data = {key: fill(text, message.variables) for key, text in fields.items()}
        link = message.variables.get("link", "")
        try:
            msgid = await self._api.send_template(
                delivery.recipient,
                template_id,
                data,
                url=link if link.startswith(("https://", "http://")) else None,
            )
        except ApiError as error:
            return outcome_of_error(error, PERMANENT)
        return Sent(message_id=msgid or None, route=_other(delivery, "wechat_template"))


def _other(delivery: ClaimedDelivery, route: str) -> str | None:
    """The route taken, when it is not the one the run chose."""
    return route if route != delivery.route else None
