"""Reactivation campaigns (`[[campaigns]]`) and the marketing rules every campaign shares
(`[marketing]`), as configured in `fission.toml`.

`fission campaign sync` copies `[[campaigns]]` into the database (the two default campaigns of
seed 004 are there from the start, switched off); `fission campaign enable|disable KEY` switches
one. The rules in `[marketing]` hold across all campaigns: the frequency cap, quiet hours, the
global control group.

```toml
[marketing]
control_pct = 5                 # global control group: never marketed to, measures every campaign
max_messages = 2                # at most 2 marketing messages per customer …
per_days = 7                    # … in any 7 days, across all campaigns
quiet_hours = "21:00-09:00"     # local time; sends wait for the window to open
wecom_confirm_hours = 72        # a WeCom mass message not sent by its staff member is cancelled
wecom_remind_every_hours = 8    # and its staff member reminded this often meanwhile (≥ 8)
wechat_template_id = "…"        # Official Account template message outside the 48 h window
wechat_template_fields = { first = "{name}您好", keyword1 = "{coupon}", keyword2 = "{expiry}" }

[[campaigns]]
key = "winback_declining"
name = "衰退客户挽回"
enabled = true
audience = { stages = ["declining"], grades = ["A", "B"] }
coupon_template = "winback_30"
message = "{name}您好，好久不见！送您一张{coupon}，{expiry}前有效。{link}"
schedule = "0 10 * * 2"         # crontab, local time; or run_once_at = 2024-07-01T10:00:00
```
"""

from __future__ import annotations

import re
import string
from datetime import datetime, time, tzinfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.referral import KEY_PATTERN, Grade, Stage

# The variables a campaign message may use; anything else in braces is a configuration error.
MESSAGE_VARIABLES = ("name", "coupon", "expiry", "link", "shop")
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Audience(_Strict):
    """Who a campaign is for. Empty lists mean "any"; opted-out customers are never included."""

    stages: list[Stage] = Field(default_factory=list)
    grades: list[Grade] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    # Last paid order at least / at most this many days before the run (dormant window).
    last_order_min_days: int | None = Field(None, ge=0)
    last_order_max_days: int | None = Field(None, ge=0)


def check_message(text: str) -> str:
    """A message template may use only MESSAGE_VARIABLES, in `{name}` form."""
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if field not in MESSAGE_VARIABLES or spec or conversion:
            allowed = "、".join("{" + v + "}" for v in MESSAGE_VARIABLES)
            raise ValueError(f"unknown variable {{{field}}} in the message (use {allowed})")
    return text


class CampaignConfig(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    enabled: bool = False
    audience: Audience = Field(default_factory=Audience)
    coupon_template: str | None = None  # a coupon template key; None: a message only
    message: str = Field(min_length=1, max_length=1000)
    schedule: str | None = None  # crontab line in the configured zone
    run_once_at: datetime | None = None  # naive values are in settings.timezone
    cooldown_days: int = Field(30, ge=0)
    holdout_pct: int = Field(10, ge=0, le=50)
    conversion_days: int = Field(14, ge=1, le=90)
    alert_below_rate: float = Field(0.10, ge=0, le=1)

    @field_validator("message")
    @classmethod
    def _variables(cls, value: str) -> str:
        return check_message(value)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a crontab line (e.g. '0 10 * * 2'): {exc}") from exc
        return value


class MarketingSettings(_Strict):
    """`[marketing]`: rules that hold across every campaign."""

    control_pct: int = Field(5, ge=0, le=20)
    max_messages: int = Field(2, ge=1)
    per_days: int = Field(7, ge=1)
    # WeCom lets a corp reach each customer by mass message at most 4 times a calendar month.
    wecom_monthly_limit: int = Field(4, ge=1, le=4)
    # A WeCom mass-message task its staff member has not sent within this many hours is
    # cancelled; its customers are recorded as not confirmed.
    wecom_confirm_hours: int = Field(72, ge=1, le=24 * 30)
    # Remind the staff member of an unsent task this often (outside quiet hours). At least 8:
    # WeCom allows 3 reminders of a task in 24 hours.
    wecom_remind_every_hours: int = Field(8, ge=8, le=24 * 7)
    quiet_hours: str | None = "21:00-09:00"
    # Transient failures are retried with back-off until this long after the run.
    send_deadline_hours: int = Field(48, ge=1)
    # Official Account template message for customers outside the 48 h window; the fields map
    # template keys to texts with the message variables.
    wechat_template_id: str | None = None
    wechat_template_fields: dict[str, str] = Field(default_factory=dict)
    # Messages per second per platform, shared by every process (the platforms' own limits are
    # far higher for Feishu; WeCom mass-message tasks are one call per staff member).
    rate_per_second: dict[str, float] = Field(
        default_factory=lambda: {"wecom": 10.0, "wechat": 20.0, "feishu": 20.0}
    )
    # {shop} in a message: the shop's name (unset: 本店 / our shop); {link}: where the coupon is
    # spent (unset: the customer's own referral page, else public_base_url).
    shop_name: str | None = Field(None, max_length=50)
    shop_url: str | None = Field(None, pattern=r"^https?://\S+$")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _QUIET.match(value):
            raise ValueError("quiet_hours is HH:MM-HH:MM in local time, e.g. 21:00-09:00")
        return value

    @field_validator("wechat_template_fields")
    @classmethod
    def _template_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for text in value.values():
            check_message(text)
        return value

    @model_validator(mode="after")
    def _positive_rates(self) -> MarketingSettings:
        for platform, rate in self.rate_per_second.items():
            if rate <= 0:
                raise ValueError(f"rate_per_second.{platform} must be above 0")
        return self

    def is_quiet(self, moment: datetime, tz: tzinfo) -> bool:
        """Whether `moment` falls in the quiet hours, read in the local zone `tz`."""
        window = self.quiet_window()
        if window is None:
            return False
        start, end = window
        local = moment.astimezone(tz).time()
        if start <= end:
            return start <= local < end
        return local >= start or local < end

    def quiet_window(self) -> tuple[time, time] | None:
        """(start, end) of the quiet hours in local time; the window may wrap past midnight."""
        if self.quiet_hours is None:
            return None
        match = _QUIET.match(self.quiet_hours)
        assert match is not None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return time(h1, m1), time(h2, m2)
