"""What a platform API call can end in, as exceptions inside and as a `SendResult` outside."""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """The platform refused the call (`code` is errcode / code), or it could not be reached."""

    def __init__(self, platform: str, code: int | None, message: str) -> None:
        super().__init__(f"{platform} API error {code}: {message}")
        self.platform = platform
        self.code = code
        self.message = message


class TransientError(ApiError):
    """Network failure or 5xx after the transport's own retries: try again later."""


class RateLimited(ApiError):
    """Quota spent (WeChat 45009) or rate limited (Feishu 99991400 / HTTP 429): back off."""

    def __init__(self, platform: str, code: int | None, message: str, retry_after: float) -> None:
        super().__init__(platform, code, message)
        self.retry_after = retry_after


class OutsideWindow(ApiError):
    """Official Account customer-service message outside the 48 h window (45015 / 45047)."""


SENT = "sent"
DUPLICATE = "duplicate"
OUTSIDE_WINDOW = "outside_window"
RATE_LIMITED = "rate_limited"
FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | duplicate | outside_window | rate_limited | failed
    message_id: str | None = None
    code: int | None = None
    detail: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in (SENT, DUPLICATE)

    @classmethod
    def from_error(cls, error: ApiError) -> SendResult:
        if isinstance(error, OutsideWindow):
            return cls(OUTSIDE_WINDOW, code=error.code, detail=error.message)
        if isinstance(error, RateLimited):
            return cls(
                RATE_LIMITED, code=error.code, detail=error.message, retry_after=error.retry_after
            )
        return cls(FAILED, code=error.code, detail=error.message)
