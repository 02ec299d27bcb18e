"""Every text the import shows a person, in Chinese and English.

Reasons are raised as a key plus parameters and rendered once, in the caller's locale, when a
row is rejected; the Chinese text is the default because the people fixing the spreadsheet are.
"""

from __future__ import annotations

from typing import Any

# key -> (zh-CN, en)
_TEXTS: dict[str, tuple[str, str]] = {
    # rows
    "missing_value": ("缺少必填字段：{field}", "missing required field: {field}"),
    "too_long": (
        "{field}过长（最多 {max} 个字符）",
        "{field} is too long (at most {max} characters)",
    ),
    "bad_date": (
        "{field}无法识别为日期：{value}（可用：2024-03-05、2024/3/5、2024.3.5、2024年3月5日，"
        "可带时间 14:30 或 14:30:00，也可以是带时区的 2024-03-05T14:30:00+08:00 "
        "或 Excel 日期序号 45356）",
        "{field} is not a date: {value} (accepted: 2024-03-05, 2024/3/5, 2024.3.5 or "
        "2024年3月5日, each with an optional time 14:30 or 14:30:00, ISO 8601 with an offset "
        "such as 2024-03-05T14:30:00+08:00, or an Excel serial date such as 45356)",
    ),
    "no_such_date": (
        "{field}不是存在的日期或时间：{value}",
        "{field} is not a real date or time: {value}",
    ),
    "date_out_of_range": (
        "{field}的年份超出范围（1900–2100）：{value}",
        "{field} has a year outside 1900-2100: {value}",
    ),
    "bad_amount": (
        "金额格式错误：{value}（应为以元为单位的数字，如 199.00）",
        "amount is not a number of yuan: {value} (e.g. 199.00)",
    ),
    "bad_grouping": (
        "金额「{value}」看不懂：千分位分隔符（逗号或空格）只能每三位一个，小数点请用「.」",
        "amount 「{value}」 cannot be read: a thousands separator (comma or space) comes every "
        "three digits, and the decimal point is '.'",
    ),
    "negative_amount": ("金额不能为负数：{value}", "amount must not be negative: {value}"),
    "too_many_decimals": (
        "金额最多两位小数（精确到分）：{value}",
        "amount has more than 2 decimals (fen): {value}",
    ),
    "amount_too_large": ("金额过大：{value}", "amount is too large: {value}"),
    "bad_choice": (
        "{field}取值无效：{value}（可选：{choices}）",
        "{field} is invalid: {value} ({choices})",
    ),
    "bad_phone": (
        "手机号格式不正确：{value}（手机号为 11 位；座机需带区号，如 010-12345678）",
        "phone number is invalid: {value} "
        "(mobile: 11 digits; landline with area code, e.g. 010-12345678)",
    ),
    "scientific": (
        "{field}被 Excel 转成了科学计数法：{value}（请把该列设为文本格式后重新导出）",
        "{field} was turned into scientific notation by Excel: {value} "
        "(format the column as text and export again)",
    ),
    "closed_but_open": (
        "{field}只能填在已注销的客户上，状态却是 {status}：{value}"
        "（已注销请把状态填为 closed 或留空，否则清空{field}）",
        "{field} is given ({value}) but status is {status}: set status to closed, "
        "or leave {field} empty",
    ),
    "closed_before_created": (
        "{field}早于创建时间：{value}",
        "{field} is before created_at: {value}",
    ),
    "nul_character": (
        "{field}第 {position} 个字符是空字符 NUL，无法保存；请删掉它",
        "{field} has a NUL character at position {position}, which cannot be stored; remove it",
    ),
    "lone_surrogate": (
        "{field}第 {position} 个字符 {code} 是无效字符（孤立的 UTF-16 代理项），无法保存；请删掉它",
        "{field} has an invalid character {code} (a lone UTF-16 surrogate) at position "
        "{position}, which cannot be stored; remove it",
    ),
    "missing_customer": (
        "缺少客户：客户编号（customer_external_id）和手机号（phone）至少填一个",
        "no customer: give customer_external_id or phone",
    ),
    "shared_phone": (
        "手机号 {phone} 对应 {count} 个客户，分不清是哪一个：请在这一行填上客户编号",
        "phone {phone} belongs to {count} customers, so it cannot say which one: give this "
        "row's customer number",
    ),
    "unpaid_order": (
        "未付款的订单不导入：订单状态为「{value}」",
        "an unpaid order is not imported: status 「{value}」",
    ),
    "detail_required": (
        "功能使用事件（feature_use）必须在详情中填写功能名称",
        "a feature_use event needs the feature name in detail",
    ),
    "duplicate": (
        "与第 {first} 行重复：{field}为 {value}",
        "duplicate of line {first} ({field}: {value})",
    ),
    "extra_fields": (
        "字段数比表头多（{got} 个，表头 {expected} 个）：表头以外的列里有内容，"
        "或 CSV 里有未加引号的逗号",
        "more fields than the header ({got} > {expected}): something in a column right of the "
        "header's, or an unquoted comma in a CSV",
    ),
    "order_of_another_customer": (
        "订单号 {order_no} 已属于客户 {stored}，不能改到 {given}（订单号重复？请核对）",
        "order {order_no} belongs to customer {stored}, not {given} (a reused order number?)",
    ),
    # whole file
    "file_missing": ("文件不存在：{path}", "file not found: {path}"),
    "not_a_file": ("不是文件：{path}", "not a file: {path}"),
    "empty_file": ("文件是空的，没有表头：{path}", "the file is empty, no header: {path}"),
    "missing_columns": (
        "缺少必需的列：{columns}（{kind}需要的列：{expected}；各列可用的中文表头见 "
        "fission import --help，别的表头可用 --map 表头=列名 指定）",
        "missing required columns: {columns} ({kind} needs: {expected}; the Chinese headers "
        "read as each are in fission import --help, and --map HEADER=COLUMN names another)",
    ),
    "map_unknown_column": (
        "--map 指定的列 {column} 不存在（{kind}的列：{columns}）",
        "--map names no column of {kind}: {column} (its columns: {columns})",
    ),
    "map_header_missing": (
        "--map 指定的表头「{header}」不在文件里（文件的表头：{headers}）",
        "--map names a header the file does not have: 「{header}」 (its headers: {headers})",
    ),
    "column_chosen": (
        "{field}取自「{used}」列；未使用：{unused}",
        "{field} is read from the column 「{used}」; not used: {unused}",
    ),
    "duplicate_column": (
        "表头中 {column} 出现了不止一次",
        "the header names {column} more than once",
    ),
    "undecodable": (
        "无法按 {encoding} 解码（约在第 {line} 行）；请用 --encoding 指定正确的编码",
        "cannot decode as {encoding} (near line {line}); choose the right --encoding",
    ),
    "utf16": (
        "这是 UTF-16 文件（Excel 的“Unicode 文本”）；请另存为“CSV UTF-8”后再导入",
        "this is a UTF-16 file (Excel 'Unicode text'); save it as 'CSV UTF-8' and import that",
    ),
    "xls_workbook": (
        "这是旧版 Excel 97-2003 工作簿（.xls）：{path}；"
        "请在 Excel 中另存为 .xlsx 或“CSV UTF-8”后再导入",
        "this is an old Excel 97-2003 workbook (.xls): {path}; save it as .xlsx or 'CSV UTF-8' "
        "and import that",
    ),
    "bad_workbook": (
        "无法读取 Excel 工作簿：{path}（文件可能已损坏，或不是 .xlsx 格式）",
        "cannot read the Excel workbook {path} (damaged, or not an .xlsx file)",
    ),
    "damaged_sheet": (
        "Excel 工作簿在第 {row} 行附近损坏，无法继续读取：{path}；请在 Excel 中打开并另存后再导入",
        "the workbook is damaged near row {row}: {path}; open it in Excel, save it again and "
        "import that",
    ),
    "bad_csv": (
        "CSV 格式错误（约在第 {line} 行）：{error}",
        "malformed CSV (near line {line}): {error}",
    ),
    "unknown_kind": ("未知的导入类型：{kind}", "unknown import kind: {kind}"),
    "unknown_encoding": ("不支持的编码：{encoding}", "unsupported encoding: {encoding}"),
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "external_id": ("客户编号", "external_id"),
    "name": ("姓名", "name"),
    "phone": ("手机号", "phone"),
    "region": ("地区", "region"),
    "industry": ("行业", "industry"),
    "created_at": ("创建时间", "created_at"),
    "status": ("状态", "status"),
    "closed_at": ("注销时间", "closed_at"),
    "order_no": ("订单号", "order_no"),
    "customer_external_id": ("客户编号", "customer_external_id"),
    "amount": ("金额", "amount"),
    "paid_at": ("支付时间", "paid_at"),
    "kind": ("类型", "kind"),
    "occurred_at": ("发生时间", "occurred_at"),
    "detail": ("详情", "detail"),
    "event_key": ("客户编号/类型/发生时间/详情", "customer/kind/occurred_at/detail"),
}

