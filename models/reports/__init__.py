"""Referral reports computed from data (seed 000 §6, DESIGN.md §2.3): the 裂变管理表格 per
customer type, the funnel and K-factor per program/channel/customer type, the leaderboard and a
customer's fission tree. Every query is set-based; personal data leaves here masked.

Functions take an `AsyncSession` (read-only; they never commit) so the CLI, chat commands and
the HTTP API can call them inside their own unit of work.
"""

from models.reports.export import to_csv, to_text, to_xlsx
from models.reports.funnel import FunnelReport, FunnelRow, referral_funnel
from models.reports.inviters import InviterRow, top_inviters
from models.reports.referral_table import ReferralTable, ReferralTableRow, referral_table
from models.reports.segments import ReportPeriod
from models.reports.sheets import Column, Sheet, funnel_sheet, inviters_sheet, referral_table_sheet
from models.reports.tree import FissionTree, TreeNode, TreeRootNotFound, fission_tree
from models.reports.tree_text import render_tree_text

__all__ = [
    "Column",
    "FissionTree",
    "FunnelReport",
    "FunnelRow",
    "InviterRow",
    "ReferralTable",
    "ReferralTableRow",
    "ReportPeriod",
    "Sheet",
    "TreeNode",
    "TreeRootNotFound",
    "fission_tree",
    "funnel_sheet",
    "inviters_sheet",
    "referral_funnel",
    "referral_table",
    "referral_table_sheet",
    "render_tree_text",
    "to_csv",
    "to_text",
    "to_xlsx",
    "top_inviters",
]
