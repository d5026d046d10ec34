"""Conformance judges timers at a stated moment: the data's own end for the demo, or ``--now``.

On the demo (a simulated dataset that stopped at its virtual clock's end), judging at the
wall clock calls every waiting timer "never fired"; the default is the last history row,
the CLI and the report take ``--now``, and every output says which moment and why, and
what fitness counts (rows) beside what the entity findings count (entities).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.analysis.conformance import conformance, judging_moment
from wfnb.cli import main
from wfnb.exceptions import WfnbUsageError
from wfnb.validation import load_workflows


def _last(url: str) -> datetime:
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            last = conn.execute(sa.text("SELECT max(changed_at) FROM workflow_history")).scalar()
    finally:
        db.dispose()
    value = datetime.fromisoformat(last) if isinstance(last, str) else last
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_demo_is_judged_at_its_last_history_row_by_default(demo_url: str) -> None:
    wfs = load_workflows([WORKFLOWS])
    k = conformance(demo_url, wfs)
    assert k.now == _last(demo_url)
    assert k.now_source == "the last history row, as this is a simulated dataset"
    assert "timer_overdue" not in k.counts()
    at_wall = conformance(demo_url, wfs, now="wall")
    assert at_wall.now_source == "the wall clock"
    assert at_wall.counts().get("timer_overdue", 0) > 0  # what the wall clock wrongly reports
    assert at_wall.fitness == k.fitness  # fitness counts rows: the moment does not change it


def test_a_database_that_is_not_a_simulation_is_judged_at_the_wall_clock(
    sqlite_url: str,
) -> None:
    from wfnb import testing
    from wfnb.engine import Engine

    wf = testing.make_workflow()
    engine = Engine([wf], sqlite_url)
    engine.install()
    before = datetime.now(UTC)
    moment, why = judging_moment(sqlite_url, ["ticket"])
    assert why == "the wall clock"
    assert moment >= before
    engine.dispose()


def test_now_words_other_than_end_and_wall_are_a_usage_error(demo_url: str) -> None:
    with pytest.raises(WfnbUsageError, match="'end' or 'wall'"):
        judging_moment(demo_url, ["invoice"], "tomorrow")


def test_the_cli_conformance_takes_now_and_says_what_it_judged(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", "--db", demo_url, str(WORKFLOWS)]) == 1  # planted updates
    out = capsys.readouterr().out
    assert "timer_overdue" not in out
    assert "judged at" in out
    assert "(the last history row, as this is a simulated dataset)" in out
    assert "history rows follow the config in force" in out
    assert "entities that are where the config says they should not be" in out
    main(["conformance", "--db", demo_url, str(WORKFLOWS), "--now", "wall"])
    assert "timer_overdue" in capsys.readouterr().out
    code = main(
        ["conformance", "--db", demo_url, str(WORKFLOWS), "--now", "2026-06-01", "--format",
         "json"]
    )  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    assert payload["judged_at"] == "2026-06-01T00:00:00+00:00"
    assert payload["judged_at_source"] == "as asked"


def test_a_bad_now_is_one_usage_line(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--db", demo_url, str(WORKFLOWS), "--now", "soon"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "WF4" in err[0]
    assert "--now" in err[0]


def test_the_cli_report_takes_now(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "r.html"
    args = ["report", str(WORKFLOWS), "--db", demo_url, "-o", str(target)]
    assert main(args) == 0
    text = target.read_text(encoding="utf-8")
    assert "(the last history row, as this is a simulated dataset)" in text
    assert "timer_overdue" not in text
    assert main([*args, "--now", "2026-06-01T12:00"]) == 0
    assert "judged at <b>2026-06-01 12:00 UTC, the moment you asked for</b>" in target.read_text()
    capsys.readouterr()
