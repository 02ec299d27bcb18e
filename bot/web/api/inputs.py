"""Request bodies of the HTTP API, validated by pydantic and documented from the same models.

Values are parsed by the CSV import's own parsers and spellings (`models.importing.values`,
`models.importing.kinds`), so an amount, a date, a phone number or a status means the same
through the API as in a spreadsheet (`"已退款"` is `refunded` in both). Those parsers need the
configured time zone and locale, passed as the validation context (`ValidationContext`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Any, TypedDict

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StrictInt,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from config.referral import KEY_PATTERN
from models.importing.kinds import CUSTOMER_STATUS, EVENT_KIND, ORDER_STATUS
from models.importing.messages import RowError
from models.importing.values import (
    DateParser,
    check_storable,
    normalize_phone,
    parse_amount_fen,
    parse_choice,
    parse_key,
    parse_text,
)
from models.referral.codes import normalize_code

MAX_EVENTS_PER_REQUEST = 500
CODE_PATTERN = r"^[0-9A-Za-z]{4,16}$"


class ValidationContext(TypedDict):
    tz: tzinfo
    locale: str


def _context(info: ValidationInfo) -> ValidationContext:
    if not isinstance(info.context, dict) or "tz" not in info.context:
        raise RuntimeError("API models are validated with context={'tz': …, 'locale': …}")
    return info.context  # type: ignore[return-value]


def _field_name(info: ValidationInfo) -> str:
    return info.field_name or "value"


def _problem(error: RowError, locale: str) -> PydanticCustomError:
    # The reason is passed as a parameter, not as the template: values may contain braces.
    return PydanticCustomError(error.key, "{reason}", {"reason": error.render(locale)})


def _as_text(value: Any, info: ValidationInfo) -> str:
    """Every text of a body passes here (or `_moment`): one check that it can be stored."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        raise PydanticCustomError("string_type", "{reason}", {"reason": _wrong_type(info)})
    return _storable(str(value).strip(), info)


def _storable(text: str, info: ValidationInfo) -> str:
    try:
        check_storable(text, _field_name(info))
    except RowError as exc:
        raise _problem(exc, _context(info)["locale"]) from exc
    return text


def _wrong_type(info: ValidationInfo) -> str:
    if _context(info)["locale"] == "en":
        return "must be a string"
    return "应为字符串"


def _key(value: Any, info: ValidationInfo) -> str:
    try:
        return parse_key(_as_text(value, info), _field_name(info))
    except RowError as exc:
        raise _problem(exc, _context(info)["locale"]) from exc


def _amount(value: Any, info: ValidationInfo) -> int:
    """Yuan as a JSON number (parsed exactly, as Decimal) or a string → integer fen."""
    try:
        return parse_amount_fen(_as_text(value, info))
    except RowError as exc:
        raise _problem(exc, _context(info)["locale"]) from exc


def _moment(value: Any, info: ValidationInfo) -> datetime:
    if isinstance(value, bool) or not isinstance(value, str):
        raise PydanticCustomError("string_type", "{reason}", {"reason": _wrong_type(info)})
    context = _context(info)
    text = _storable(value.strip(), info)
    try:
        return DateParser(context["tz"])(text, _field_name(info))
    except RowError as exc:
        raise _problem(exc, context["locale"]) from exc


def _phone(value: Any, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    text = _as_text(value, info)
    if not text:
        return None
    try:
        return normalize_phone(text)
    except RowError as exc:
        raise _problem(exc, _context(info)["locale"]) from exc


def _text(max_len: int) -> BeforeValidator:
    def parse(value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return parse_text(_as_text(value, info), _field_name(info), max_len)
        except RowError as exc:
            raise _problem(exc, _context(info)["locale"]) from exc

    return BeforeValidator(parse)


def _choice(choices: dict[str, str]) -> BeforeValidator:
    """A stored code from any spelling the import accepts (`已退款` → `refunded`)."""
    shown = ", ".join(sorted(set(choices.values())))

    def parse(value: Any, info: ValidationInfo) -> str:
        try:
            return parse_choice(_as_text(value, info), _field_name(info), choices, shown)
        except RowError as exc:
            raise _problem(exc, _context(info)["locale"]) from exc

    return BeforeValidator(parse)


def _enum(choices: dict[str, str]) -> WithJsonSchema:
    shown = ", ".join(sorted(set(choices.values())))
    return WithJsonSchema({"type": "string", "enum": list(choices), "description": shown})


Key = Annotated[
    str,
    BeforeValidator(_key),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 64}),
]
YuanToFen = Annotated[
    int,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "number", "minimum": 0}],
            "description": "金额（元，最多两位小数；千分位只能每三位一个逗号或空格），"
            "如 1,299.00 / amount in yuan, ≤ 2 decimals, thousands grouped by commas or spaces",
            "examples": ["199.00", "1,299.00", 18.8],
        }
    ),
]
Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema(
        {
            "type": "string",
            "description": "2024-03-05、2024/3/5、2024.3.5、2024年3月5日（可带时间 14:30[:00]）、"
            "带时区的 ISO 8601 或 Excel 日期序号；不带时区时按配置的时区 / "
            "naive times are in the configured zone",
            "examples": ["2024-05-01 14:30", "2024年5月1日 14:30", "2024-05-01T14:30:00+08:00"],
        }
    ),
]
Phone = Annotated[
    str | None,
    BeforeValidator(_phone),
    WithJsonSchema({"type": ["string", "null"], "examples": ["13812345678", "010-12345678"]}),
]
OrderStatus = Annotated[str, _choice(ORDER_STATUS), _enum(ORDER_STATUS)]
CustomerStatus = Annotated[str, _choice(CUSTOMER_STATUS), _enum(CUSTOMER_STATUS)]
EventKind = Annotated[str, _choice(EVENT_KIND), _enum(EVENT_KIND)]


