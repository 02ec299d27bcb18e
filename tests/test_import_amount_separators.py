"""An amount with separators is read only when they group thousands correctly (`1,299.00`,
`12,345`, `1 299.00`); `12,50`, `19，9元` or `1 200,50` is refused — a rejected row through
`fission import`, a 422 naming `amount` through the API — saying what was read, and nothing
is stored in its place. Before, every comma and space was dropped: ¥1,250.00, ¥199.00 and
¥120,050.00 were stored without a word. One parser serves both paths."""

from __future__ import annotations

from pathlib import Path

from api_support import AUTH, web_client
from import_support import invoke_import, on_database, stored_orders, write_csv

from models.db import Database

HEADER = "order_no,customer_external_id,amount,paid_at\n"
GOOD = [
    ("1,299.00", 129900),
    ("12,345", 1234500),
    ("1,234,567.89", 123456789),
    ("1 299.00", 129900),  # a space groups thousands as well
    ("1\u00a0299.00", 129900),  # so does a no-break space (Excel in some locales)
    ("¥1,299", 129900),
    ("１，２９９．００", 129900),  # full-width, grouped correctly
]
BAD = ["12,50", "19，9元", "1 200,50", "1,2345", "1,23,456", "1.299,00", ",123", "12 5"]


def _rows(amounts: list[str]) -> str:
    return "".join(f'N{index},C1,"{amount}",2024-06-01\n' for index, amount in enumerate(amounts))


def test_the_import_reads_only_correct_grouping(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "orders.csv", HEADER + _rows([raw for raw, _ in GOOD] + BAD))

    result = invoke_import(db_url, "orders", str(path))

    assert result.exit_code == 3, result.output
    stored = on_database(db_url, stored_orders)
    assert {no: order.amount_fen for no, order in stored.items()} == {
        f"N{index}": fen for index, (_raw, fen) in enumerate(GOOD)
    }
    first_bad = len(GOOD) + 2  # line of the first refused row (the header is line 1)
    said = result.stderr.splitlines()
    for offset, raw in enumerate(BAD):
        line = first_bad + offset
        expected = (
            f"第 {line} 行：金额「{raw}」看不懂：千分位分隔符（逗号或空格）只能每三位一个，"
            "小数点请用「.」"
        )
        assert expected in said, (raw, said)


def test_in_english_the_reason_says_what_was_read(db_url: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "orders.csv", HEADER + 'A1,C1,"12,50",2024-06-01\n')

    result = invoke_import(db_url, "orders", str(path), locale="en")

    assert result.exit_code == 3
    assert (
        "line 2: amount 「12,50」 cannot be read: a thousands separator (comma or space) comes "
        "every three digits, and the decimal point is '.'"
    ) in result.stderr.splitlines()
    assert on_database(db_url, stored_orders) == {}


async def test_the_api_refuses_them_naming_amount(db: Database, tmp_path: Path) -> None:
    order = {"order_no": "A-1", "customer_external_id": "C-1", "paid_at": "2024-05-01"}
    async with web_client(db, tmp_path) as client:
        for raw in BAD:
            resp = await client.post("/api/v1/orders", json={**order, "amount": raw}, headers=AUTH)
            assert resp.status == 422, raw
            fields = (await resp.json())["error"]["fields"]
            assert fields == [
                {
                    "field": "amount",
                    "code": "bad_grouping",
                    "message": f"金额「{raw}」看不懂：千分位分隔符（逗号或空格）只能每三位一个，"
                    "小数点请用「.」",
                }
            ]
        for index, (raw, fen) in enumerate(GOOD):
            body = {**order, "order_no": f"G-{index}", "amount": raw}
            resp = await client.post("/api/v1/orders", json=body, headers=AUTH)
            assert resp.status == 201, raw
            assert (await resp.json())["amount_fen"] == fen, raw
    assert sorted(await stored_orders(db)) == [f"G-{index}" for index in range(len(GOOD))]
