"""The referral engine: programs, personal codes, attribution, rewards.

Every service takes the caller's `AsyncSession` (inside `db.uow()`) and a `now`, and never
commits. Modules: tables / reward_tables (schema), codes (personal codes), segments (who is
eligible for which program), attribution + conversion (clicks, joins, conversion, refunds),
checks + fraud (rejection rules, review signals), rewards + ledger (grants, revocations,
balances), coupons, review (staff queue), settle (the settle step), sync (programs from
fission.toml), queries (read models).
"""

from models.referral.attribution import (
    attributed_invitation,
    on_order_paid,
    on_order_refunded,
    record_click,
    record_join,
)
from models.referral.codes import (
    IssuedCode,
    NoCode,
    find_code,
    get_or_create_code,
    issue_code,
    normalize_code,
)
from models.referral.coupons import (
    CouponView,
    RedeemResult,
    expire_coupons,
    issue_coupon,
    redeem_coupon,
    revoke_coupon,
    template_by_key,
)
from models.referral.ledger import Balances, balances
from models.referral.programs import ProgramRules, is_live, live_programs, program_rules
from models.referral.queries import (
    CodeStats,
    InvitationView,
    ReviewItem,
    RewardsSummary,
    RewardView,
    code_stats,
    review_queue,
    rewards_summary,
)
from models.referral.results import (
    ClickResult,
    ConversionResult,
    JoinResult,
    RefundResult,
    ReviewResult,
)
from models.referral.review import approve_review, deny_review
from models.referral.segments import eligible_program
from models.referral.settle import SettleReport, settle_due_rewards
from models.referral.sync import ProgramConfigError, SyncReport, sync_programs

__all__ = [
    "Balances",
    "ClickResult",
    "CodeStats",
    "ConversionResult",
    "CouponView",
    "InvitationView",
    "IssuedCode",
    "JoinResult",
    "NoCode",
    "ProgramConfigError",
    "ProgramRules",
    "RedeemResult",
    "RefundResult",
    "ReviewItem",
    "ReviewResult",
    "RewardView",
    "RewardsSummary",
    "SettleReport",
    "SyncReport",
    "approve_review",
    "attributed_invitation",
    "balances",
    "code_stats",
    "deny_review",
    "eligible_program",
    "expire_coupons",
    "find_code",
    "get_or_create_code",
    "is_live",
    "issue_code",
    "issue_coupon",
    "live_programs",
    "normalize_code",
    "on_order_paid",
    "on_order_refunded",
    "program_rules",
    "record_click",
    "record_join",
    "redeem_coupon",
    "review_queue",
    "revoke_coupon",
    "rewards_summary",
    "settle_due_rewards",
    "sync_programs",
    "template_by_key",
]
