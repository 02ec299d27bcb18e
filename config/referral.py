"""Referral programs and coupon templates as configured in `fission.toml`.

`fission program sync` copies these into the database (`referral_programs`,
`coupon_templates`); the referral engine reads the database, so a program can also come from
an admin command or the API. The same models validate the JSON columns when they are read back.

```toml
[[coupon_templates]]
key = "vip_50"
name = "VIP专享券 ¥50"
value_fen = 5000          # or: percent_off = 15 and max_discount_fen = 3000
min_spend_fen = 20000
validity_days = 30

[[programs]]
key = "vip"
name = "高价值客户专属邀请"
title = "邀好友，得积分"
priority = 10
segment = { value = "high", activity = "active" }
inviter_reward = { kind = "points", points = 500 }
invitee_reward = { kind = "coupon", coupon_template = "vip_50" }
milestones = [{ at = 5, reward = { kind = "cash", amount_fen = 8800 } }]
cap_per_inviter_month = 20
budget_fen = 500000
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RewardKind = Literal["coupon", "points", "cash", "privilege"]
Stage = Literal["prospect", "new", "growing", "mature", "declining", "churned"]
Grade = Literal["A", "B", "C"]
# How an invitee can be identified (DESIGN.md §4); mirrors models.referral.tables.CHANNELS.
Channel = Literal[
    "link", "wecom_contact", "wecom_group", "wechat_qr", "feishu_group", "api", "console"
]
ALL_CHANNELS: tuple[Channel, ...] = (
    "link",
    "wecom_contact",
    "wecom_group",
    "wechat_qr",
    "feishu_group",
    "api",
    "console",
)
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RewardSpec(_Strict):
    """One reward: a coupon from a template, points, a cash red packet (fen), or a privilege."""

    kind: RewardKind
    coupon_template: str | None = Field(None, pattern=KEY_PATTERN)
    points: int | None = Field(None, ge=1)
    amount_fen: int | None = Field(None, ge=1)
    privilege: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_value(self) -> RewardSpec:
        needed = {
            "coupon": "coupon_template",
            "points": "points",
            "cash": "amount_fen",
            "privilege": "privilege",
        }[self.kind]
        given = {
            name
            for name in ("coupon_template", "points", "amount_fen", "privilege")
            if getattr(self, name) is not None
        }
        if given != {needed}:
            raise ValueError(f"a {self.kind} reward needs exactly `{needed}` (got {sorted(given)})")
        return self


class MilestoneTier(_Strict):
    """An extra reward for the inviter at their `at`-th rewarded conversion in the program."""

    at: int = Field(ge=1)
    reward: RewardSpec


class Segment(_Strict):
    """Who a program is for (DESIGN.md §2.2). Empty lists and None mean "any"; every given
    field must match. `value` high = grade A/B, low = grade C (ungraded customers are neither).
    `customer_type` new = no paid order yet or the first one within `new_within_days`.
    `activity` active = a paid order within `active_within_days`."""

    stages: list[Stage] = Field(default_factory=list)
    grades: list[Grade] = Field(default_factory=list)
    customer_type: Literal["new", "returning"] | None = None
    value: Literal["high", "low"] | None = None
    activity: Literal["active", "dormant"] | None = None
    regions: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    new_within_days: int = Field(30, ge=0)
    active_within_days: int = Field(60, ge=1)


class FraudRules(_Strict):
    """Signals that hold a conversion for staff review instead of rewarding it at once.
    A threshold of 0 switches its signal off. A review still open after `review_days` is decided
    by `review_default` at the next settle run (ReferralCandy's deadline); None waits for staff."""

    max_invitees_per_visitor: int = Field(3, ge=0)
    visitor_window_minutes: int = Field(60, ge=1)
    min_refunded_orders: int = Field(1, ge=0)
    account_chain_minutes: int = Field(10, ge=0)
    burst_joins: int = Field(5, ge=0)
    burst_minutes: int = Field(60, ge=1)
    review_days: int | None = Field(7, ge=1)
    review_default: Literal["approve", "deny"] = "approve"


class ProgramConfig(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(None, max_length=100)
    offer_text: str = ""
    segment: Segment = Field(default_factory=Segment)
    channels: list[Channel] = Field(default_factory=lambda: list(ALL_CHANNELS))
    inviter_reward: RewardSpec | None = None
    invitee_reward: RewardSpec | None = None
    milestones: list[MilestoneTier] = Field(default_factory=list)
    cap_per_inviter_month: int | None = Field(None, ge=1)
    budget_fen: int | None = Field(None, ge=0)
    attribution_window_days: int = Field(30, ge=1)
    hold_days: int = Field(7, ge=0)
    # The smallest paid order (fen) that converts an invitation (ReferralCandy's and
    # Friendbuy's minimum purchase); 0: any paid order counts.
    min_order_fen: int = Field(0, ge=0)
    starts_at: datetime | None = None  # naive values are in settings.timezone
    ends_at: datetime | None = None
    priority: int = 100
    active: bool = True
    fraud: FraudRules = Field(default_factory=FraudRules)

    @field_validator("milestones")
    @classmethod
    def _distinct_tiers(cls, tiers: list[MilestoneTier]) -> list[MilestoneTier]:
        ats = [tier.at for tier in tiers]
        if len(set(ats)) != len(ats):
            raise ValueError(f"milestone tiers must be distinct (got at = {ats})")
        return sorted(tiers, key=lambda tier: tier.at)

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProgramConfig:
        start, end = self.starts_at, self.ends_at
        comparable = start and end and (start.tzinfo is None) == (end.tzinfo is None)
        if comparable and start and end and end <= start:
            raise ValueError("ends_at must be after starts_at")
        return self

    def coupon_templates(self) -> set[str]:
        """Keys of the coupon templates this program's rewards need."""
        specs = [self.inviter_reward, self.invitee_reward, *(t.reward for t in self.milestones)]
        return {spec.coupon_template for spec in specs if spec and spec.coupon_template}


class CouponTemplateConfig(_Strict):
    """A coupon worth `value_fen`, or `percent_off` capped at `max_discount_fen`."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    value_fen: int | None = Field(None, ge=1)
    percent_off: int | None = Field(None, ge=1, le=99)
    max_discount_fen: int | None = Field(None, ge=1)
    min_spend_fen: int = Field(0, ge=0)
    validity_days: int = Field(30, ge=1)
    active: bool = True

    @model_validator(mode="after")
    def _value_or_percent(self) -> CouponTemplateConfig:
        if self.value_fen is not None:
            if self.percent_off is not None or self.max_discount_fen is not None:
                raise ValueError("give value_fen, or percent_off with max_discount_fen, not both")
        elif self.percent_off is None or self.max_discount_fen is None:
            raise ValueError("give value_fen, or percent_off together with max_discount_fen")
        return self


def check_unique_keys(programs: list[ProgramConfig], templates: list[CouponTemplateConfig]) -> None:
    """Raise ValueError naming a key configured twice."""
    for what, keys in (
        ("programs", [p.key for p in programs]),
        ("coupon_templates", [t.key for t in templates]),
    ):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise ValueError(f"{what}: key {key!r} is configured twice")
            seen.add(key)
