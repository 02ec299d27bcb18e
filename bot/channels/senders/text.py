"""Message texts a sender builds itself from the campaign's variables (a template message's
fields, the one text of a WeCom mass-message task)."""

from __future__ import annotations

import string
from collections.abc import Mapping


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, variables: Mapping[str, str]) -> str:
    """`template` with `{name}`-style variables filled in; an unknown or missing one is blank
    (templates were checked against the known variables when the settings were loaded)."""
    return string.Formatter().vformat(template, (), _Blank(variables))
