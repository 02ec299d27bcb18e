"""What each import kind's file looks like and how one row becomes one staged record.

A row parser gets the cells in canonical column order (stripped; '' for an absent optional
column) and returns `(key, shown_key, record)`: the key finds duplicates within the file, the
record is the tuple staged for the set-based merge (see `staging.py` for the column order).
An empty optional status becomes None, meaning "keep what is stored" on an update.
A customer's optional closing date (`closed_at`) says the account is closed, from that date on.

An order names its customer by number or, in shops' exports that have none, by the buyer's
phone: the customer number wins when a row has both; a phone alone is matched to the one
customer with that phone, or makes a new customer (with the buyer's name) — both in SQL over
the staged rows (`prepare.py`). A phone two or more stored customers share cannot say which
one is meant: the parser refuses the row, from the shared phones read once before the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from models.importing.messages import RowError
from models.importing.values import (
    DateParser,
    normalize_phone,
    parse_amount_fen,
    parse_choice,
    parse_key,
    parse_text,
)
from models.masking import mask_phone

ParsedRow = tuple[Hashable, str, tuple[Any, ...]]
RowParser = Callable[[Sequence[str]], ParsedRow]

CUSTOMER_STATUS = {
    "open": "open",
    "正常": "open",
    "有效": "open",
    "合作中": "open",
    "closed": "closed",
    "注销": "closed",
    "已注销": "closed",
    "关闭": "closed",
    "已关闭": "closed",
    "取消合作": "closed",
}
# As shops' order exports word them. An order that is paid and on its way or delivered is
# paid; 交易关闭 (a closed trade) is refunded: a trade that closes after payment has been
# refunded in full, and one that closes unpaid has no payment time, so its row is refused for
# that. An unpaid order (`UNPAID_STATUS`) is refused as such; any other word is refused naming it.
ORDER_STATUS = {
    "paid": "paid",
    "已支付": "paid",
    "已付款": "paid",
    "支付成功": "paid",
    "交易成功": "paid",
    "交易完成": "paid",
    "已完成": "paid",
    "待发货": "paid",
    "已发货": "paid",
    "已签收": "paid",
    "refunded": "refunded",
    "已退款": "refunded",
    "退款": "refunded",
    "退款成功": "refunded",
    "交易关闭": "refunded",
}
UNPAID_STATUS = frozenset({"待付款", "等待买家付款", "未付款", "待支付", "未支付"})
EVENT_KIND = {
    "view": "view",
    "浏览": "view",
    "查看": "view",
    "feature_use": "feature_use",
    "功能使用": "feature_use",
    "support_contact": "support_contact",
    "客服咨询": "support_contact",
    "联系客服": "support_contact",
    "campaign_join": "campaign_join",
    "参加活动": "campaign_join",
    "参与活动": "campaign_join",
    "lead_form": "lead_form",
    "留资": "lead_form",
    "提交表单": "lead_form",
}


@dataclass(frozen=True)
class RowContext:
    """What a row parser needs besides the row: the configured zone, and the phones stored on
    two or more customers (normalized phone → how many), for orders keyed by phone."""

    tz: tzinfo
    shared_phones: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportKind:
    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    key_field: str
    make_parser: Callable[[RowContext], RowParser]
    # A value per column that always passes, put in place of a faulty one to find a rejected
    # row's next problem (validate.py): the person then fixes the whole row at once.
    stand_ins: dict[str, str]
    # Groups of columns of which the file must have at least one (the header names of every
    # column are in headers.py).
    required_one_of: tuple[tuple[str, ...], ...] = ()


def _status(raw: str, choices: dict[str, str], shown: str) -> str | None:
    return parse_choice(raw, "status", choices, shown) if raw else None


def _customers_parser(context: RowContext) -> RowParser:
    parse_date = DateParser(context.tz).parse

    def parse(cells: Sequence[str]) -> ParsedRow:
        external_id, name, phone, region, industry, created_at, status, closed_at = cells
        key = parse_key(external_id, "external_id")
        if not name:
            raise RowError("missing_value", field="name")
        if not created_at:
            raise RowError("missing_value", field="created_at")
        created = parse_date(created_at, "created_at")
        code = _status(status, CUSTOMER_STATUS, "open, closed")
        closed = None
        if closed_at:
            closed = parse_date(closed_at, "closed_at")
            if code == "open":
                raise RowError("closed_but_open", field="closed_at", value=closed_at, status=status)
            if closed < created:
                raise RowError("closed_before_created", field="closed_at", value=closed_at)
            code = "closed"
        record = (
            key,
            parse_text(name, "name", 100),
            normalize_phone(phone) if phone else None,
            parse_text(region, "region", 50),
            parse_text(industry, "industry", 50),
            created,
            code,
            closed,
        )
        return key, key, record

    return parse


def _orders_parser(context: RowContext) -> RowParser:
    parse_date = DateParser(context.tz).parse
    shared_phones = context.shared_phones
    # Looked up as written first; only a spelling that is not already lower case (`Paid`) or
    # not a status at all goes through `parse_choice`. Same result, no `lower()` per row.
    as_written = {key: code for key, code in ORDER_STATUS.items() if key.lower() == key}

    def parse(cells: Sequence[str]) -> ParsedRow:
        order_no, customer, amount, paid_at, status, phone, name = cells
        # The checks of `parse_key` run only where they can fail: an empty or long key, or one
        # that starts with a digit (Excel's scientific notation). Same outcome, fewer calls.
        if not order_no or len(order_no) > 64 or order_no[0].isdigit():
            parse_key(order_no, "order_no")
        buyer_phone = buyer_name = None
        if customer:
            if len(customer) > 64 or customer[0].isdigit():
                parse_key(customer, "customer_external_id")
        elif phone:
            buyer_phone = normalize_phone(phone)
            owners = shared_phones.get(buyer_phone)
            if owners:
                raise RowError("shared_phone", phone=mask_phone(buyer_phone), count=owners)
            buyer_name = parse_text(name, "name", 100)
        else:
            raise RowError("missing_customer")
        if not amount:
            raise RowError("missing_value", field="amount")
        if not paid_at:
            raise RowError("missing_value", field="paid_at")
        fen = parse_amount_fen(amount)
        moment = parse_date(paid_at, "paid_at")
        if status:
            code = as_written.get(status)
            if code is None:
                if status in UNPAID_STATUS:
                    raise RowError("unpaid_order", value=status)
                code = parse_choice(status, "status", ORDER_STATUS, "paid, refunded")
        else:
            code = None
        record = (order_no, customer or None, fen, moment, code, buyer_phone, buyer_name)
        return order_no, order_no, record

    return parse


def _events_parser(context: RowContext) -> RowParser:
    parse_date = DateParser(context.tz).parse

    def parse(cells: Sequence[str]) -> ParsedRow:
        customer, kind, occurred_at, detail = cells
        customer_key = parse_key(customer, "customer_external_id")
        if not kind:
            raise RowError("missing_value", field="kind")
        code = parse_choice(
            kind, "kind", EVENT_KIND, "view, feature_use, support_contact, campaign_join, lead_form"
        )
        if not occurred_at:
            raise RowError("missing_value", field="occurred_at")
        moment = parse_date(occurred_at, "occurred_at")
        if code == "feature_use" and not detail:
            raise RowError("detail_required")
        text = parse_text(detail, "detail", 200) or ""
        record = (customer_key, code, moment, text)
        shown = f"{customer_key} / {code} / {occurred_at}" + (f" / {text}" if text else "")
        return record, shown, record

    return parse


CUSTOMERS = ImportKind(
    name="customers",
    columns=(
        "external_id",
        "name",
        "phone",
        "region",
        "industry",
        "created_at",
        "status",
        "closed_at",
    ),
    # What every row needs (the parser refuses a row without it); a file without the other
    # columns keeps what is stored in them (prepare.py).
    required=("external_id", "name", "created_at"),
    key_field="external_id",
    make_parser=_customers_parser,
    stand_ins={
        "external_id": "X",
        "name": "X",
        "phone": "",
        "region": "",
        "industry": "",
        "created_at": "2000-01-01",
        "status": "",
        "closed_at": "",
    },
)

ORDERS = ImportKind(
    name="orders",
    columns=("order_no", "customer_external_id", "amount", "paid_at", "status", "phone", "name"),
    required=("order_no", "amount", "paid_at"),
    required_one_of=(("customer_external_id", "phone"),),
    key_field="order_no",
    make_parser=_orders_parser,
    stand_ins={
        "order_no": "X",
        "customer_external_id": "X",
        "amount": "0",
        "paid_at": "2000-01-01",
        "status": "",
        # A valid phone, not "": the row may name its customer by phone alone.
        "phone": "13800000000",
        "name": "",
    },
)

EVENTS = ImportKind(
    name="events",
    columns=("customer_external_id", "kind", "occurred_at", "detail"),
    required=("customer_external_id", "kind", "occurred_at"),
    key_field="event_key",
    make_parser=_events_parser,
    stand_ins={
        "customer_external_id": "X",
        "kind": "view",
        "occurred_at": "2000-01-01",
        "detail": "X",
    },
)

IMPORT_KINDS: dict[str, ImportKind] = {kind.name: kind for kind in (CUSTOMERS, ORDERS, EVENTS)}
