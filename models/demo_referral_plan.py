"""The script of the demo's referral program: who gets a code, who clicks, who joins through
which channel, which joins convert, and the few rejections, fraud reviews and the refund a real
program shows. Pure Python over a few facts per customer; models/demo_referrals.py plays it
through the referral services in time order.

Invitees are picked consistently with the generated order history: a converting invitee joins
before their first paid order (and within the 30-day attribution window of it), after their
account exists; a joined-but-not-converted invitee has never paid; an `existing_customer`
rejection goes to somebody who had paid before the join. Customers with a refunded order are
never converting invitees (that is a fraud signal and would put them under review).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PROGRAM_DAYS = 180  # the program has been running for about six months before as_of
INVITER_SHARE = 0.10  # customers who get a personal code
SHARING_SHARE = 0.5  # of those, the ones who actually share their link
# Channels an invitee is identified through, weighted as a WeCom-first business would see them.
CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("wecom_contact", 30),
    ("link", 25),
    ("wecom_group", 20),
    ("wechat_qr", 15),
    ("feishu_group", 10),
)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class CustomerFact:
    """What the plan needs to know about one open customer."""

    id: int
    created_at: datetime
    first_paid_at: datetime | None
    paid_orders: int
    recent_orders: int  # paid orders in the last 90 days
    lifetime_fen: int
    refunded_orders: int


@dataclass(frozen=True)
class Step:
    """One thing that happens, at `at`. `kind` is code, click, join, pay, refund or review."""

    at: datetime
    kind: str
    inviter: int
    invitee: int | None = None
    channel: str = ""
    visitor: str | None = None
    vip: bool = False
    approve: bool = True


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    inviters: list[int] = field(default_factory=list)
    stars: list[int] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def ordered(self) -> list[Step]:
        """In time order; a stable sort keeps the planned order of simultaneous steps."""
        return sorted(self.steps, key=lambda step: step.at)


class _Planner:
    def __init__(
        self, facts: list[CustomerFact], start: datetime, end: datetime, rng: random.Random
    ) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.plan = Plan()
        self.facts = {f.id: f for f in facts}
        self.used: set[int] = set()  # customers already given an invitee role
        self.visitors = 0
        paying = [f for f in facts if f.first_paid_at is not None]
        self.converting = [
            f
            for f in paying
            if f.refunded_orders == 0
            and f.first_paid_at is not None
            and start + 2 * DAY <= f.first_paid_at <= end - HOUR
        ]
        rng.shuffle(self.converting)
        self.never_paid = [f for f in facts if f.first_paid_at is None and f.created_at < end - DAY]
        rng.shuffle(self.never_paid)
        self.paid_early = [f for f in paying if f.first_paid_at and f.first_paid_at < start]
        rng.shuffle(self.paid_early)

    def visitor(self) -> str:
        """A visitor hash in the landing page's format (64 hex characters), from the seed."""
        self.visitors += 1
        return f"{self.rng.getrandbits(256):064x}"

    def moment(self, low: datetime, high: datetime) -> datetime:
        seconds = max(int((high - low).total_seconds()), 1)
        return low + timedelta(seconds=self.rng.randrange(seconds))

    def take(
        self, pool: list[CustomerFact], ok: Callable[[CustomerFact], bool]
    ) -> CustomerFact | None:
        for index, fact in enumerate(pool):
            if fact.id not in self.used and ok(fact):
                self.used.add(fact.id)
                return pool.pop(index)
        return None

    def click(self, inviter: int, at: datetime, visitor: str | None = None) -> str:
        visitor = visitor or self.visitor()
        self.plan.add(Step(at, "click", inviter, visitor=visitor))
        return visitor

    def join(self, inviter: int, invitee: int, at: datetime, channel: str | None = None) -> None:
        channel = channel or self.rng.choices(*zip(*CHANNEL_WEIGHTS, strict=True))[0]
        visitor = None
        if channel == "link":  # a link join comes from a visit a few minutes earlier
            visitor = self.click(inviter, at - timedelta(minutes=self.rng.randint(2, 90)))
        self.plan.add(Step(at, "join", inviter, invitee, channel, visitor))

    def convert(
        self,
        inviter: int,
        code_at: datetime,
        *,
        newest: datetime | None = None,
        oldest: datetime | None = None,
    ) -> CustomerFact | None:
        """A friend who joins through `inviter` and then pays their first order."""
        low, high = max(code_at + DAY, oldest or code_at), newest or self.end

        def fits(fact: CustomerFact) -> bool:
            assert fact.first_paid_at is not None
            return low <= fact.first_paid_at <= high and fact.created_at < fact.first_paid_at - HOUR

        friend = self.take(self.converting, fits)
        if friend is None:
            return None
        assert friend.first_paid_at is not None
        earliest = max(code_at, friend.created_at, friend.first_paid_at - 20 * DAY)
        self.join(inviter, friend.id, self.moment(earliest, friend.first_paid_at - HOUR / 2))
        self.plan.add(Step(friend.first_paid_at, "pay", inviter, friend.id))
        return friend


