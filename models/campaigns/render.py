"""A campaign's message filled in for each customer, rendered when the delivery is sent.

Rendering at send time, not at the run, keeps the run one set-based statement (string
templates do not belong in SQL) and lets a message carry what holds when it goes out — the
customer's current name, whether the coupon is still usable. A claimed batch is read in one
query (`prepare`), which also brings the send-time checks: opted out since the run, coupon gone.

The variables (config/campaigns.MESSAGE_VARIABLES):
- `{name}`: the customer's own name, unmasked — the message goes to them; 亲爱的顾客 / friend
  when the name is unknown (`{name}您好` → 亲爱的顾客您好).
- `{coupon}`: the member's coupon, its name and face value in yuan through the one money
  formatter (models/money.py), and its minimum spend: 回归礼券（¥50.00，满¥200.00可用）. The face
  is left out when the name already shows it (老客回馈券 ¥30).
- `{expiry}`: the coupon's last day, local date (2024年7月15日 / 2024-07-15).
- `{link}`: `[marketing] shop_url` when configured — where the coupon is spent; otherwise the
  customer's own referral page (`{public_base_url}/r/{code}`, the one page Fission serves per
  customer), else `public_base_url`.
- `{shop}`: `[marketing] shop_name`, else 本店 / our shop.
Anything else in braces is left as written (configuration checks the variables on load).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from config import Settings
from models.campaigns.outcomes import RenderedMessage
from models.campaigns.tables import Campaign, CampaignMember, Delivery
from models.customer import Customer
from models.money import format_fen, zhe
from models.referral.reward_tables import Coupon, CouponTemplate
from models.referral.tables import ReferralCode

_VARIABLE = re.compile(r"\{(name|coupon|expiry|link|shop)\}")
_TEXT = {
    "zh-CN": {
        "nameless": "亲爱的顾客",
        "shop": "本店",
        "coupon": "{name}（{terms}）",
        "min_spend": "满{amount}可用",
        "percent": "{zhe}折",
        "max_discount": "最多减{amount}",
        "sep": "，",
    },
    "en": {
        "nameless": "friend",
        "shop": "our shop",
        "coupon": "{name} ({terms})",
        "min_spend": "min. spend {amount}",
        "percent": "{percent}% off",
        "max_discount": "up to {amount}",
        "sep": ", ",
    },
}


@dataclass(frozen=True)
class CouponTerms:
    name: str
    value_fen: int | None
    percent_off: int | None
    max_discount_fen: int | None
    min_spend_fen: int
    expires_at: datetime

    @classmethod
    def offered(cls, template: CouponTemplate, issued_at: datetime) -> CouponTerms:
        """The terms of the coupon a run at `issued_at` would issue from `template` (the dry
        run's sample messages, before any coupon exists)."""
        return cls(
            name=template.name,
            value_fen=template.value_fen,
            percent_off=template.percent_off,
            max_discount_fen=template.max_discount_fen,
            min_spend_fen=template.min_spend_fen,
            expires_at=template.expires_at(issued_at),
        )


@dataclass(frozen=True)
class Recipient:
    """What one customer's message is filled with."""

    name: str | None
    coupon: CouponTerms | None = None
    referral_code: str | None = None


@dataclass(frozen=True)
class MessageStyle:
    """What every message of a batch shares: language, zone, the shop."""

    locale: str
    tz: tzinfo
    public_base_url: str
    shop_name: str | None = None
    shop_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageStyle:
        return cls(
            locale=settings.locale,
            tz=settings.tz,
            public_base_url=settings.public_base_url,
            shop_name=settings.marketing.shop_name,
            shop_url=settings.marketing.shop_url,
        )

    @property
    def lang(self) -> str:
        return "en" if self.locale.lower().startswith("en") else "zh-CN"


def coupon_text(coupon: CouponTerms, style: MessageStyle) -> str:
    text = _TEXT[style.lang]
    terms = []
    if coupon.value_fen is not None:
        if not _shows_amount(coupon.name, coupon.value_fen):
            terms.append(format_fen(coupon.value_fen))
    else:
        percent = coupon.percent_off or 0
        terms.append(text["percent"].format(zhe=zhe(percent), percent=percent))
        if coupon.max_discount_fen:
            terms.append(text["max_discount"].format(amount=format_fen(coupon.max_discount_fen)))
    if coupon.min_spend_fen:
        terms.append(text["min_spend"].format(amount=format_fen(coupon.min_spend_fen)))
    if not terms:
        return coupon.name
    return text["coupon"].format(name=coupon.name, terms=text["sep"].join(terms))


def _shows_amount(name: str, fen: int) -> bool:
    """Does the coupon's name already say its value (老客回馈券 ¥30, 减¥12.50)?"""
    full = format_fen(fen)
    short = full.removesuffix(".00")
    return re.search(re.escape(short) + r"(?![\d,]|\.\d)", name) is not None or full in name


def expiry_text(moment: datetime, style: MessageStyle) -> str:
    day = moment.astimezone(style.tz).date()
    return day.isoformat() if style.lang == "en" else f"{day.year}年{day.month}月{day.day}日"


def variables(recipient: Recipient, style: MessageStyle) -> dict[str, str]:
    text = _TEXT[style.lang]
    name = (recipient.name or "").strip()
    coupon = recipient.coupon
    if style.shop_url:
        link = style.shop_url
    elif recipient.referral_code:
        link = f"{style.public_base_url}/r/{recipient.referral_code}"
    else:
        link = style.public_base_url
    return {
        "name": name or text["nameless"],
        "coupon": coupon_text(coupon, style) if coupon is not None else "",
        "expiry": expiry_text(coupon.expires_at, style) if coupon is not None else "",
        "link": link,
        "shop": style.shop_name or text["shop"],
    }


def render_message(template: str, recipient: Recipient, style: MessageStyle) -> RenderedMessage:
    values = variables(recipient, style)
    return RenderedMessage(
        text=_VARIABLE.sub(lambda match: values[match[1]], template), variables=values
    )


def referral_code_of(customer_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The customer's first referral code — their own `/r/` page, the `{link}` when no shop
    URL is configured — or NULL."""
    rc = ReferralCode.__table__
    return (
        select(rc.c.code)
        .where(rc.c.customer_id == customer_id)
        .order_by(rc.c.id)
        .limit(1)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Prepared:
    """A claimed delivery's message, and what the send-time checks found."""

    message: RenderedMessage
    opted_out: bool
    # The coupon the message offers is no longer usable: revoked / redeemed / expired.
    coupon_gone: str | None


async def prepare(
    conn: AsyncConnection, delivery_ids: Sequence[int], style: MessageStyle, now: datetime
) -> dict[int, Prepared]:
    """Every delivery's rendered message and send-time checks, in one query for the batch."""
    if not delivery_ids:
        return {}
    d, c, cu = Delivery.__table__, Campaign.__table__, Customer.__table__
    m, cp = CampaignMember.__table__, Coupon.__table__
    code = referral_code_of(d.c.customer_id)
    query = (
        select(
            d.c.id,
            c.c.message,
            cu.c.name,
            cu.c.marketing_opt_out,
            cp.c.id.label("coupon_id"),
            cp.c.name.label("coupon_name"),
            cp.c.status.label("coupon_status"),
            cp.c.value_fen,
            cp.c.percent_off,
            cp.c.max_discount_fen,
            cp.c.min_spend_fen,
            cp.c.expires_at,
            code.label("code"),
        )
        .select_from(
            d.join(c, c.c.id == d.c.campaign_id)
            .join(cu, cu.c.id == d.c.customer_id)
            .outerjoin(m, and_(m.c.run_id == d.c.run_id, m.c.customer_id == d.c.customer_id))
            .outerjoin(cp, cp.c.id == m.c.coupon_id)
        )
        .where(d.c.id.in_(list(delivery_ids)))
    )
    prepared: dict[int, Prepared] = {}
    for row in await conn.execute(query):
        coupon = None
        gone = None
        if row.coupon_id is not None:
            coupon = CouponTerms(
                name=row.coupon_name,
                value_fen=row.value_fen,
                percent_off=row.percent_off,
                max_discount_fen=row.max_discount_fen,
                min_spend_fen=row.min_spend_fen or 0,
                expires_at=row.expires_at,
            )
            if row.coupon_status != "issued":
                gone = f"coupon_{row.coupon_status}"
            elif row.expires_at <= now:
                gone = "coupon_expired"
        recipient = Recipient(name=row.name, coupon=coupon, referral_code=row.code)
        prepared[row.id] = Prepared(
            message=render_message(row.message, recipient, style),
            opted_out=bool(row.marketing_opt_out),
            coupon_gone=gone,
        )
    return prepared
