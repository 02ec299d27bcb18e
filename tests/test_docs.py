"""The documentation a clone of the repository carries: README.md and docs/ link only to files
that exist in the repository, and the settings docs/design.md names are real settings."""

from __future__ import annotations

import re
from pathlib import Path

from config.referral import FraudRules, ProgramConfig, Segment
from config.reports import ReferralReportRules
from config.rules import GradingRules, LifecycleRules

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# `[name]` or `[name, other]` after a rule: the setting that holds its threshold.
_SETTING = re.compile(r"\[((?:`\w+`(?:, | \+ )?)+)")


def test_the_docs_exist_and_the_readme_links_the_design() -> None:
    assert (ROOT / "docs" / "design.md").is_file()
    assert "](docs/design.md)" in (ROOT / "README.md").read_text("utf-8")


def test_no_doc_carries_an_unresolved_merge() -> None:
    for doc in DOCS:
        markers = [
            n
            for n, line in enumerate(doc.read_text("utf-8").splitlines(), 1)
            if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "======="
        ]
        assert markers == [], (doc.name, markers)


def test_no_doc_points_outside_the_repository() -> None:
    for doc in DOCS:
        text = doc.read_text("utf-8")
        assert "../shared" not in text and "shared/DESIGN" not in text, doc.name
        for target in _LINK.findall(text):
            if re.match(r"^[a-z]+://", target):
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), (doc.name, target)
            assert path.exists(), (doc.name, target)


def test_the_settings_the_design_names_exist() -> None:
    known = {
        *LifecycleRules.model_fields,
        *GradingRules.model_fields,
        *Segment.model_fields,
        *FraudRules.model_fields,
        *ProgramConfig.model_fields,
        *ReferralReportRules.model_fields,
    }
    named = {
        name
        for group in _SETTING.findall((ROOT / "docs" / "design.md").read_text("utf-8"))
        for name in re.findall(r"`(\w+)`", group)
    }
    assert len(named) > 20
    assert named <= known, sorted(named - known)


def test_the_lifecycle_defaults_in_the_design_are_the_code_defaults() -> None:
    text = (ROOT / "docs" / "design.md").read_text("utf-8")
    rules = LifecycleRules()
    assert f"`age(last order) > {rules.churned_after_days}` [`churned_after_days`]" in text
    assert f"`age(last order) >= {rules.declining_after_days}` [`declining_after_days`]" in text
    assert f"`age(first order) <= {rules.new_within_days}` [`new_within_days`]" in text
    grading = GradingRules()
    assert f"fewer than {round(grading.a_share * 100)} % [`a_share`]" in text