def _referral_code(value: Any, info: ValidationInfo) -> str:
    code = normalize_code(_as_text(value, info))
    if code is None:
        english = _context(info)["locale"] == "en"
        reason = f"not a referral code: {value}" if english else f"邀请码格式不正确：{value}"
        raise PydanticCustomError("bad_code", "{reason}", {"reason": reason})
    return code


ReferralCode = Annotated[
    str,
    BeforeValidator(_referral_code),
    WithJsonSchema(
        {"type": "string", "pattern": CODE_PATTERN, "description": "邀请码 / referral code"}
    ),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(_Input):
    """An order, upserted by `order_no`; fields as in the CSV import."""

    order_no: Key
    customer_external_id: Key
    amount: YuanToFen | None = None
    amount_fen: StrictInt | None = Field(
        None, ge=0, lt=10**13, description="金额（分），与 amount 二选一 / or the amount in fen"
    )
    paid_at: Moment
    status: OrderStatus | None = Field(
        None,
        description="paid | refunded（或 已付款/已退款）；不填：新订单为 paid，已有订单保持"
        "原状态 / omitted: paid for a new order, unchanged for a stored one",
    )
    referral_code: ReferralCode | None = None

    @model_validator(mode="after")
    def _one_amount(self, info: ValidationInfo) -> OrderIn:
        if (self.amount is None) == (self.amount_fen is None):
            english = _context(info)["locale"] == "en"
            reason = (
                "give exactly one of amount (yuan) and amount_fen"
                if english
                else "金额必填：amount（元）与 amount_fen（分）二选一"
            )
            raise PydanticCustomError("amount_required", "{reason}", {"reason": reason})
        return self

    @property
    def fen(self) -> int:
        return self.amount_fen if self.amount_fen is not None else int(self.amount or 0)


class CustomerIn(_Input):
    """A customer, upserted by `external_id`. Fields left out keep their stored value; `null`
    clears an optional field."""

    external_id: Key
    name: Annotated[str | None, _text(100)] = None
    phone: Phone = None
    region: Annotated[str | None, _text(50)] = None
    industry: Annotated[str | None, _text(50)] = None
    created_at: Moment | None = None
    status: CustomerStatus | None = None
    closed_at: Moment | None = Field(
        None,
        description="注销时间，表示账户已注销、从这天起算流失；不填则按请求时间 / "
        "when a closed account closed (implies status closed; default: the request's time)",
    )
    referral_code: ReferralCode | None = Field(
        None, description="注册时带的邀请码，记录为一次加入 / records the join"
    )

    @model_validator(mode="after")
    def _closing_date_fits(self, info: ValidationInfo) -> CustomerIn:
        """The import's rules (models/importing/kinds.py): a closing date means closed."""
        if self.closed_at is None:
            return self
        context = _context(info)
        shown = self.closed_at.astimezone(context["tz"]).isoformat()
        if self.status == "open":
            error = RowError("closed_but_open", field="closed_at", value=shown, status="open")
            raise _problem(error, context["locale"])
        if self.created_at is not None and self.closed_at < self.created_at:
            error = RowError("closed_before_created", field="closed_at", value=shown)
            raise _problem(error, context["locale"])
        return self


class EventIn(_Input):
    customer_external_id: Key
    kind: EventKind
    occurred_at: Moment
    detail: Annotated[str | None, _text(200)] = Field(
        None, description="feature_use 必填功能名 / the feature's name for feature_use"
    )

    @model_validator(mode="after")
    def _feature_named(self, info: ValidationInfo) -> EventIn:
        if self.kind == "feature_use" and not self.detail:
            error = RowError("detail_required")
            raise _problem(error, _context(info)["locale"])
        return self


def _one_or_many(value: Any) -> str:
    return "many" if isinstance(value, list) else "one"


class EventsIn(
    RootModel[
        Annotated[
            Annotated[EventIn, Tag("one")]
            | Annotated[
                list[EventIn],
                Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST),
                Tag("many"),
            ],
            Discriminator(_one_or_many),
        ]
    ]
):
    """One event, or a list of at most 500 (all are stored, or none)."""

    @property
    def listed(self) -> bool:
        return isinstance(self.root, list)

    @property
    def items(self) -> list[EventIn]:
        return self.root if isinstance(self.root, list) else [self.root]


class ReferralCodeIn(_Input):
    """Which program's code. The body is optional: without it, or without `program`, the
    program chat `/invite` would offer this customer."""

    program: str | None = Field(
        None,
        pattern=KEY_PATTERN,
        description="活动标识（fission.toml 中的 key），省略时按优先级取客户适用的进行中活动 / "
        "program key; left out: the customer's running program, as chat /invite picks it",
        examples=["default"],
    )


class RedeemIn(_Input):
    order_no: Key
