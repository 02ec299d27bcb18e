"""Response bodies of the HTTP API. Views build these models and send `model_dump(mode="json")`,
and the OpenAPI document is generated from them, so what is documented is what is sent.

Personal data: the API serves the business's own systems, which already hold their customers'
names and phone numbers under `external_id`. Sending them back adds nothing but copies in logs
and dashboards, so responses carry them masked, like everything staff see; ids are not masked.
Money is integer fen; times are ISO 8601 in the configured zone.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class _Output(BaseModel):
    pass


class FieldProblem(_Output):
    field: str = Field(description="出错的字段，如 amount、[2].kind / the field, e.g. [2].kind")
    code: str
    message: str


class ErrorDetail(_Output):
    code: str
    message: str
    fields: list[FieldProblem] | None = Field(None, description="422 时逐字段说明")


class ErrorBody(_Output):
    error: ErrorDetail


class ReferralOutcome(_Output):
    """The invitation this request concerns, as it stands now."""

    code: str
    program: str = Field(description="活动标识 / program key")
    status: str = Field(description="clicked | joined | converted | rewarded | rejected")
    reject_reason: str | None = None
    review_status: str | None = Field(None, description="疑似作弊待审核时为 pending")
    inviter_external_id: str


class OrderOut(_Output):
    order_no: str
    customer_external_id: str
    amount_fen: int
    paid_at: datetime
    status: str = Field(description="paid | refunded")
    refunded_at: datetime | None = None
    referral: ReferralOutcome | None = Field(
        None, description="这笔订单转化（或被拒绝转化）的邀请 / the invitation it converted"
    )


class CustomerOut(_Output):
    external_id: str
    name: str = Field(description="脱敏姓名 / masked name")
    phone: str = Field(description="脱敏手机号 / masked phone")
    region: str | None = None
    industry: str | None = None
    status: str = Field(description="open | closed")
    created_at: datetime
    closed_at: datetime | None = None
    referral: ReferralOutcome | None = None


class EventOut(_Output):
    id: int
    customer_external_id: str
    kind: str
    occurred_at: datetime
    detail: str


class EventsOut(_Output):
    received: int = Field(description="本次请求中的事件数（重复的只存一次）")
    events: list[EventOut]


class CouponOut(_Output):
    code: str
    name: str
    status: str = Field(description="issued | redeemed | expired | revoked")
    value_fen: int | None = Field(None, description="满减券面额 / fixed value")
    percent_off: int | None = Field(None, description="折扣券百分比 / percentage off")
    max_discount_fen: int | None = None
    min_spend_fen: int
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None
    redeemed_order_no: str | None = None


class RedeemOut(_Output):
    coupon: CouponOut
    discount_fen: int | None = Field(
        None, description="本单抵扣金额（订单已知时） / the discount, when the order is known"
    )


class ProgramOut(_Output):
    key: str
    name: str
    title: str
    offer_text: str
    active: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class InviterOut(_Output):
    external_id: str
    name: str = Field(description="脱敏姓名 / masked name")


class ReferralStatsOut(_Output):
    code: str
    link: str
    program: ProgramOut
    inviter: InviterOut
    clicks: int = Field(description="点击（每访客每天计一次） / clicks, one per visitor per day")
    joins: int = Field(description="加入（含已转化） / joined, converted or rewarded")
    conversions: int = Field(description="转化（首单） / converted or rewarded")
    rewarded: int
    rejected: int
    under_review: int = Field(description="待人工审核 / held for staff review")


class StageOut(_Output):
    stage: str = Field(description="prospect | new | growing | mature | declining | churned")
    since: date
    as_of: date
    rule: str = Field(description="判定规则 / the rule that fired")
    qualified: bool


class GradeOut(_Output):
    grade: str = Field(description="A | B | C")
    score: float
    orders_365d: int
    aov_fen: int
    ltv_fen: int
    as_of: date


class OrdersOut(_Output):
    as_of: date | None = Field(
        default=None,
        description="统计截至该日（阶段与分级所依据的日期）；尚未分类时为 null，统计全部订单 / "
        "counted up to the end of this date, the one the stage and grade describe; null "
        "before any lifecycle run (every order counted)",
    )
    count: int = Field(description="已支付未退款订单数 / paid, not refunded")
    total_fen: int
    aov_fen: int
    first_on: date | None = None
    last_on: date | None = None
    refunded_count: int
    later_count: int = Field(
        default=0,
        description="as_of 之后的已支付订单数，下次分类时计入 / paid orders after as_of, "
        "counted by the next lifecycle run",
    )


class PointsOut(_Output):
    available: int
    pending: int = Field(description="冻结期内 / in the hold period")


class CashOut(_Output):
    payable_fen: int = Field(description="待发放现金红包 / red packets owed")
    pending_fen: int = Field(description="冻结期内 / in the hold period")


class RewardOut(_Output):
    side: str = Field(description="inviter | invitee | milestone")
    tier: int | None = None
    kind: str = Field(description="coupon | points | cash | privilege")
    status: str = Field(description="pending | settled | revoked")
    points: int
    amount_fen: int
    coupon_name: str | None = None
    privilege: str | None = None
    settle_after: datetime
    revoke_reason: str | None = None


class InviteOut(_Output):
    invitee: str = Field(description="脱敏的被邀请人 / masked invitee")
    status: str
    reject_reason: str | None = None
    review_status: str | None = None
    joined_at: datetime | None = None
    converted_at: datetime | None = None
    rewards: list[RewardOut] = Field(description="邀请人因此获得的奖励 / what the inviter earned")


class CodeOut(_Output):
    code: str
    program: str
    link: str


class ReferralCodeOut(_Output):
    """A customer's personal code and where it leads; the same code on every call."""

    code: str = Field(description="邀请码 / referral code")
    program: str = Field(description="活动标识 / program key")
    title: str = Field(description="活动标题 / the program's title")
    offer_text: str = Field(description="活动说明 / what the offer is")
    link: str = Field(description="邀请链接（落地页），可直接分享 / the invite link to share")
    poster_url: str = Field(description="带二维码的海报 PNG / the QR poster image")


class CardOut(_Output):
    """The customer card: what staff see, masked, plus the referral side."""

    external_id: str
    name: str = Field(description="脱敏姓名 / masked name")
    phone: str = Field(description="脱敏手机号 / masked phone")
    region: str | None = None
    industry: str | None = None
    status: str = Field(description="open | closed")
    created_on: date
    closed_on: date | None = None
    marketing_opt_out: bool
    owner: str | None = Field(None, description="负责员工 / owning staff member")
    stage: StageOut | None = Field(None, description="未分层时为空 / never classified")
    grade: GradeOut | None = Field(None, description="无订单或未评级时为空")
    orders: OrdersOut
    points: PointsOut
    cash: CashOut
    coupons: list[CouponOut]
    privileges: list[str]
    referral_codes: list[CodeOut] = Field(description="本人的邀请码 / the customer's own codes")
    invites: list[InviteOut] = Field(description="最近的邀请，新的在前 / newest first")
    invites_total: int
