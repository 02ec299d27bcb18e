"""Synthetic but plausible Chinese customer profiles for the demo database.

Surnames are weighted roughly by how common they are, so a search for 王 or 李 finds many people
(as it would in real data) while 欧阳 finds few. Every value comes from the `random.Random`
passed in, so a seed reproduces the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (surname, weight): the most common surnames dominate, as in a real customer list.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 72), ("李", 70), ("张", 67), ("刘", 53), ("陈", 45), ("杨", 31), ("黄", 25),
    ("赵", 21), ("吴", 20), ("周", 19), ("徐", 14), ("孙", 12), ("马", 12), ("朱", 11),
    ("胡", 11), ("郭", 10), ("何", 10), ("林", 10), ("高", 10), ("罗", 9), ("郑", 9),
    ("梁", 8), ("谢", 7), ("宋", 6), ("唐", 6), ("许", 6), ("韩", 5), ("冯", 5), ("邓", 5),
    ("曹", 5), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 4), ("董", 4), ("袁", 4), ("潘", 4),
    ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3),
    ("吕", 3), ("丁", 3), ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("崔", 3),
    ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 2), ("范", 2), ("金", 2), ("石", 2), ("廖", 2),
    ("贾", 2), ("夏", 2), ("方", 2), ("白", 2), ("邹", 2), ("孟", 2), ("熊", 2), ("秦", 2),
    ("欧阳", 1), ("司马", 1), ("上官", 1),
)  # fmt: skip

GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯晨"
    "欣怡梓涵子轩雨婷佳琪思远嘉怡俊杰晓东海燕春梅秀云立新振宁雪颖博文慧琳晶鑫"
)

# (region, weight) and (industry, weight): the shape of a mid-size company's customer base.
REGIONS: tuple[tuple[str, int], ...] = (
    ("华东", 34), ("华南", 24), ("华北", 19), ("华中", 9), ("西南", 8), ("西北", 3), ("东北", 3),
)  # fmt: skip
INDUSTRIES: tuple[tuple[str, int], ...] = (
    ("零售", 38), ("教育", 18), ("SaaS", 14), ("服务", 20), ("餐饮", 10),
)  # fmt: skip

# Mobile prefixes of the three carriers (and virtual operators); numbers are 11 digits.
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# (name, role): a small team — one admin, one manager, agents who own customers.
STAFF: tuple[tuple[str, str], ...] = (
    ("赵敏", "admin"),
    ("周静", "manager"),
    ("李娜", "agent"),
    ("王磊", "agent"),
    ("刘洋", "agent"),
    ("陈晓东", "agent"),
)

CORE_FEATURES = ("下单", "优惠券", "会员积分", "报表", "预约", "邀请好友")
CAMPAIGNS = ("春季老带新", "618 裂变拼团", "双11 邀请有礼", "会员日")
LEAD_SOURCES = ("官网留资", "小程序表单", "门店登记")

FOLLOW_UP_NOTES: dict[str, tuple[str, ...]] = {
    "prospect": ("电话沟通需求，客户想先看看案例", "已发送产品介绍和报价单", "约了下周到店体验"),
    "new": ("首单回访，客户对交付满意", "介绍会员积分玩法", "提醒客户领取新人券"),
    "growing": ("客户有加购意向，推荐套餐", "邀请参加老带新活动", "回访使用情况，反馈良好"),
    "mature": ("季度回顾，续约意向明确", "邀请成为推荐官，送专属权益", "沟通年度采购计划"),
    "declining": ("客户反馈近期预算紧张", "发送回流优惠券，待客户确认", "了解到客户在比较竞品"),
    "churned": ("多次联系未回复", "客户已更换供应商，保持联系", "发送挽回礼包"),
}


@dataclass(frozen=True)
class Person:
    name: str
    phone: str
    region: str
    industry: str


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def person_name(rng: random.Random) -> str:
    surname = _weighted(rng, SURNAMES)
    length = 1 if rng.random() < 0.35 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(length))


def new_phone(rng: random.Random, taken: set[str]) -> str:
    """A mobile number not in `taken` (and added to it)."""
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def new_person(rng: random.Random, taken_phones: set[str]) -> Person:
    return Person(
        name=person_name(rng),
        phone=new_phone(rng, taken_phones),
        region=_weighted(rng, REGIONS),
        industry=_weighted(rng, INDUSTRIES),
    )
