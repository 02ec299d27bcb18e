"""`fission campaign run`: who is selected, into which arm, on which route, with which coupon —
and a dry run that reports the same and changes nothing. Through the CLI, on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from campaign_world import (
    NOW,
    WINBACK,
    Person,
    Sent,
    cli_env,
    configure,
    console,
    count,
    deliveries,
    earlier_messages,
    fission,
    reference_hash,
    row_counts,
    seed,
)
from sqlalchemy import select

from models import CampaignMember, CampaignRun, Coupon, Delivery
from models.db import Database

AT = "2024-06-04T10:00"
LATER = NOW - timedelta(hours=1)
EARLIER = NOW - timedelta(days=3)

# Declining customers, one per routing case and exclusion of the first test.
PEOPLE = [
    Person("T-console", name="张三", ids=(console("c-zhang"),)),
    # Feishu seen last (wechat earlier): Feishu.
    Person("T-feishu", name="李四", ids=(("wechat", "o-li", EARLIER), ("feishu", "ou-li", LATER))),
    # Prefers the Official Account although last seen on Feishu.
    Person(
        "T-wechat",
        name="王五",
        preferred="wechat",
        ids=(("wechat", "o-wang", EARLIER), ("feishu", "ou-wang", LATER)),
    ),
    # WeCom: added by lisi, no owner → lisi sends.
    Person("T-wecom-follower", ids=(("wecom", "wm-1", None),), follows=("lisi",)),
    # WeCom: owned by wangwu, who follows too (and so does lisi) → the owner sends.
    Person(
        "T-wecom-owner",
        ids=(("wecom", "wm-2", None),),
        owner="wangwu",
        follows=("lisi", "wangwu"),
    ),
    # Another owner (zhaoliu), followed after lisi: still the owner sends.
    Person(
        "T-wecom-owner-2",
        ids=(("wecom", "wm-4", None),),
        owner="zhaoliu",
        follows=("zhaoliu", "lisi"),
    ),
    # WeCom without anybody to send it (no follow, no owner): the console instead.
    Person("T-fallback", ids=(("wecom", "wm-3", LATER), console("c-fallback", EARLIER))),
    Person("X-opted-out", opted_out=True, ids=(console("c-opt"),)),
    Person("X-no-identity"),
    Person("X-other-app", ids=(("wechat", "o-x", None),), preferred="wechat"),  # see below
    Person("X-cooldown", ids=(console("c-cool"),)),
    Person("X-churned", stage="churned", ids=(console("c-churned"),)),  # not in the audience
    Person("X-closed", closed=True, ids=(console("c-closed"),)),  # not in the audience
]


async def _world(db: Database) -> dict[str, int]:
    ids = await seed(db, PEOPLE)
    async with db.uow() as uow:  # an Official Account this deployment does not have
        from models import CustomerIdentity

        row = await uow.session.scalar(
            select(CustomerIdentity).where(CustomerIdentity.value == "o-x")
        )
        assert row is not None
        row.app_id = "wx-someone-else"
        await uow.commit()
    await earlier_messages(db, ids, [Sent("X-cooldown", NOW - timedelta(days=20))])
    await configure(db, WINBACK, enabled=True, holdout_pct=0)
    return ids


async def test_dry_run_reports_the_run_and_changes_nothing(db: Database, tmp_path: Path) -> None:
    ids = await _world(db)
    env = cli_env(str(db.engine.url.render_as_string(hide_password=False)))
    before = await row_counts(db)

    code, out, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", "衰退客户挽回", "--dry-run", "--now", AT
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:6] == [
        "活动预览：衰退客户挽回（winback_declining）· 2024-06-04 10:00 · 只是预览，不发放、不发送",
        "目标客户 11 人：发送 7，活动对照组 0，全局对照组 0，排除 4",
        "排除原因：已退订 1，冷却期内 1，超过频次上限 0，企业微信本月群发次数已满 0，无法触达 2",
        "发送渠道：企业微信 3，公众号 1，飞书 1，模拟器 2",
        "阶段与分级：依据 2024-06-04 的生命周期结果",
        "示例消息（姓名已打码）：",
    ]
    # The first three treatment customers by id: the message the delivery worker will send,
    # rendered the same way (coupon terms, last day, link), with the name masked for staff.
    assert lines[6:8] == [
        "1. [模拟器] 张*：张*您好，好久不见！送您一张老客回馈券 ¥30（满¥100.00可用），"
        "2024年6月18日前有效，下单时自动可用。http://127.0.0.1:8080",
        "\u3000\u3000回复“退订”即不再接收优惠消息。",
    ]
    assert lines[8].startswith("2. [飞书] 李*：李*您好，")
    assert lines[10].startswith("3. [公众号] 王*：王*您好，")
    assert await row_counts(db) == before

    code, out, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", "winback_declining", "--now", AT
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[1:4] == lines[1:4]
    assert "已发放优惠券 7 张，7 条消息已排队" in out

    routed = {
        d.customer_id: (d.platform, d.route, d.recipient, d.sender, d.status)
        for d in await deliveries(db)
        if d.status == "queued"  # not the earlier message
    }
    assert routed == {
        ids["T-console"]: ("console", "console", "c-zhang", None, "queued"),
        ids["T-feishu"]: ("feishu", "feishu", "ou-li", None, "queued"),
        ids["T-wechat"]: ("wechat", "wechat_cs", "o-wang", None, "queued"),
        ids["T-wecom-follower"]: ("wecom", "wecom_task", "wm-1", "lisi", "queued"),
        ids["T-wecom-owner"]: ("wecom", "wecom_task", "wm-2", "wangwu", "queued"),
        ids["T-wecom-owner-2"]: ("wecom", "wecom_task", "wm-4", "zhaoliu", "queued"),
        ids["T-fallback"]: ("console", "console", "c-fallback", None, "queued"),
    }
    async with db.uow() as uow:
        s = uow.session
        [run] = (await s.scalars(select(CampaignRun).where(CampaignRun.status == "done"))).all()
        members = {
            m.customer_id: (m.arm, m.reason, m.stage, m.coupon_id)
            for m in await s.scalars(select(CampaignMember).where(CampaignMember.run_id == run.id))
        }
        coupons = {c.id: c for c in await s.scalars(select(Coupon))}
        sent = (await s.scalars(select(Delivery).where(Delivery.run_id == run.id))).all()
    assert (run.audience, run.treatment, run.holdout, run.control) == (11, 7, 0, 0)
    assert run.slot == NOW and run.finished_at is not None
    assert run.excluded == {
        "opted_out": 1,
        "cooldown": 1,
        "frequency_cap": 0,
        "monthly_limit": 0,
        "unreachable": 2,
    }
    reasons = {ext: members[ids[ext]][:2] for ext in ("X-opted-out", "X-no-identity")}
    assert reasons == {
        "X-opted-out": ("excluded", "opted_out"),
        "X-no-identity": ("excluded", "unreachable"),
    }
    assert members[ids["X-other-app"]][:2] == ("excluded", "unreachable")
    assert members[ids["X-cooldown"]][:2] == ("excluded", "cooldown")
    assert ids["X-churned"] not in members and ids["X-closed"] not in members
    for delivery in sent:  # each treatment member: one coupon of the campaign's template
        arm, _, stage, coupon_id = members[delivery.customer_id]
        assert (arm, stage) == ("treatment", "declining")
        assert coupon_id is not None
        coupon = coupons[coupon_id]
        assert (coupon.customer_id, coupon.source, coupon.value_fen) == (
            delivery.customer_id,
            "campaign",
            3000,
        )
        assert coupon.expires_at == NOW + timedelta(days=14)
        assert delivery.body == {"coupon_code": coupon.code}
        assert delivery.next_attempt_at == NOW
        assert delivery.deadline_at == NOW + timedelta(hours=48)
    assert len(coupons) == 7
    assert all(m[3] is None for m in members.values() if m[0] != "treatment")

    # The same slot again (a retry, a second process): reported, nothing new.
    counts = await row_counts(db)
    code, out, _ = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", WINBACK, "--now", AT
    )
    assert (code, out) == (
        0,
        "活动 衰退客户挽回（winback_declining）在 2024-06-04 10:00 这个时间点已经运行过，"
        "没有重复运行。\n",
    )
    assert await row_counts(db) == counts
    assert await count(db, CampaignRun) == 2  # the earlier message's run and this one


LATE_JUNE = NOW + timedelta(days=24)  # Friday 28 June, 10:00 local


async def test_cooldown_frequency_cap_and_the_wecom_monthly_limit(
    db: Database, tmp_path: Path
) -> None:
    def wechat(ext: str, **kw: object) -> Person:
        return Person(ext, ids=(("wechat", f"o-{ext}", None),), **kw)  # type: ignore[arg-type]

    def wecom(ext: str, **kw: object) -> Person:
        ids = (("wecom", f"wm-{ext}", None),)
        return Person(ext, ids=ids, follows=("lisi",), **kw)  # type: ignore[arg-type]

    people = [
        wechat("cool"),
        wechat("cool-queued"),
        wechat("dead"),
        wechat("skipped"),
        wechat("cap"),
        wechat("cap-by-send-time"),
        wechat("one"),
        wecom("limit"),
        wecom("limit-pending"),
        wecom("may"),
        wecom("three"),
        Person(
            "prefers-wechat",
            preferred="wechat",
            ids=(("wecom", "wm-p", None), ("wechat", "o-p", None)),
            follows=("lisi",),
        ),
    ]
    ids = await seed(db, people)

    def ago(ext: str, days: float, **kw: object) -> Sent:
        at = LATE_JUNE - timedelta(days=days)
        return Sent(ext, at, sent=kw.pop("sent", at), **kw)  # type: ignore[arg-type]

    def june(ext: str, day: int, **kw: object) -> Sent:
        at = LATE_JUNE.replace(day=day)
        return Sent(ext, at, route="wecom_task", sent=kw.pop("sent", at), **kw)  # type: ignore[arg-type]

    await earlier_messages(
        db,
        ids,
        [
            ago("cool", 2),
            ago("cool-queued", 1, status="queued", sent=None),
            ago("dead", 1, status="dead", sent=None),
            ago("skipped", 1, status="skipped", sent=None),
            ago("cap", 5),
            ago("cap", 6),
            Sent(
                "cap-by-send-time",
                LATE_JUNE - timedelta(days=10),
                sent=LATE_JUNE - timedelta(days=5),
            ),
            ago("cap-by-send-time", 6),
            ago("one", 5),
            *(june("limit", d) for d in (1, 5, 10, 15)),
            *(june("limit-pending", d) for d in (3, 9, 12)),
            Sent(
                "limit-pending",
                NOW.replace(day=1) - timedelta(days=4),
                route="wecom_task",
                status="waiting_staff",
            ),
            *(
                Sent(
                    "may",
                    NOW.replace(month=5, day=d),
                    route="wecom_task",
                    sent=NOW.replace(month=5, day=d),
                )
                for d in (20, 22, 24, 26)
            ),
            *(june("three", d) for d in (1, 5, 10)),
            *(june("prefers-wechat", d) for d in (1, 5, 10, 15)),
        ],
    )
    await configure(db, WINBACK, enabled=True, holdout_pct=0, cooldown_days=3)
    env = cli_env(db.engine.url.render_as_string(hide_password=False))

    code, out, err = await asyncio.to_thread(
        fission, tmp_path, env, "campaign", "run", WINBACK, "--now", "2024-06-28T10:00"
    )
    assert (code, err) == (0, ""), out
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(CampaignMember.customer_id, CampaignMember.arm, CampaignMember.reason)
        )
        verdicts = {customer: reason or arm for customer, arm, reason in rows.all()}
    by_ext = {ext: verdicts[customer] for ext, customer in ids.items()}
    assert by_ext == {
        "cool": "cooldown",
        "cool-queued": "cooldown",  # queued, about to go out: it counts
        "dead": "treatment",  # never delivered: does not count
        "skipped": "treatment",
        "cap": "frequency_cap",  # 2 in the last 7 days
        "cap-by-send-time": "frequency_cap",  # queued 10 days ago but sent 5 days ago
        "one": "treatment",
        "limit": "monthly_limit",  # 4 WeCom mass messages this calendar month
        "limit-pending": "monthly_limit",  # 3 sent + 1 still waiting for staff
        "may": "treatment",  # last month's do not count
        "three": "treatment",
        "prefers-wechat": "treatment",  # routed to the Official Account: no WeCom limit
    }
    assert (
        "排除原因：已退订 0，冷却期内 2，超过频次上限 2，企业微信本月群发次数已满 2，无法触达 0"
        in out
    )


async def test_control_group_and_holdout_are_the_same_customers_every_run(
    db: Database, tmp_path: Path
) -> None:
    """Control: 5% of all customers by id, for every campaign and run; holdout: the campaign's
    10%, the same for each of its runs; neither ever gets a message."""
    people = [
        Person(f"D{n:03d}", stage="declining" if n % 2 else "churned", ids=(console(f"c{n}"),))
        for n in range(300)
    ]
    ids = await seed(db, people)
    await configure(db, WINBACK, enabled=True, cooldown_days=0)
    await configure(db, "comeback_churned", enabled=True, cooldown_days=0)
    env = cli_env(db.engine.url.render_as_string(hide_password=False), control_pct=5)
    env["FISSION_MARKETING__MAX_MESSAGES"] = "10"
    for key, at in (
        (WINBACK, "2024-06-04T10:00"),
        (WINBACK, "2024-06-11T10:00"),
        ("comeback_churned", "2024-07-01T10:00"),
    ):
        code, out, err = await asyncio.to_thread(
            fission, tmp_path, env, "campaign", "run", key, "--now", at
        )
        assert (code, err) == (0, ""), out

    async with db.uow() as uow:
        rows = (
            await uow.session.execute(
                select(
                    CampaignRun.slot,
                    CampaignRun.campaign_id,
                    CampaignMember.customer_id,
                    CampaignMember.arm,
                ).join(CampaignRun, CampaignRun.id == CampaignMember.run_id)
            )
        ).all()
        delivered = set(await uow.session.scalars(select(Delivery.customer_id)))
        winback_id = rows[0].campaign_id
    control = {n for n in ids.values() if reference_hash(n) % 100 < 5}
    holdout = {n for n in ids.values() if (reference_hash(n) // 100 + winback_id * 37) % 100 < 10}
    by_run: dict[object, dict[str, set[int]]] = {}
    for slot, _, customer, arm in rows:
        by_run.setdefault(slot, {}).setdefault(arm, set()).add(customer)
    declining = {ids[p.ext] for p in people if p.stage == "declining"}
    churned = {ids[p.ext] for p in people if p.stage == "churned"}
    first, second, comeback = (by_run[slot] for slot in sorted(by_run))
    assert first["control"] == second["control"] == control & declining
    assert comeback["control"] == control & churned
    assert first["holdout"] == second["holdout"] == (holdout & declining) - control
    assert first["treatment"] == second["treatment"] == declining - control - holdout
    assert not delivered & (control | first["holdout"])
    assert 3 <= len(control) <= 27  # about 5% of 300
