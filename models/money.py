"""Money as text. Amounts are integer fen (分) everywhere in Fission; this is the one place that
turns them into what a person reads — in chat replies, CLI output and reports alike."""

from __future__ import annotations


def format_fen(fen: int) -> str:
    """`129900` → `¥1,299.00`, `-50` → `-¥0.50`.

    The sign goes before the currency sign and the digits come from the absolute value: floor
    division of a negative amount (`-50 // 100 == -1`) would print a whole yuan too much.
    No float on the way, so no amount is ever off by a fen.
    """
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def plain_yuan(fen: int) -> str:
    """Integer fen as `1234.50`: what a spreadsheet reads as a number (CSV cells)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def zhe(percent_off: int) -> str:
    """15% off → `85`, 10% off → `9`: the number before 折, as Chinese shops write discounts."""
    rest = 100 - percent_off
    return str(rest // 10) if rest % 10 == 0 else str(rest)
