"""Paging a long list in chat: `/stage 衰退` shows page 1, `/stage 衰退 2` the next ten; the
footer says what to type for the next page, and a page past the end says how many there are."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.commands.filters import ArgumentError
from handlers.i18n import L, Localized, tr

PAGE_SIZE = 10
MAX_PAGE = 100_000
_PAGE_WORD = re.compile(r"(?:第\s*)?(\d{1,6})\s*页?|p(?:age)?\s*(\d{1,6})", re.IGNORECASE)

TEXT = {
    "page": L("第 {page}/{pages} 页", "page {page} of {pages}"),
    "next": L("下一页：{command} {next}", "Next page: {command} {next}"),
    "past_end": L(
        "{what}只有 {pages} 页（共 {total} 位），请发送 {command} {pages}。",
        "{what} has only {pages} pages ({total} in all): send {command} {pages}.",
    ),
}
BAD_PAGE: Localized = L(
    "页码应为 1 到 100000 之间的整数，例如 2 或 第2页。",
    "The page must be a whole number from 1 to 100000, e.g. 2.",
)


@dataclass(frozen=True)
class Page:
    number: int  # from 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE


def page_arg(word: str | None) -> Page:
    """`2`, `第2页`, `p2` → page 2; no word → page 1."""
    if word is None:
        return Page(1)
    m = _PAGE_WORD.fullmatch(word.strip())
    number = int(m[1] or m[2]) if m else 0
    if not 1 <= number <= MAX_PAGE:
        raise ArgumentError(BAD_PAGE)
    return Page(number)


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def page_label(page: Page, total: int, locale: str) -> str:
    return tr(TEXT, "page", locale, page=page.number, pages=page_count(total))


def next_page_hint(page: Page, total: int, command: str, locale: str) -> str | None:
    """`下一页：/stage 衰退 2`, or None on the last page."""
    if page.number >= page_count(total):
        return None
    return tr(TEXT, "next", locale, command=command, next=page.number + 1)


def past_end(page: Page, total: int, what: str, command: str, locale: str) -> str | None:
    """The reply for a page after the last one (None when `page` has rows)."""
    if total == 0 or page.number <= page_count(total):
        return None
    pages = page_count(total)
    return tr(TEXT, "past_end", locale, what=what, pages=pages, total=total, command=command)
