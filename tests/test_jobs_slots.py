"""Which slot is due at a moment: crontab lines and intervals on fixed local times."""

from __future__ import annotations

import pytest
from jobs_world import at

from config import load_settings
from config.settings import ConfigError
from jobs.tasks import latest_slot, lifecycle_trigger, settle_trigger


def test_nightly_slot_is_the_last_2am_before_now() -> None:
    trigger = lifecycle_trigger(load_settings(timezone="Asia/Shanghai"))
    assert latest_slot(trigger, at(2026, 3, 10, 10, 30)) == at(2026, 3, 10, 2)
    assert latest_slot(trigger, at(2026, 3, 10, 2)) == at(2026, 3, 10, 2)
    assert latest_slot(trigger, at(2026, 3, 10, 1, 59)) == at(2026, 3, 9, 2)


def test_interval_slots_sit_on_fixed_local_times() -> None:
    hourly = settle_trigger(load_settings(timezone="Asia/Shanghai"))
    assert latest_slot(hourly, at(2026, 3, 10, 10, 59)) == at(2026, 3, 10, 10)
    every_45 = settle_trigger(
        load_settings(timezone="Asia/Shanghai", scheduler={"settle_interval_minutes": 45})
    )
    # 10:30 is 630 minutes = 14 × 45 after local midnight.
    assert latest_slot(every_45, at(2026, 3, 10, 10, 30)) == at(2026, 3, 10, 10, 30)
    assert latest_slot(every_45, at(2026, 3, 10, 10, 29)) == at(2026, 3, 10, 9, 45)


def test_weekly_cron_looks_back_far_enough() -> None:
    weekly = lifecycle_trigger(
        load_settings(timezone="Asia/Shanghai", scheduler={"lifecycle_cron": "0 3 * * mon"})
    )
    # 2026-03-10 is a Tuesday; the Monday before is the 9th.
    assert latest_slot(weekly, at(2026, 3, 10, 10)) == at(2026, 3, 9, 3)


def test_a_bad_crontab_line_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match=r"scheduler\.lifecycle_cron"):
        load_settings(scheduler={"lifecycle_cron": "every night"})
