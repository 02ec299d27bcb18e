"""Which header names each import kind reads as each of its columns — one table — and how a
file's header row is matched against it.

The table is the only list of header names: the importer reads it, and `fission import
--help` and the README's column list are generated from it (`columns_doc.py`; a test keeps
the README in step). Shops' order exports name one thing several ways, and often carry more
than one of them (商品总价, 应付金额 and 实付金额 side by side): each column's names are listed
in order of preference, and when a file has several the first listed wins and the import says
which column it used. Every column's English name is accepted too, ahead of the others.

Header cells are compared after `normalize_header`: full-width forms folded (NFKC), case,
surrounding space and a unit suffix (`实付金额（元）`) ignored, spaces and dashes as `_`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.importing.messages import UnusableInput

if TYPE_CHECKING:
    from models.importing.kinds import ImportKind

# kind → column → the other header names read as it, the preferred first.
HEADER_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "external_id": ("客户编号", "客户id", "客户号", "会员编号", "编号"),
        "name": ("姓名", "客户姓名", "客户名称", "名称"),
        "phone": ("手机号", "手机号码", "手机", "联系电话", "电话"),
        "region": ("地区", "区域", "城市"),
        "industry": ("行业",),
        "created_at": ("创建时间", "创建日期", "注册时间"),
        "status": ("状态", "客户状态"),
        # The day a closed account closed (a historical run churns it from that day).
        "closed_at": ("注销时间", "注销日期", "关闭时间", "关闭日期"),
    },
    "orders": {
        "order_no": ("订单号", "订单编号"),
        "customer_external_id": ("客户编号", "客户id", "客户号", "external_id"),
        # What the customer paid comes before what the order was worth.
        "amount": ("实付金额", "支付金额", "金额", "订单金额", "应付金额", "商品总价"),
        # When it was paid comes before when it was placed.
        "paid_at": ("付款时间", "支付时间", "成交时间", "下单时间"),
        "status": ("订单状态", "状态"),
        # The buyer, for a row without a customer number: matched by phone, named by name.
        "phone": (
            "买家手机号",
            "手机号码",
            "手机号",
            "手机",
            "联系手机",
            "联系电话",
            "收货人手机",
            "收货人手机号",
            "收货人电话",
        ),
        "name": ("买家姓名", "客户名称", "客户姓名", "买家昵称", "收货人", "收货人姓名"),
    },
    "events": {
        "customer_external_id": ("客户编号", "客户id", "客户号", "external_id"),
        "kind": ("类型", "事件类型"),
        "occurred_at": ("发生时间", "时间"),
        "detail": ("详情", "说明", "功能"),
    },
}

_UNIT = re.compile(r"\((?:元|人民币|rmb|cny|¥)\)$")


def normalize_header(name: str) -> str:
    """` External ID ` → `external_id`; `实付金额（元）` → `实付金额`."""
    text = unicodedata.normalize("NFKC", name).strip().strip("\ufeff").strip().lower()
    return re.sub(r"[\s\-]+", "_", _UNIT.sub("", text).strip())


def header_names(kind: str, column: str) -> tuple[str, ...]:
    """Every header read as `column` of `kind`, the preferred first (its English name)."""
    return (column, *HEADER_NAMES[kind].get(column, ()))


@dataclass(frozen=True)
class ColumnChoice:
    """The file had several columns meaning `column`: `used` was read, `unused` were not."""

    column: str
    used: str
    unused: tuple[str, ...]


@dataclass(frozen=True)
class Header:
    """Where each canonical column sits in the file (-1: optional column not present)."""

    original: list[str]
    positions: tuple[int, ...]
    choices: tuple[ColumnChoice, ...] = ()


def resolve_header(
    original: Sequence[str], spec: ImportKind, mapping: Mapping[str, str] | None = None
) -> Header:
    """Map the file's header cells onto `spec.columns`; unknown columns are ignored.

    `mapping` (header as written → column, from `--map`) comes before the table: a header
    nobody foresaw, or a choice the table would make otherwise."""
    ranks: dict[str, tuple[str, int]] = {}
    for column in spec.columns:
        for rank, name in enumerate(header_names(spec.name, column)):
            ranks.setdefault(normalize_header(name), (column, rank))
    mapped = _checked_mapping(original, spec, mapping or {})
    found: dict[str, list[tuple[int, int]]] = {}  # column → [(rank, index in the row)]
    for index, cell in enumerate(original):
        name = normalize_header(cell)
        column, rank = (mapped[name], -1) if name in mapped else ranks.get(name, ("", 0))
        if column:
            found.setdefault(column, []).append((rank, index))
    chosen: dict[str, int] = {}
    choices: list[ColumnChoice] = []
    for column, candidates in found.items():
        rank, index = min(candidates)
        if sum(1 for other, _ in candidates if other == rank) > 1:
            raise UnusableInput("duplicate_column", column=column)
        chosen[column] = index
        if len(candidates) > 1:
            unused = tuple(original[i] for _, i in sorted(candidates, key=lambda c: c[1]))
            choices.append(
                ColumnChoice(
                    column, original[index], tuple(u for u in unused if u != original[index])
                )
            )
    _check_required(spec, chosen)
    positions = tuple(chosen.get(column, -1) for column in spec.columns)
    return Header(list(original), positions, tuple(choices))


def _checked_mapping(
    original: Sequence[str], spec: ImportKind, mapping: Mapping[str, str]
) -> dict[str, str]:
    present = {normalize_header(cell) for cell in original}
    checked: dict[str, str] = {}
    for header, column in mapping.items():
        if column not in spec.columns:
            raise UnusableInput(
                "map_unknown_column", column=column, kind=spec.name, columns=", ".join(spec.columns)
            )
        name = normalize_header(header)
        if name not in present:
            shown = "、".join(cell.strip() for cell in original if cell.strip())
            raise UnusableInput("map_header_missing", header=header, headers=shown)
        checked[name] = column
    return checked


def _check_required(spec: ImportKind, chosen: Mapping[str, int]) -> None:
    missing = [name for name in spec.required if name not in chosen]
    missing += [
        " / ".join(group)
        for group in spec.required_one_of
        if not any(name in chosen for name in group)
    ]
    if missing:
        expected = [*spec.required, *(" / ".join(group) for group in spec.required_one_of)]
        raise UnusableInput(
            "missing_columns",
            columns=", ".join(missing),
            kind=spec.name,
            expected=",".join(expected),
        )
