"""A campaign message with its variables filled in, for the dry-run's sample messages.

The delivery workers render what they send with models/campaigns/render.py; until the dry-run
is pointed at that renderer, this fills the same variables (config.campaigns.MESSAGE_VARIABLES)
the same way: the customer's name, the coupon's name, its last valid day, the link, the shop.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from config.campaigns import MESSAGE_VARIABLES

_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def expiry_text(expires_at: datetime, now: datetime, tz: tzinfo, message: str) -> str:
    """The coupon's last valid day as the message's own language says it: `6月17日` in a
    Chinese message, `Jun 17` in any other (with the year when it is not this year's)."""
    day = expires_at.astimezone(tz).date()
    this_year = now.astimezone(tz).year == day.year
    if _CHINESE.search(message) is None:
        return f"{day:%b} {day.day}" + ("" if this_year else f", {day.year}")
    return ("" if this_year else f"{day.year}年") + f"{day.month}月{day.day}日"


def fill_message(message: str, variables: dict[str, str]) -> str:
    """`message` with every `{variable}` replaced; a variable without a value becomes empty
    (a customer without a name reads "您好，…")."""
    return message.format(**{name: variables.get(name, "") for name in MESSAGE_VARIABLES})
