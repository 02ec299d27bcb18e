"""Rule thresholds for lifecycle stages and A/B/C grades (DESIGN.md §2.1–2.2).

Every number the classifier uses lives here with its documented default, so an operator can
change it in `fission.toml` (`[lifecycle]`, `[grading]`) or by environment
(`FISSION_LIFECYCLE__CHURNED_AFTER_DAYS=120`) without touching code.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class LifecycleRules(BaseModel):
    """Thresholds of DESIGN.md §2.1; names say which rule they feed."""

    # churned: has ordered and age(last order) > churned_after_days
    churned_after_days: int = Field(90, ge=1)
    # prospect: interest signals that make a lead "qualified"
    qualified_min_views: int = Field(3, ge=1)
    qualified_window_days: int = Field(30, ge=1)
    # declining
    declining_after_days: int = Field(60, ge=1)
    usage_drop_ratio: float = Field(0.5, gt=0, le=1)
    usage_min_previous: int = Field(4, ge=1)
    support_drop_ratio: float = Field(0.3, gt=0, le=1)
    support_min_previous: int = Field(3, ge=1)
    # the three 30-day windows the rules look at
    window_days: int = Field(30, ge=1)
    # mature: at least `mature_min_signals` of: no lapse, top revenue share, converted referral
    mature_min_signals: int = Field(2, ge=1, le=3)
    mature_top_revenue_share: float = Field(0.2, gt=0, le=1)
    mature_min_referrals: int = Field(1, ge=1)
    # growing
    growing_min_repeat_orders: int = Field(2, ge=1)
    growing_repeat_aov_ratio: float = Field(1.2, gt=0)
    growing_min_core_features: int = Field(3, ge=1)
    # new: age(first order) <= new_within_days
    new_within_days: int = Field(30, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleRules:
        if self.declining_after_days > self.churned_after_days:
            raise ValueError(
                "declining_after_days must not exceed churned_after_days "
                f"({self.declining_after_days} > {self.churned_after_days})"
            )
        return self


class GradingRules(BaseModel):
    """A/B/C grading of DESIGN.md §2.2.

    `mode = "percentile"` (default): each metric becomes a percentile rank among customers with
    an order, the score is their weighted mean, A = top `a_share`, B = next `b_share`.
    `mode = "thresholds"`: A when every A threshold is met, else B when every B threshold is met.
    """

    mode: str = Field("percentile", pattern="^(percentile|thresholds)$")
    frequency_window_days: int = Field(365, ge=1)
    weight_frequency: float = Field(1.0, ge=0)
    weight_aov: float = Field(1.0, ge=0)
    weight_ltv: float = Field(1.0, ge=0)
    a_share: float = Field(0.2, gt=0, lt=1)
    b_share: float = Field(0.3, gt=0, lt=1)
    # fixed thresholds (mode = "thresholds"); money in fen
    a_min_orders: int = Field(12, ge=0)
    a_min_aov_fen: int = Field(0, ge=0)
    a_min_ltv_fen: int = Field(0, ge=0)
    b_min_orders: int = Field(4, ge=0)
    b_min_aov_fen: int = Field(0, ge=0)
    b_min_ltv_fen: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _shares(self) -> GradingRules:
        if self.a_share + self.b_share >= 1:
            raise ValueError("a_share + b_share must be below 1 (C needs a share too)")
        if self.weight_frequency + self.weight_aov + self.weight_ltv <= 0:
            raise ValueError("at least one grading weight must be positive")
        return self
