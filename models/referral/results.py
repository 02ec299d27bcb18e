"""What the attribution and review services answer: outcome names a caller can map to a
reply or an HTTP status, plus the rows involved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models.referral.reward_tables import Reward
from models.referral.tables import Invitation, ReferralCode, ReferralProgram

JoinOutcome = Literal["joined", "already_joined", "rejected", "unknown_code"]
ConversionOutcome = Literal[
    "converted", "under_review", "rejected", "already_converted", "not_attributed", "not_paid"
]
RefundOutcome = Literal["revoked", "settled", "already_revoked", "not_converting"]


@dataclass(frozen=True)
class ClickResult:
    code: ReferralCode
    program: ReferralProgram
    counted: bool  # False: this visitor already clicked this code today


@dataclass(frozen=True)
class JoinResult:
    outcome: JoinOutcome
    invitation: Invitation | None = None
    reason: str | None = None  # the reject reason when outcome == "rejected"


@dataclass(frozen=True)
class ConversionResult:
    outcome: ConversionOutcome
    invitation: Invitation | None = None
    reason: str | None = None
    rewards: tuple[Reward, ...] = ()
    signals: tuple[str, ...] = ()  # fraud signals when outcome == "under_review"


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    invitation: Invitation | None = None
    revoked_reward_ids: tuple[int, ...] = field(default_factory=tuple)


ReviewOutcome = Literal["approved", "denied", "rejected", "refused", "not_pending", "unknown"]


@dataclass(frozen=True)
class ReviewResult:
    outcome: ReviewOutcome
    invitation: Invitation | None = None
    reason: str | None = None  # e.g. budget_exhausted when an approval finds the budget spent
    rewards: tuple[Reward, ...] = ()
