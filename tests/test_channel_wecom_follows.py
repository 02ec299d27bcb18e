"""Who follows whom on WeCom, kept from the contact callbacks — a campaign's WeCom sender is a
staff member who has the customer as a contact (add_external_contact starts a follow,
del_follow_user / del_external_contact end it; late or repeated callbacks change nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

from campaign_world import WINBACK, Person, configure, seed, settings_for
from fakes.harness import WECOM_CORP, Clock, Harness, channel_app
from sqlalchemy import select
from test_channel_wecom import post, xml

from models import Campaign, Delivery, WecomFollow
from models.campaigns.run import run_campaign
from models.db import Database

ADDED = 1700000100  # CreateTime of add_external_contact.xml


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def _added(h: Harness, created: int, staff: str = "lisi") -> None:
    text = xml("add_external_contact.xml", state="channel_spring")
    text = text.replace(str(ADDED), str(created)).replace("lisi", staff)
    assert await post(h, text) == (200, "")
    await h.settle()


async def _removed(h: Harness, created: int, change: str = "del_follow_user") -> None:
    text = xml("change_external_contact.xml", create_time=str(created), change=change, staff="lisi")
    assert await post(h, text) == (200, "")
    await h.settle()


async def _follows(db: Database) -> list[tuple[str, datetime | None, datetime | None]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(WecomFollow.staff_userid, WecomFollow.followed_at, WecomFollow.removed_at)
            .where(
                WecomFollow.app_id == WECOM_CORP, WecomFollow.external_userid == "wmEXTERNAL0001"
            )
            .order_by(WecomFollow.staff_userid)
        )
        return [(staff, followed, removed) for staff, followed, removed in rows.all()]


async def _sender(db: Database, minute: int) -> str | None:
    """The sender of a win-back run's message to the customer (None: not sent)."""
    settings = settings_for(db, wecom_corp_id=WECOM_CORP)
    now = at(ADDED + 86400 + minute * 60)
    async with db.uow() as uow:
        campaign = await uow.session.scalar(select(Campaign).where(Campaign.key == WINBACK))
        assert campaign is not None
        summary = await run_campaign(uow.session, campaign, settings=settings, now=now)
        await uow.commit()
    async with db.uow() as uow:
        return await uow.session.scalar(
            select(Delivery.sender).where(Delivery.run_id == summary.run_id)
        )


async def test_follows_start_and_end_with_the_contact_callbacks(db: Database) -> None:
    await seed(db, [Person("W1", ids=(("wecom", "wmEXTERNAL0001", None),))])
    await configure(db, WINBACK, enabled=True, holdout_pct=0, cooldown_days=0)
    clock = Clock(at(ADDED + 60))
    async with channel_app(db, clock=clock) as h:
        assert await _sender(db, 0) is None  # nobody follows the customer yet: unreachable
        await _added(h, ADDED)
        assert await _follows(db) == [("lisi", at(ADDED), None)]
        assert await _sender(db, 1) == "lisi"

        await _removed(h, ADDED + 100)  # the customer deleted lisi
        assert await _follows(db) == [("lisi", at(ADDED), at(ADDED + 100))]
        await _added(h, ADDED + 50)  # a late callback from before the removal: ignored
        assert await _follows(db) == [("lisi", at(ADDED), at(ADDED + 100))]
        assert await _sender(db, 2) is None

        await _added(h, ADDED + 200)  # added again
        await _added(h, ADDED + 300, staff="wangwu")  # and by a second staff member
        assert await _follows(db) == [
            ("lisi", at(ADDED + 200), None),
            ("wangwu", at(ADDED + 300), None),
        ]
        assert await _sender(db, 3) == "wangwu"  # no owner: the latest follower
        await _removed(h, ADDED + 400, change="del_external_contact")  # lisi deleted them
        assert (await _follows(db))[0] == ("lisi", at(ADDED + 200), at(ADDED + 400))
        assert len(h.echo.joins) == 4  # the adds are joins as before; removals are not
