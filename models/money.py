"""Money as people read it: integer fen shown as yuan, and a percentage off as 折.

The one formatter: staff replies (handlers/), campaign messages (models/campaigns/render.py) and
exports all write amounts through `format_money`, never through a float.
"""

from __future__ import annotations


def format_money(fen: int) -> str:
    """Integer fen as `¥1,234.50` (no float on the way)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def zhe(percent_off: int) -> str:
    """15% off → `85`, 10% off → `9`: the number before 折, as Chinese shops write discounts."""
    rest = 100 - percent_off
    return str(rest // 10) if rest % 10 == 0 else str(rest)
