"""The per-stage playbook staff see on a customer card (seed 004, steps 4–5; DESIGN.md §2.1).

For each lifecycle stage: the goal, the key actions, the owner role, and the follow-up cadence.
It is data, not code: override any stage in `fission.toml`, e.g.

    [playbook.declining]
    goal = "识别原因，挽回流失"
    actions = ["流失原因调研（电话/问卷）", "针对性优惠", "专人跟进挽回"]
    owner = "客服主管、销售代表"
    cadence_days = 3
    cadence = "每周2次"

A stage left out keeps its default. Without a `[playbook]` section the defaults follow the
configured locale (Chinese, or English for `en`).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

STAGE_KEYS = ("prospect", "new", "growing", "mature", "declining", "churned")


class StagePlay(BaseModel):
    goal: str = Field(min_length=1)
    actions: list[str] = Field(min_length=1)
    owner: str = Field(min_length=1)
    # Days from one follow-up to the next when staff log one without a date.
    cadence_days: int = Field(ge=1, le=366)
    cadence: str = Field(min_length=1)  # the cadence in words, e.g. "每周1次"

    def next_due(self, last_on: date, promised: date | None) -> date:
        """When the next follow-up is due after one logged on `last_on`: the date promised
        then, else the cadence after it."""
        return promised or last_on + timedelta(days=self.cadence_days)


_ZH: dict[str, StagePlay] = {
    "prospect": StagePlay(
        goal="提升认知，培育意向",
        actions=["推送行业白皮书/案例", "邀请免费试用/体验", "专属销售对接"],
        owner="市场部、销售代表",
        cadence_days=7,
        cadence="每周1次",
    ),
    "new": StagePlay(
        goal="加速激活，建立信任",
        actions=["新手引导教程", "30天“上手陪伴计划”（每周1次回访）", "成功案例分享"],
        owner="客户成功专员",
        cadence_days=7,
        cadence="每周1次",
    ),
    "growing": StagePlay(
        goal="挖掘需求，提升价值",
        actions=["高级功能培训", "交叉销售/追加推荐", "客户访谈收集优化建议"],
        owner="销售经理、产品经理",
        cadence_days=30,
        cadence="每月1次",
    ),
    "mature": StagePlay(
        goal="维系关系，促进转介绍",
        actions=["VIP专属服务通道", "定制化解决方案", "老客户推荐奖励计划"],
        owner="客户成功总监",
        cadence_days=30,
        cadence="每月1次",
    ),
    "declining": StagePlay(
        goal="识别原因，挽回流失",
        actions=["流失原因调研（电话/问卷）", "针对性优惠（折扣/增值服务）", "专人跟进挽回"],
        owner="客服主管、销售代表",
        cadence_days=3,
        cadence="每周2次",
    ),
    "churned": StagePlay(
        goal="评估复用可能性，激活沉睡客户",
        actions=["3个月后推送“回归福利”", "竞品对比分析（突出自身优势）", "前客户社群运营"],
        owner="市场部、销售代表",
        cadence_days=30,
        cadence="每月1次",
    ),
}

_EN: dict[str, StagePlay] = {
    "prospect": StagePlay(
        goal="Build awareness, nurture intent",
        actions=["Send white papers / case studies", "Invite to a free trial", "Assign a rep"],
        owner="Marketing, sales reps",
        cadence_days=7,
        cadence="weekly",
    ),
    "new": StagePlay(
        goal="Activate fast, build trust",
        actions=["Onboarding guide", "30-day onboarding (a weekly call)", "Share success stories"],
        owner="Customer success",
        cadence_days=7,
        cadence="weekly",
    ),
    "growing": StagePlay(
        goal="Find needs, grow value",
        actions=["Advanced feature training", "Cross-sell / upsell", "Interview for feedback"],
        owner="Sales manager, product manager",
        cadence_days=30,
        cadence="monthly",
    ),
    "mature": StagePlay(
        goal="Keep the relationship, drive referrals",
        actions=["VIP service channel", "Tailored solutions", "Referral rewards"],
        owner="Head of customer success",
        cadence_days=30,
        cadence="monthly",
    ),
    "declining": StagePlay(
        goal="Find the cause, win them back",
        actions=["Ask why (call / survey)", "Targeted offer", "A named owner follows up"],
        owner="Support lead, sales reps",
        cadence_days=3,
        cadence="twice a week",
    ),
    "churned": StagePlay(
        goal="Judge the chance of return, reactivate",
        actions=["“Welcome back” offer after 3 months", "Competitor comparison", "Alumni group"],
        owner="Marketing, sales reps",
        cadence_days=30,
        cadence="monthly",
    ),
}


class Playbook(BaseModel):
    """Overrides per stage; `play(stage, locale)` falls back to the locale's default."""

    prospect: StagePlay | None = None
    new: StagePlay | None = None
    growing: StagePlay | None = None
    mature: StagePlay | None = None
    declining: StagePlay | None = None
    churned: StagePlay | None = None

    def play(self, stage: str, locale: str = "zh-CN") -> StagePlay | None:
        if stage not in STAGE_KEYS:
            return None
        configured: StagePlay | None = getattr(self, stage)
        if configured is not None:
            return configured
        defaults = _EN if locale.lower().startswith("en") else _ZH
        return defaults[stage]
