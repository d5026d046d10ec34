"""The simulation's progress bar counts virtual days and ends full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wfnb.simulation import build_demo
from wfnb.simulation.progress import DayProgress

START = datetime(2026, 5, 1, tzinfo=UTC)


def test_a_demo_split_at_the_config_switch_ends_its_one_bar_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_demo(f"sqlite:///{tmp_path / 'demo.db'}", users=10, months=2, progress=True)
    bars = capsys.readouterr().err
    final = bars.replace("\r", "\n").strip().splitlines()[-1]
    assert "61/61" in final  # May 1 to July 1: one bar over both runs, full at the end
    assert "/30" not in bars  # not a bar per run (30 days after the switch)


def test_the_bar_counts_whole_days_and_reaches_its_total_at_the_end() -> None:
    days = DayProgress(START, START + timedelta(days=184), enabled=False)
    days.to(START + timedelta(days=3, hours=23))
    assert days.done == 3
    days.to(START + timedelta(days=183, hours=12))  # the last event, before the end
    assert days.done == 183
    days.to(START + timedelta(days=184))
    assert (days.done, days.total) == (184, 184)
    days.to(START + timedelta(days=1))  # never backwards
    assert days.done == 184
