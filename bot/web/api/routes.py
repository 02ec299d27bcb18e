"""Every API operation, declared once: the app's routes and the OpenAPI document are both built
from `OPERATIONS`, so neither can drift from the other."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from bot.web.api.inputs import CustomerIn, EventsIn, OrderIn, RedeemIn, ReferralCodeIn
from bot.web.api.outputs import (
    CardOut,
    CustomerOut,
    EventsOut,
    OrderOut,
    RedeemOut,
    ReferralCodeOut,
    ReferralStatsOut,
)

PREFIX = "/api/v1"

# Error statuses and what they mean, shared by the operations that can answer them.
ERRORS = {
    400: "请求体不是有效的 JSON / malformed JSON",
    401: "缺少或错误的令牌，或 API 未启用 / missing or wrong token, or the API is disabled",
    404: "对象不存在 / not found",
    409: "与已有数据冲突 / conflicts with stored data",
    413: "请求体超过 64 KiB / body over 64 KiB",
    422: "字段校验失败，逐字段说明 / invalid fields, each named with the reason",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # under PREFIX, with {name} placeholders as aiohttp and OpenAPI both write them
    view: str  # name of the ApiViews method
    summary: str
    responses: dict[int, tuple[type[BaseModel], str]]
    request: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    path_params: dict[str, str] = field(default_factory=dict)
    public: bool = False
    body_optional: bool = False
    description: str = ""  # what the summary leaves out: choices made, what a 409 means

    @property
    def full_path(self) -> str:
        return PREFIX + self.path


_BODY_ERRORS = (400, 401, 413, 422)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/orders",
        "post_order",
        "新增或更新订单（按 order_no 幂等），驱动邀请转化与退款撤销 / upsert an order",
        responses={201: (OrderOut, "新建 / created"), 200: (OrderOut, "已存在，已更新 / updated")},
        request=OrderIn,
        errors=(*_BODY_ERRORS, 409),
    ),
    Operation(
        "POST",
        "/customers",
        "post_customer",
        "新增或更新客户（按 external_id 幂等），可带邀请码记录加入 / upsert a customer",
        responses={
            201: (CustomerOut, "新建 / created"),
            200: (CustomerOut, "已存在，已更新 / updated"),
        },
        request=CustomerIn,
        errors=_BODY_ERRORS,
    ),
    Operation(
        "POST",
        "/events",
        "post_events",
        "记录行为事件（单个或数组，重复的只存一次） / record activity events",
        responses={
            201: (EventsOut, "有新事件 / some were new"),
            200: (EventsOut, "均已存在 / all were stored before"),
        },
        request=EventsIn,
        errors=_BODY_ERRORS,
    ),
    Operation(
        "POST",
        "/customers/{external_id}/referral-code",
        "post_referral_code",
        "客户的专属邀请码、邀请链接和海报（幂等） / the customer's referral code, link and poster",
        description=(
            "同一客户在同一活动中永远是同一个邀请码，并发请求也一样；首次发放 201，之后 200。"
            "不指定 program 时，与聊天中的“邀请”相同：在进行中的活动里按优先级取第一个面向该客户"
            "（客户分群）的活动。指定 program 即由商家选定活动，不再按分群筛选。"
            "409：客户已注销、没有进行中的活动、进行中的活动都不面向该客户、"
            "指定的活动不存在或不在进行中，error.code 说明是哪一种。\n\n"
            "One code per customer and program, the same on every call, concurrent ones too; 201 "
            "when issued, 200 after. Without `program`, as chat /invite: the first running "
            "program by priority whose segment includes the customer. Naming a program is the "
            "shop's choice and skips the segment. 409 (error.code says which): the account is "
            "closed (customer_closed), no program runs (no_program_running), none of the running "
            "ones is for this customer (no_eligible_program), the named program does not exist "
            "(program_not_found) or is not running (program_not_running)."
        ),
        responses={
            201: (ReferralCodeOut, "新发放 / issued now"),
            200: (ReferralCodeOut, "客户已有的邀请码 / the code the customer already had"),
        },
        request=ReferralCodeIn,
        body_optional=True,
        errors=(*_BODY_ERRORS, 404, 409),
        path_params={"external_id": "客户编号 / the customer's external id"},
    ),
    Operation(
        "GET",
        "/customers/{external_id}",
        "get_customer",
        "客户卡片：阶段、等级、积分、优惠券、邀请 / the customer card",
        responses={200: (CardOut, "客户卡片 / the card")},
        errors=(401, 404),
        path_params={"external_id": "客户编号 / the customer's external id"},
    ),
    Operation(
        "GET",
        "/referrals/{code}",
        "get_referral",
        "邀请码统计：活动、邀请人（脱敏）、点击、加入、转化 / referral code statistics",
        responses={200: (ReferralStatsOut, "统计 / statistics")},
        errors=(401, 404),
        path_params={"code": "邀请码 / referral code"},
    ),
    Operation(
        "POST",
        "/coupons/{code}/redeem",
        "redeem_coupon",
        "核销优惠券（同一订单重复核销返回相同结果） / redeem a coupon, idempotently",
        responses={200: (RedeemOut, "已核销 / redeemed")},
        request=RedeemIn,
        errors=(*_BODY_ERRORS, 404, 409),
        path_params={"code": "券码 / coupon code"},
    ),
)

OPENAPI_PATH = PREFIX + "/openapi.json"
