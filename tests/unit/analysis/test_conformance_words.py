"""The conformance headline, judging moment and captions read as sentences (QA, issue 15).

The headline added 35 deviating rows to 12 entity findings ("47 deviation(s)") while the
next line said deviations count entities; numbers lacked thousands separators; "(judged at
... (as asked))" and "first 20 deviations" of 5 read badly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from wfnb.analysis.conformance import ConformanceReport
from wfnb.analysis.conformance_report import DEVIATION_COLUMNS
from wfnb.analysis.report import _conformance

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _report(row_deviations: int, overdue: int, stale: int, rows: int = 41_951) -> ConformanceReport:
    found = [
        ("invoice", f"inv_{i}", i, "undeclared_transition", "x", "h", AT)
        for i in range(row_deviations)
    ]
    found += [
        ("invoice", f"late_{i}", 10_000 + i, "timer_overdue", "x", "h", AT) for i in range(overdue)
    ]
    found += [
        ("invoice", f"stale_{i}", 20_000 + i, "stale_claim", "x", "h", AT) for i in range(stale)
    ]
    configs = pd.DataFrame(
        [("invoice", "h" * 64, "HEAD", rows, row_deviations, 1 - row_deviations / rows)],
        columns=["workflow", "config_hash", "config_rev", "rows", "deviations", "fitness"],
    )
    return ConformanceReport(
        fitness=1 - row_deviations / rows,
        rows=rows,
        deviations=pd.DataFrame(found, columns=DEVIATION_COLUMNS),
        by_config=configs,
        now=AT,
        workflows=("invoice",),
        now_source="as asked",
    )


def test_the_headline_states_rows_and_entities_apart() -> None:
    k = _report(35, 7, 5)
    assert k.headline() == (
        "35 history rows deviate (fitness 0.9992 of 41,951 rows); "
        "12 entities have findings: 5 stale claims, 7 timers overdue"
    )
    text = str(k)
    assert "47" not in text
    assert text.splitlines()[0] == f"conformance of invoice: {k.headline()}"
    assert k.headline() in k._repr_html_()


def test_the_headline_of_a_clean_history_says_so() -> None:
    assert _report(0, 0, 0, rows=1).headline() == (
        "no history row deviates (fitness 1.0000 of 1 row); no entity has findings"
    )
    assert _report(1, 0, 1, rows=2).headline() == (
        "1 history row deviates (fitness 0.5000 of 2 rows); 1 entity has findings: 1 stale claim"
    )


def test_numbers_have_thousands_separators() -> None:
    k = _report(35, 0, 0)
    assert "41,951" in k._repr_html_()
    assert "41,916 of 41,951 history rows follow" in k.explained()[0]
    assert "41,951" in _conformance(k, "invoice")


def test_a_moment_asked_for_reads_as_words() -> None:
    k = _report(0, 0, 0)
    assert k.judged_at() == "2026-11-01 00:00 UTC, the moment you asked for"
    assert "as asked" not in k._repr_html_()
    assert "as asked" not in str(k)


def test_captions_say_all_or_how_many_of_how_many() -> None:
    assert "all 5 deviations" in _report(5, 0, 0)._repr_html_()
    assert "first 20" not in _report(5, 0, 0)._repr_html_()
    assert "20 of 57 deviations" in _report(57, 0, 0)._repr_html_()
    assert "<caption>2 deviations</caption>" in _conformance(_report(2, 0, 0), "invoice")
    assert "<caption>50 of 57 deviations</caption>" in _conformance(_report(57, 0, 0), "invoice")


def test_the_explanation_agrees_in_number() -> None:
    one = _report(1, 0, 1, rows=1).explained()
    assert one[0].startswith("fitness 0.0000: 0 of 1 history row follows the config in ")
    assert "when it was written (1 row does not:" in one[0]
    assert one[1].startswith(
        "1 finding concerns 1 entity that is where the config says it should not be"
    )
    many = _report(2, 1, 2, rows=3).explained()
    assert "1 of 3 history rows follow the config in force when they were written" in many[0]
    assert "(2 rows do not:" in many[0]
    assert many[1].startswith(
        "3 findings concern 3 entities that are where the config says they should not be"
    )
