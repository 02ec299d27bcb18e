"""Settings of the referral reports (`[reports]` in fission.toml, or `FISSION_REPORTS__…`).

The segment thresholds follow DESIGN.md §2.2: a customer is *new* when their first paid order
is at most `new_within_days` old (or they have none yet), *active* when they ordered within the
last `active_within_days` days. High value = grade A/B is fixed by the grading itself.

`goals` overrides the 裂变目标 shown per segment; a segment left out keeps its default (seed 000's
phrasing: 新客户 → 增加客户数量, 沉睡客户 → 提高客户活跃度, …).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

# The six customer types of seed 000's 裂变管理表格, plus the whole population.
SEGMENT_KEYS = ("new", "returning", "high", "low", "active", "dormant")


class ReferralReportRules(BaseModel):
    new_within_days: int = Field(30, ge=0)
    active_within_days: int = Field(60, ge=1)
    goals: dict[str, str] = Field(default_factory=dict)

    @field_validator("goals")
    @classmethod
    def _known_segments(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {*SEGMENT_KEYS, "all"})
        if unknown:
            raise ValueError(
                f"unknown segment(s) {', '.join(unknown)}; use {', '.join(SEGMENT_KEYS)} or all"
            )
        blank = sorted(key for key, text in value.items() if not text.strip())
        if blank:
            raise ValueError(f"empty goal for {', '.join(blank)}")
        return value
