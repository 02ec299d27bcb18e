"""JSON built inside SQL, so the stage receipts are written by the same INSERT … SELECT.

PostgreSQL (`jsonb_build_object`) and SQLite (`json_object`) spell it differently; both give the
same document. Keys are our own constants, written into the SQL text rather than bound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, case, func, literal_column, null, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from models.base import Json

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _key(name: str) -> ColumnElement[str]:
    if not _KEY.match(name):
        raise ValueError(f"not a metrics key: {name!r}")
    return type_coerce(literal_column(f"'{name}'"), String)


def json_object(
    dialect: str, pairs: Sequence[tuple[str, ColumnElement[Any]]]
) -> ColumnElement[Any]:
    args: list[ColumnElement[Any]] = []
    for name, value in pairs:
        args += [_key(name), value]
    builder = func.jsonb_build_object if dialect == "postgresql" else func.json_object
    return builder(*args, type_=Json)


def json_name_list(
    dialect: str, names: Sequence[tuple[str, ColumnElement[bool]]]
) -> ColumnElement[Any]:
    """A JSON array of the names whose condition holds, in the given order."""
    if dialect == "postgresql":
        items = [case((cond, _key(name)), else_=null()) for name, cond in names]
        array: postgresql.array[Any] = postgresql.array(items, type_=String)
        return func.to_jsonb(func.array_remove(array, null()), type_=Json)
    # SQLite: '[' || substr(',"a"' || ',"b"', 2) || ']' fed through json() so json_object
    # embeds it as an array rather than a string.
    joined: ColumnElement[str] = _text("")
    for name, cond in names:
        _key(name)
        joined = joined + case((cond, _text(f',"{name}"')), else_=_text(""))
    return func.json(_text("[") + func.substr(joined, 2) + _text("]"), type_=Json)


def _text(constant: str) -> ColumnElement[str]:
    return type_coerce(literal_column("'" + constant.replace("'", "''") + "'"), String)