KIND_LABELS: dict[str, tuple[str, str]] = {
    "customers": ("客户导入", "a customers import"),
    "orders": ("订单导入", "an orders import"),
    "events": ("行为事件导入", "an events import"),
}


def _pick(pair: tuple[str, str], locale: str) -> str:
    return pair[1] if locale == "en" else pair[0]


def field_label(name: str, locale: str) -> str:
    """`订单号（order_no）` in Chinese, so the person can find the column either way."""
    pair = FIELD_LABELS.get(name, (name, name))
    if locale == "en":
        return pair[1]
    if name == "event_key":
        return pair[0]
    return f"{pair[0]}（{name}）"


def render(key: str, locale: str, params: dict[str, Any]) -> str:
    values = dict(params)
    if "field" in values:
        values["field"] = field_label(str(values["field"]), locale)
    if "kind" in values and values["kind"] in KIND_LABELS:
        values["kind"] = _pick(KIND_LABELS[values["kind"]], locale)
    return _pick(_TEXTS[key], locale).format(**values)


class Problem(Exception):
    """A message key with parameters, rendered in the reader's locale when shown."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, locale: str = "zh-CN") -> str:
        return render(self.key, locale, self.params)


class RowError(Problem):
    """One row cannot be imported; the row is rejected and the import goes on."""


class UnusableInput(Problem):
    """The file as a whole cannot be imported (missing, undecodable, missing columns)."""

    def __str__(self) -> str:
        return self.render()
