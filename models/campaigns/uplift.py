"""How sure the campaign report can be of an uplift: a 95% interval for a difference of two
conversion rates, in pure Python.

The interval is Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the
difference between independent proportions", method 10): each arm's rate gets its Wilson score
interval, and the two are combined into one for the difference. Not the textbook Wald interval
`d ± z·√(p₁q₁/n₁ + p₂q₂/n₂)`, because campaign conversion rates are small (a few per cent) and
the holdout and control arms are a tenth or a twentieth of the treatment arm: there Wald's
interval is too narrow, and when an arm has no conversion at all it collapses to a width of zero
— it would call a 5-in-56 against 0-in-29 result significant, where Newcombe's interval
(−3.8 to +19.3 points) rightly says it is not. Newcombe's interval keeps close to its stated 95%
coverage at these sizes, never leaves [−1, 1], and needs only a square root.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist

# Two-sided 95%: the 97.5th percentile of the standard normal distribution (1.959964…).
Z95 = NormalDist().inv_cdf(0.975)


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion `successes / trials` (trials > 0)."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0: {successes}/{trials}")
    z2 = z * z
    denominator = trials + z2
    centre = (successes + z2 / 2) / denominator
    half = z * sqrt(successes * (trials - successes) / trials + z2 / 4) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Uplift:
    """Rate of arm 1 minus rate of arm 2, with its 95% interval (all as fractions: 0.034 is
    3.4 percentage points)."""

    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """False while the interval still holds zero: the data cannot yet tell the campaign
        apart from doing nothing (尚不显著)."""
        return self.low > 0 or self.high < 0


def newcombe_uplift(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Uplift | None:
    """x1/n1 − x2/n2 with Newcombe's hybrid score interval; None when an arm is empty."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, z)
    l2, u2 = wilson_interval(x2, n2, z)
    difference = p1 - p2
    low = difference - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Uplift(difference, max(-1.0, low), min(1.0, high))
