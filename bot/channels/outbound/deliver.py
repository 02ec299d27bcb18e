"""Send one message at most once: claim its idempotency key, call the platform, record the
outcome, count it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.channels.outbound.errors import DUPLICATE, FAILED, SENT, ApiError, SendResult
from bot.channels.outbound.log import OutboundLog
from bot.channels.telemetry import Telemetry

log = logging.getLogger(__name__)

SendCall = Callable[[], Awaitable[str | None]]  # returns the platform's message id, if any


async def deliver(
    outbound: OutboundLog,
    telemetry: Telemetry,
    *,
    key: str,
    platform: str,
    app_id: str,
    recipient: str,
    kind: str,
    send: SendCall,
) -> SendResult:
    stopped_by = await outbound.begin(
        key, platform=platform, app_id=app_id, recipient=recipient, kind=kind
    )
    if stopped_by is not None:
        telemetry.delivery(platform, DUPLICATE)
        return SendResult(DUPLICATE, detail=f"already {stopped_by}")
    try:
        result = SendResult(SENT, message_id=await send())
    except ApiError as error:
        result = SendResult.from_error(error)
        log.info("%s delivery %s: %s (%s)", platform, key, result.status, result.code)
    except Exception:
        await outbound.finish(key, SendResult(FAILED, detail="internal error"))
        telemetry.delivery(platform, FAILED)
        raise
    await outbound.finish(key, result)
    telemetry.delivery(platform, result.status)
    return result
