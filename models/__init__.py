"""Tables and domain services. No network and no aiohttp in this package."""

from models.activity import ActivityEvent, Order
from models.base import Base
from models.campaigns.tables import (
    Campaign,
    CampaignMember,
    CampaignRun,
    Delivery,
    RateBudget,
    WecomMassTask,
)
from models.campaigns.wecom_tables import WecomTaskDelivery
from models.channels import InboundEvent, OutboundMessage, PlatformToken
from models.customer import Customer, CustomerIdentity, CustomerTag
from models.job_runs import JobRun
from models.referral.reward_tables import Coupon, CouponTemplate, Reward, RewardLedgerEntry
from models.referral.tables import Invitation, ReferralClick, ReferralCode, ReferralProgram
from models.staff import FollowUp, Staff, StaffIdentity
from models.stages import CustomerGrade, LifecycleRun, StageAssignment, StageTransition
from models.wecom_follows import WecomFollow

__all__ = [
    "ActivityEvent",
    "Base",
    "Campaign",
    "CampaignMember",
    "CampaignRun",
    "Coupon",
    "CouponTemplate",
    "Customer",
    "CustomerGrade",
    "CustomerIdentity",
    "CustomerTag",
    "Delivery",
    "FollowUp",
    "InboundEvent",
    "Invitation",
    "JobRun",
    "LifecycleRun",
    "Order",
    "OutboundMessage",
    "PlatformToken",
    "RateBudget",
    "ReferralClick",
    "ReferralCode",
    "ReferralProgram",
    "Reward",
    "RewardLedgerEntry",
    "Staff",
    "StaffIdentity",
    "StageAssignment",
    "StageTransition",
    "WecomFollow",
    "WecomMassTask",
    "WecomTaskDelivery",
]
