"""How the API says no: reading a bounded JSON body, and turning every refusal into a JSON
error whose status a client can act on (400 malformed, 401, 404, 409, 413, 422 with one entry
per bad field)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.web.errors import json_error
from models.importing.messages import RowError
from models.importing.values import check_storable

# API bodies are small: a single order is a few hundred bytes, 500 events well under this.
MAX_API_BODY_BYTES = 64 * 1024


@dataclass
class ApiError(Exception):
    """Raised by a view; the API's middleware renders it (see `ApiError.response`)."""

    status: int
    code: str
    message: str
    fields: list[dict[str, str]] = field(default_factory=list)

    def response(self) -> web.Response:
        extra: dict[str, object] = {"fields": self.fields} if self.fields else {}
        return json_error(self.status, self.code, self.message, **extra)


def not_found(what: str, en: str, key: str) -> ApiError:
    return ApiError(404, "not_found", f"{what}不存在：{key} / {en} not found: {key}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json(request: web.Request, *, optional: bool = False) -> Any:
    """The body as JSON, numbers with a fraction as `Decimal` (19.9 stays exactly 19.9).
    An empty body is refused, or read as `{}` (no fields given) when the body is optional."""
    if request.content_length is not None and request.content_length > MAX_API_BODY_BYTES:
        raise _too_large()
    raw = await request.read()
    if len(raw) > MAX_API_BODY_BYTES:
        raise _too_large()
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "empty_body", "请求体为空，应为 JSON / the body is empty, send JSON")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            400, "malformed_json", f"请求体不是有效的 JSON：{exc} / the body is not valid JSON"
        ) from exc


def _too_large() -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"请求体过大（上限 {MAX_API_BODY_BYTES // 1024} KiB） / body too large",
    )


# Errors raised by a model validator have no field of their own: name the field they are about.
_FIELD_OF_MODEL_ERROR = {
    "amount_required": "amount",
    "detail_required": "detail",
    "closed_but_open": "closed_at",
    "closed_before_created": "closed_at",
}
# Union branches of one-or-many bodies, which are not part of what the client sent.
_BRANCH_TAGS = ("one", "many")


def field_path(loc: tuple[int | str, ...], error_type: str) -> str:
    parts = [part for part in loc if part not in _BRANCH_TAGS]
    if error_type in _FIELD_OF_MODEL_ERROR:
        parts.append(_FIELD_OF_MODEL_ERROR[error_type])
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _message(error: Any, locale: str) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if "reason" in ctx:  # our own parsers' reasons are already in the reader's language
        return str(ctx["reason"])
    pair = _PYDANTIC_MESSAGES.get(kind)
    if pair is None:
        return str(error["msg"])
    text = pair[1] if locale == "en" else pair[0]
    return text.format(**{key: str(value) for key, value in ctx.items()})


_PYDANTIC_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填字段", "field required"),
    "extra_forbidden": ("未知字段", "unknown field"),
    "literal_error": ("取值无效，可选：{expected}", "must be one of {expected}"),
    "string_pattern_mismatch": ("格式不正确（{pattern}）", "bad format ({pattern})"),
    "string_type": ("应为字符串", "must be a string"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than": ("必须小于 {lt}", "must be less than {lt}"),
    "too_short": ("至少 {min_length} 项", "at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "at most {max_length} items"),
    "model_type": ("应为 JSON 对象", "must be a JSON object"),
    "model_attributes_type": ("应为 JSON 对象", "must be a JSON object"),
    "dict_type": ("应为 JSON 对象", "must be a JSON object"),
    "list_type": ("应为 JSON 数组", "must be a JSON array"),
}


def invalid(exc: ValidationError, locale: str) -> ApiError:
    """422 naming each field and why, in the configured locale."""
    return _invalid_fields(
        [
            {
                "field": field_path(tuple(error["loc"]), error["type"]),
                "code": error["type"],
                "message": _message(error, locale),
            }
            for error in exc.errors()
        ]
    )


def path_param(request: web.Request, name: str, locale: str) -> str:
    """The path parameter `name`; a 422 naming it when it holds a character no text column
    can store (`%00` arrives as NUL, which PostgreSQL refuses even in a look-up)."""
    value = request.match_info[name]
    try:
        check_storable(value, name)
    except RowError as exc:
        field = {"field": name, "code": exc.key, "message": exc.render(locale)}
        raise _invalid_fields([field]) from exc
    return value


def _invalid_fields(fields: list[dict[str, str]]) -> ApiError:
    summary = "、".join(item["field"] for item in fields)
    return ApiError(
        422,
        "validation_failed",
        f"字段有误：{summary} / invalid fields: {summary}",
        fields,
    )
