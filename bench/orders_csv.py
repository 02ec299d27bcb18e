"""Realistic customers and orders CSV files for the import benchmark, written row by row.

Orders look like a shop export: order numbers that grow with time (`SO20240115000123`),
~100k distinct customer numbers with a skewed distribution (a few customers order a lot),
amounts in yuan with two decimals (`199.00`, `58.50`, some `1,299.00` as Excel writes them),
paid times over a year in the shapes people's files have (mostly `YYYY-MM-DD HH:MM:SS`, some
`YYYY/MM/DD HH:MM`, some ISO 8601 with `+08:00`), a status column that is mostly `paid`,
sometimes `已支付`, ~3% refunded and sometimes empty. Every row is valid: the benchmark
measures the accepting path. Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯"
REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "苏州")
INDUSTRIES = ("零售", "教育", "SaaS", "餐饮", "医疗", "制造", "服务", "金融")
START = datetime(2023, 7, 1)
YEAR_SECONDS = 365 * 86400


def customer_number(n: int) -> str:
    return f"C{n:07d}"


def write_customers(path: Path, customers: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["external_id", "name", "phone", "region", "industry", "created_at", "status"])
        for n in range(1, customers + 1):
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            created = START - timedelta(days=rng.randrange(1, 700))
            status = "注销" if rng.random() < 0.01 else "open"
            region, industry = rng.choice(REGIONS), rng.choice(INDUSTRIES)
            out.writerow(
                [customer_number(n), name, phone, region, industry, f"{created:%Y-%m-%d}", status]
            )


def _amount(rng: random.Random) -> str:
    fen = int(rng.lognormvariate(9.5, 0.9))  # median ~130 yuan, a long tail
    yuan, cents = divmod(max(fen, 100), 100)
    if yuan >= 1000 and rng.random() < 0.3:
        return f"{yuan:,}.{cents:02d}"
    return f"{yuan}.{cents:02d}"


def _paid_at(rng: random.Random, moment: datetime) -> str:
    shape = rng.random()
    if shape < 0.9:
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    if shape < 0.95:
        return f"{moment:%Y/%m/%d %H:%M}"
    return f"{moment:%Y-%m-%dT%H:%M:%S}+08:00"


def _status(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.03:
        return "refunded"
    if pick < 0.10:
        return ""
    if pick < 0.20:
        return "已支付"
    return "paid"


def write_orders(path: Path, rows: int, customers: int, seed: int, *, year: int = 0) -> int:
    """`rows` orders in time order over one year (`year` years after the first file's: new
    order numbers), spread over `customers` customer numbers; returns how many distinct
    customer numbers the file mentions."""
    rng = random.Random(seed + year)
    seen: set[int] = set()
    step = YEAR_SECONDS / rows
    start = START + timedelta(days=365 * year)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["order_no", "customer_external_id", "amount", "paid_at", "status"])
        for n in range(rows):
            moment = start + timedelta(seconds=int(n * step))
            # Squaring a uniform number skews it: low customer numbers order most often.
            who = 1 + int(customers * rng.random() ** 2)
            seen.add(who)
            out.writerow(
                [
                    f"SO{moment:%Y%m%d}{n:08d}",
                    customer_number(who),
                    _amount(rng),
                    _paid_at(rng, moment),
                    _status(rng),
                ]
            )
    return len(seen)
