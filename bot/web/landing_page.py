"""The landing page's HTML, from plain data: no aiohttp, no database.

Every value is HTML-escaped before it reaches a template. The join QR is an `<img>` with a PNG
data URI because WeChat's in-app browser offers "识别图中二维码" (recognise QR on long press)
for images only.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import BytesIO
from string import Template

import qrcode


@dataclass(frozen=True)
class _Texts:
    lang: str
    invited: str
    invited_anonymous: str
    default_offer: str
    join_heading: str
    join_hint: str
    join_button: str
    manual_heading: str
    manual_steps: tuple[str, ...]
    code_label: str
    footer: str
    nf_heading: str
    nf_explain: str
    nf_advice: str


_ZH = _Texts(
    lang="zh-CN",
    invited="{name} 邀请你一起参加",
    invited_anonymous="好友邀请你一起参加",
    default_offer="加入即可领取好友专享福利",
    join_heading="长按识别二维码，立即加入",
    join_hint="在微信中长按二维码，选择“识别图中二维码”；或点击下方按钮",
    join_button="点击加入",
    manual_heading="如何加入",
    manual_steps=(
        "截图或保存本页面；",
        "联系邀请你的好友，请他把你介绍给我们的客服，或直接联系我们的客服；",
        "告诉客服你的邀请码：{code}，即可领取好友专享福利。",
    ),
    code_label="你的邀请码",
    footer="福利由活动方发放，每位新朋友限领一次",
    nf_heading="邀请链接无效或活动已结束",
    nf_explain="这个邀请链接不存在，或者它所属的活动已经结束。",
    nf_advice="请向分享给你的好友要一个新的邀请链接。",
)
_EN = _Texts(
    lang="en",
    invited="{name} invited you",
    invited_anonymous="A friend invited you",
    default_offer="Join to get your welcome reward",
    join_heading="Scan the QR code to join",
    join_hint="In WeChat, long-press the code and choose 'Scan QR code in image', or tap the "
    "button",
    join_button="Join now",
    manual_heading="How to join",
    manual_steps=(
        "Take a screenshot of this page;",
        "ask the friend who invited you to introduce you to our staff, or contact us;",
        "tell us your referral code {code} to get your welcome reward.",
    ),
    code_label="Your referral code",
    footer="One welcome reward per new friend",
    nf_heading="This invite link is not valid",
    nf_explain="The link does not exist, or its campaign has ended.",
    nf_advice="Ask your friend for a new invite link.",
)


@dataclass(frozen=True)
class LandingContent:
    code: str
    title: str
    offer_text: str
    inviter_name: str  # already masked when masking is on
    join_url: str | None  # with the referral code substituted for {code}, if any


def _texts(locale: str) -> _Texts:
    return _EN if locale == "en" else _ZH


@lru_cache(maxsize=4)
def _resource(name: str) -> str:
    return resources.files("bot.web").joinpath(name).read_text(encoding="utf-8")


def qr_data_uri(text: str) -> str:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=8)
    qr.add_data(text)
    qr.make(fit=True)
    out = BytesIO()
    qr.make_image().save(out)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _join_block(content: LandingContent, t: _Texts) -> str:
    e = html.escape
    code = f'<p class="hint">{e(t.code_label)}：<span class="code">{e(content.code)}</span></p>'
    if content.join_url:
        return (
            f"    <h2>{e(t.join_heading)}</h2>\n"
            f'    <img class="qr" alt="QR" src="{qr_data_uri(content.join_url)}">\n'
            f'    <p class="hint">{e(t.join_hint)}</p>\n'
            f'    <a class="button" href="{e(content.join_url)}">{e(t.join_button)}</a>\n'
            f"    {code}"
        )
    steps = "".join(f"<li>{e(step.format(code=content.code))}</li>" for step in t.manual_steps)
    return f'    <h2>{e(t.manual_heading)}</h2>\n    <ol class="steps">{steps}</ol>\n    {code}'


def render_landing(content: LandingContent, locale: str) -> str:
    t = _texts(locale)
    e = html.escape
    invited = (
        t.invited.format(name=content.inviter_name) if content.inviter_name else t.invited_anonymous
    )
    return Template(_resource("templates/landing.html")).substitute(
        lang=t.lang,
        css=_resource("static/landing.css"),
        title=e(content.title),
        invited=e(invited),
        offer=e(content.offer_text or t.default_offer),
        join=_join_block(content, t),
        footer=e(t.footer),
    )


def render_not_found(locale: str) -> str:
    t = _texts(locale)
    return Template(_resource("templates/not_found.html")).substitute(
        lang=t.lang,
        css=_resource("static/landing.css"),
        heading=html.escape(t.nf_heading),
        explain=html.escape(t.nf_explain),
        advice=html.escape(t.nf_advice),
    )
