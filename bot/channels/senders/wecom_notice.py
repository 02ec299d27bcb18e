"""Telling a staff member that a WeCom mass-message task waits for them: an app message in
their language saying what to confirm and where, sent when the task is made and with every
reminder (the reminder also re-triggers WeCom's own notice, `remind_groupmsg_send`)."""

from __future__ import annotations

import logging

from bot.channels.outbound.errors import ApiError
from bot.channels.wecom.api import WeComApi
from handlers.i18n import L, tr

log = logging.getLogger(__name__)

TEXT = {
    "new": L(
        "【待发送】活动「{campaign}」有 {count} 位客户的消息等你发送。"
        "请打开企业微信「客户联系 → 群发助手」，核对内容后点“发送”；"
        "{hours} 小时内未发送将自动取消。",
        "[To send] The campaign “{campaign}” has a message for {count} of your customers "
        "waiting for you. Open WeCom › Customer Contact › Group Messaging Assistant, check it "
        "and tap Send; it is cancelled if not sent within {hours} hours.",
    ),
    "again": L(
        "【提醒】活动「{campaign}」给 {count} 位客户的消息还没有发送。"
        "请在企业微信「客户联系 → 群发助手」中点“发送”；还剩约 {left} 小时，之后自动取消。",
        "[Reminder] The campaign “{campaign}” message for {count} of your customers is not "
        "sent yet. Tap Send in WeCom › Customer Contact › Group Messaging Assistant; it is "
        "cancelled in about {left} hours.",
    ),
}


async def tell_staff(api: WeComApi, staff_userid: str, text: str) -> bool:
    """An app message to the staff member; False (logged) when it could not be sent — the
    platform's own notice of the task still reaches them."""
    try:
        await api.send_app_message(staff_userid, "text", {"content": text})
    except ApiError as error:
        log.warning("wecom: could not tell %s about a mass message: %s", staff_userid, error)
        return False
    return True


def new_task_text(campaign: str, count: int, hours: int, locale: str) -> str:
    return tr(TEXT, "new", locale, campaign=campaign, count=count, hours=hours)


def reminder_text(campaign: str, count: int, hours_left: int, locale: str) -> str:
    return tr(TEXT, "again", locale, campaign=campaign, count=count, left=max(hours_left, 1))