def plan_referrals(
    facts: list[CustomerFact], *, start: datetime, end: datetime, rng: random.Random
) -> Plan:
    """The whole script. `facts` in customer id order; `end` is the start of as_of."""
    p = _Planner(facts, start, end, rng)
    plan = p.plan
    if not facts:
        return plan
    candidates = [
        f
        for f in facts
        if f.paid_orders and f.created_at < end - 30 * DAY and f.refunded_orders == 0
    ]
    # Skewed to customers who buy often now (mature and growing ones): weighted sampling
    # without replacement (Efraimidis–Spirakis keys).
    weight = {f.id: 0.3 + 2.0 * min(f.recent_orders, 6) for f in candidates}
    keyed = sorted(candidates, key=lambda f: -(rng.random() ** (1 / weight[f.id])))
    # The two stars are the first frequent buyers by id: the simulator offers the first
    # customers of each stage as personas, so one of them then has invites, points and coupons.
    stars = [f for f in candidates if f.recent_orders >= 3][:2] or keyed[:1]
    count = min(len(keyed), max(3, round(len(facts) * INVITER_SHARE)))
    inviters = stars + [f for f in keyed if f not in stars][: count - len(stars)]
    if not inviters:
        return plan
    by_value = sorted(inviters, key=lambda f: (-f.recent_orders, -f.lifetime_fen, f.id))
    vip_cut = by_value[max(len(by_value) * 3 // 10, 1) - 1].lifetime_fen
    p.used.update(f.id for f in inviters)
    plan.inviters = [f.id for f in inviters]
    plan.stars = [f.id for f in stars]
    codes: dict[int, datetime] = {}
    for f in inviters:
        low = max(start, f.created_at + DAY)
        at = low + (end - 10 * DAY - low) * (rng.random() ** 2 if f not in stars else 0.05)
        codes[f.id] = at
        vip = f is stars[0] or (f is not stars[-1] and f.lifetime_fen >= vip_cut)
        plan.add(Step(at, "code", f.id, vip=vip))

    sharers = [f for f in inviters if f not in stars and rng.random() < SHARING_SHARE]
    # The fraud clusters first: they need three of the few recent first orders.
    _fraud_clusters(p, sharers, codes)
    recent = end - 6 * DAY
    # The stars: the first a VIP inviter, the second on the default program; each reaches the
    # 3rd-conversion milestone with settled conversions and has one still in its hold.
    for star, settled in zip(stars, (5, 3), strict=False):
        for _ in range(settled):
            p.convert(star.id, codes[star.id], newest=end - 12 * DAY)
        p.convert(star.id, codes[star.id], oldest=recent)
        for _ in range(rng.randint(10, 16)):
            p.click(star.id, p.moment(codes[star.id], end - HOUR))

    for f in sharers:
        code_at = codes[f.id]
        for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 45, 15, 5))[0]):
            p.convert(f.id, code_at)
        if rng.random() < 0.35:  # a friend who joined but has not bought yet
            friend = p.take(p.never_paid, lambda x: x.created_at < end - DAY)
            if friend is not None:
                p.join(f.id, friend.id, p.moment(max(code_at, friend.created_at), end - HOUR))
        for _ in range(rng.randint(1, 3)):  # visitors who looked and left
            p.click(f.id, p.moment(code_at, end - HOUR))

    _refund(p, stars)
    _rejections(p, sharers, codes)
    return plan


