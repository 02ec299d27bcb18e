"""Tables and domain services. No network and no aiohttp in this package."""

from models.activity import ActivityEvent, Order
from models.base import Base
from models.customer import Customer, CustomerIdentity, CustomerTag
from models.referral.tables import Invitation, ReferralClick, ReferralCode, ReferralProgram
from models.staff import FollowUp, Staff, StaffIdentity
from models.stages import CustomerGrade, LifecycleRun, StageAssignment, StageTransition

__all__ = [
    "ActivityEvent",
    "Base",
    "Customer",
    "CustomerGrade",
    "CustomerIdentity",
    "CustomerTag",
    "FollowUp",
    "Invitation",
    "LifecycleRun",
    "Order",
    "ReferralClick",
    "ReferralCode",
    "ReferralProgram",
    "Staff",
    "StaffIdentity",
    "StageAssignment",
    "StageTransition",
]
