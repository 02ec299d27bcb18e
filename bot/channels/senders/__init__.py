"""Platform senders of campaign deliveries, one `RouteSender` (models/campaigns/outcomes.py) per
configured platform, built on the channels' outbound choke point:

- WeCom (`wecom_task`): customer mass-message tasks confirmed by staff (wecom.py), their results
  read back by a scheduled poller (wecom_poll.py);
- Official Account (`wechat_cs`, `wechat_template`): a customer-service message inside the 48 h
  window, the configured template message outside it (wechat.py);
- Feishu (`feishu`): the bot's own message, de-duplicated by Feishu through its `uuid`
  (feishu.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.channels.apis import PlatformApis
from bot.channels.senders.feishu import FeishuSender
from bot.channels.senders.wechat import WeChatSender
from bot.channels.senders.wecom import WeComTaskSender
from config import Settings
from models.campaigns.outcomes import RouteSender
from models.db import Database


def build_senders(
    settings: Settings, db: Database, *, clock: Callable[[], datetime], apis: PlatformApis
) -> list[RouteSender]:
    """A sender for every platform configured; deliveries of another platform have none."""
    senders: list[RouteSender] = []
    if settings.wecom is not None and apis.wecom is not None:
        senders.append(
            WeComTaskSender(
                apis.wecom,
                app_id=settings.wecom.corp_id,
                db=db,
                clock=clock,
                locale=settings.locale,
                confirm_hours=settings.marketing.wecom_confirm_hours,
            )
        )
    if settings.wechat is not None and apis.wechat is not None:
        senders.append(
            WeChatSender(
                apis.wechat,
                app_id=settings.wechat.app_id,
                db=db,
                clock=clock,
                marketing=settings.marketing,
            )
        )
    if settings.feishu is not None and apis.feishu is not None:
        senders.append(FeishuSender(apis.feishu, app_id=settings.feishu.app_id))
    return senders