def _rejections(p: _Planner, sharers: list[CustomerFact], codes: dict[int, datetime]) -> None:
    """The natural refusals: trying one's own link, inviting somebody who already buys, and a
    second inviter reaching a friend somebody else brought first. (An `expired` conversion would
    need a join more than 30 days before the first order, earlier than the demo creates the
    account, so the demo has none.)"""
    rng, end = p.rng, p.end
    picks = rng.sample(sharers, min(len(sharers), 10))
    firsts = {s.invitee: s for s in p.plan.steps if s.kind == "join"}
    for f in picks[:3]:
        p.join(f.id, f.id, p.moment(codes[f.id], end - HOUR), rng.choice(("link", "wecom_contact")))
    for f in picks[3:7]:
        regular = p.take(p.paid_early, lambda x: True)
        if regular is not None:
            p.join(f.id, regular.id, p.moment(codes[f.id], end - HOUR))
    for f in picks[7:10]:
        taken = [
            s for s in firsts.values() if s.inviter != f.id and codes[f.id] < s.at < end - 4 * DAY
        ]
        if taken:
            first = rng.choice(taken)
            assert first.invitee is not None
            p.join(f.id, first.invitee, first.at + timedelta(hours=rng.randint(2, 72)))
            del firsts[first.invitee]


def _fraud_clusters(p: _Planner, sharers: list[CustomerFact], codes: dict[int, datetime]) -> None:
    """Three friends joining from one phone within the hour (the `shared_visitor` signal), twice:
    an older cluster staff reviewed (two approved, one denied) and a recent one still waiting."""
    rng, end = p.rng, p.end
    for when, decided in ((end - 120 * DAY, True), (end - 6 * DAY, False)):
        inviter = next((f for f in sharers if codes[f.id] < when - 5 * DAY), None)
        if inviter is None:
            continue
        base = when - timedelta(hours=rng.randint(6, 12) if not decided else rng.randint(24, 80))

        # The recent cluster's orders fall inside the review deadline (7 days), so its
        # reviews are still open at as_of; the older cluster's were decided by staff.
        low = base + HOUR
        high = when + 25 * DAY if decided else end - HOUR

        def fits(
            x: CustomerFact, base: datetime = base, low: datetime = low, high: datetime = high
        ) -> bool:
            assert x.first_paid_at is not None
            return x.created_at < base and low < x.first_paid_at < high

        friends = [p.take(p.converting, fits) for _ in range(3)]
        if any(friend is None for friend in friends):
            continue
        sharers.remove(inviter)
        device = p.click(inviter.id, base - timedelta(minutes=5))
        for index, friend in enumerate(friends):
            assert friend is not None and friend.first_paid_at is not None
            at = base + timedelta(minutes=index * rng.randint(5, 15))
            p.plan.add(Step(at, "join", inviter.id, friend.id, "link", device))
            p.plan.add(Step(friend.first_paid_at, "pay", inviter.id, friend.id))
            if decided:
                review_at = friend.first_paid_at + timedelta(hours=rng.randint(20, 60))
                p.plan.add(Step(review_at, "review", inviter.id, friend.id, approve=index != 1))


def _refund(p: _Planner, stars: list[CustomerFact]) -> None:
    """One converting order refunded two days later, inside the hold: both sides' rewards are
    revoked. Not a star's (their milestone is the demo's showcase)."""
    pays = [
        s
        for s in p.plan.steps
        if s.kind == "pay"
        and s.inviter not in {f.id for f in stars}
        and s.invitee is not None
        and p.facts[s.invitee].paid_orders >= 2
        and p.end - 60 * DAY < s.at < p.end - 10 * DAY
    ]
    if pays:
        pay = p.rng.choice(pays)
        p.plan.add(Step(pay.at + timedelta(days=2), "refund", pay.inviter, pay.invitee))
