"""Money as people read it. Amounts are integer fen everywhere; only display turns them into
yuan, and never through a float."""

from __future__ import annotations


def format_money(fen: int) -> str:
    """Integer fen as `¥1,234.50`."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def plain_yuan(fen: int) -> str:
    """Integer fen as `1234.50`: what a spreadsheet reads as a number (CSV cells)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"
