"""The `console` route's sender: campaign messages to the demo's customers, into the web
simulator.

Routing (models/campaigns/routing.py) sends a message on the console route to a customer whose
identity is a console user — in practice the customers `fission serve --demo` made reachable
(models/demo_campaigns.py) and anybody spoken as in the simulator. This sender puts each
message in the simulator's inbox (bot/channels/console.py), where the page shows it in that
customer's conversation. It is registered only by `fission serve --demo` (bot/cli/serve.py),
next to the simulator whose inbox it fills; anywhere else console deliveries have no sender
and stay queued.
"""

from __future__ import annotations

from bot.channels.console import ConsoleInbox
from handlers.events import TextReply
from models.campaigns.outcomes import ClaimedDelivery, Outcome, RenderedMessage, Sent


class ConsoleSender:
    routes: tuple[str, ...] = ("console",)  # models/campaigns/routing.py: console identities

    def __init__(self, inbox: ConsoleInbox) -> None:
        self._inbox = inbox

    async def send(self, batch: list[tuple[ClaimedDelivery, RenderedMessage]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for delivery, message in batch:
            seq = self._inbox.push(
                delivery.recipient, TextReply(message.text), key=delivery.idempotency_key
            )
            outcomes.append(Sent(message_id=f"console-{seq}"))
        return outcomes
