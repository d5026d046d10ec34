"""``str(SimulationReport)`` (what ``wfnb demo`` prints) is readable lines, never a dict repr."""

from __future__ import annotations

from datetime import UTC, datetime

from wfnb.simulation.report import SimulationReport


def _report(**overrides: object) -> SimulationReport:
    values: dict[str, object] = {
        "seed": 7,
        "start": datetime(2026, 1, 1, tzinfo=UTC),
        "until": datetime(2026, 7, 1, tzinfo=UTC),
        "created": {"invoice": 1200, "user_registration": 300},
        "transitions": {("invoice", "transitioned"): 5},
        "failures": {("invoice", "WF205"): 1, ("user_registration", "WF204"): 12},
        "timers_fired": 3,
        "timers_stale": 1,
        "permanent_failures": 2,
        "calls": 10,
        "history_rows": 20,
        "wall_seconds": 1.5,
        "correlation_prefix": "sim-7",
    }
    return SimulationReport(**{**values, **overrides})  # type: ignore[arg-type]


def test_the_demo_summary_prints_failures_and_counts_as_lines() -> None:
    text = str(_report())
    assert "{" not in text
    assert "'" not in text
    lines = text.splitlines()
    at = lines.index("failures (workflow, error code):")
    assert lines[at + 1].split() == ["invoice", "WF205", "1"]
    assert lines[at + 2].split() == ["user_registration", "WF204", "12"]
    assert lines[lines.index("created:") + 1].split() == ["invoice", "1,200"]
    assert "seed: 7" in lines


def test_no_failures_reads_none() -> None:
    assert "failures (workflow, error code): none" in str(_report(failures={}))
