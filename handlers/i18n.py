"""Chat text in two languages, kept side by side so the pair never drifts apart.

Every module that talks to users holds its own `TEXT = {key: L("中文", "English")}` table and
looks strings up with `tr(TEXT, key, locale, **values)`. Simplified Chinese is the default; the
locale `en` (or any `en-*`) picks English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ZH = "zh-CN"
EN = "en"

Localized = Mapping[str, str]


def L(zh: str, en: str) -> Localized:
    """One piece of text in both languages (capital L: it reads like a literal in tables)."""
    return {ZH: zh, EN: en}


def lang(locale: str) -> str:
    return EN if locale.lower().startswith("en") else ZH


def pick(text: Localized, locale: str) -> str:
    return text[lang(locale)]


def tr(table: Mapping[str, Localized], key: str, locale: str, **values: Any) -> str:
    template = table[key][lang(locale)]
    return template.format(**values) if values else template


def fill(text: Localized, **values: Any) -> Localized:
    """Both languages of `text` with the same values filled in."""
    return {key: template.format(**values) for key, template in text.items()}


def paren(text: str, locale: str) -> str:
    """`（…）` in Chinese, ` (…)` in English."""
    return f"（{text}）" if lang(locale) == ZH else f" ({text})"
