"""Durations read as words (QA: "P14D", "PT5M", "P1M" in the report, timers and diagrams).

One helper (``wfnb.durations``) serves the report, diagram labels, conformance details
and the explorer's timers table; HTML keeps the ISO value on hover. ``dwell_plot`` draws
days when stays run past 72 hours.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import WORKFLOWS
from wfnb import plots, testing
from wfnb.analysis import diagram
from wfnb.analysis.report import report
from wfnb.durations import duration_html, duration_words
from wfnb.engine import Engine
from wfnb.jupyter.explorer import status_panel
from wfnb.timers import VirtualClock
from wfnb.validation import load_workflows


@pytest.mark.parametrize(
    ("iso", "words"),
    [("P14D", "14 d"), ("PT5M", "5 min"), ("P1M", "1 month"), ("P2M", "2 months"),
     ("P1Y2M3D", "1 year 2 months 3 d"), ("P1DT12H", "1 d 12 h"), ("P2W", "14 d"),
     ("PT90S", "1 min 30 s"), ("nonsense", "nonsense")],
)  # fmt: skip
def test_durations_read_as_words(iso: str, words: str) -> None:
    assert duration_words(iso) == words


def test_html_keeps_the_iso_value_on_hover() -> None:
    assert duration_html("P14D") == "<span title='P14D'>14 d</span>"


def test_the_report_shows_durations_in_words(tmp_path: Path) -> None:
    text = report(load_workflows(WORKFLOWS), tmp_path / "r.html").read_text()
    cells = re.findall(r"<td>([^<]*)</td>", text)
    assert not [c for c in cells if re.fullmatch(r"P(T?\d+[YMWDHS])+", c)]  # no bare ISO cell
    assert "<span title='P1M'>1 month</span>" in text  # billing_period's close timer
    assert "stale after <span title=" in text


def test_diagram_labels_show_durations_in_words() -> None:
    wfs = load_workflows(WORKFLOWS)
    labels = [e.label for name in wfs for e in diagram(wfs[name]).ir.edges]
    assert not [label for label in labels if re.search(r"\bP(T?\d+[YMWDHS])+\b", label)]
    assert any(label.endswith("after 30 d") for label in labels), labels


def test_a_timer_of_a_claiming_step_reads_naturally_where_it_is_drawn() -> None:
    """billing_period's close timer is drawn on closing → closed: "close after P1M at open"."""
    wf = load_workflows(WORKFLOWS)["billing_period"]
    timers = [e for e in diagram(wf).ir.edges if e.label.startswith("close (timer")]
    assert [(e.source, e.label) for e in timers] == [
        ("closing", "close (timer, 1 month after open)")
    ]


def test_the_explorer_timers_table_reads_months_too() -> None:
    wf = load_workflows(WORKFLOWS)["billing_period"]
    assert "1 month (P1M)" in status_panel(wf, "open")


def _ticket_history(url: str, gap: timedelta) -> None:
    wf = testing.make_workflow()
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    engine = Engine([wf], url, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(3):
        testing.insert_entity(engine.db, wf, f"t{i}")
        engine.execute_step("ticket", f"t{i}", "user")
        clock.advance(gap * (i + 1))
        engine.execute_step("ticket", f"t{i}", "admin", step="resolve")
    engine.dispose()


def _xlabel(chart: plots.Chart) -> str:
    return str(chart.figure.axes[0].get_xlabel())


def test_dwell_plot_draws_days_past_72_hours(db_url: str) -> None:
    _ticket_history(db_url, timedelta(days=40))  # stays of 40 to 120 days
    chart = plots.dwell_plot(db_url, "ticket")
    assert _xlabel(chart) == "days at status"
    most = max(float(max(line.get_xdata(), default=0)) for line in chart.figure.axes[0].get_lines())
    assert 110 <= most <= 130  # days, not 2,880 hours


def test_dwell_plot_keeps_hours_for_short_stays(db_url: str) -> None:
    _ticket_history(db_url, timedelta(hours=5))
    assert _xlabel(plots.dwell_plot(db_url, "ticket")) == "hours at status"
