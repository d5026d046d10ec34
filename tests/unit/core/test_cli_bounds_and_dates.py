"""Integer options have a documented maximum and dates one strict parser (CLI and magics).

A huge ``--limit`` used to reach SQL and end in an ``OverflowError`` (WF000); a date like
``2026-06-01x10`` was read as 10:00 and ``2026-06-01+02:00`` as 02:00 UTC, silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb import testing
from wfnb.arguments import MAX_WHOLE, parse_moment
from wfnb.cli import main
from wfnb.engine import Engine
from wfnb.exceptions import WfnbUsageError
from wfnb.timers import InMemoryQueue, VirtualClock

HUGE = "99999999999999999999999"
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def hourly_db(db_url: str) -> str:
    """24 history rows, one an hour from 2026-01-01 01:00 UTC."""
    wf = testing.make_workflow()
    clock = VirtualClock(start=START)
    engine = Engine([wf], db_url, queue=InMemoryQueue(clock), clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(24):
        testing.insert_entity(engine.db, wf, f"t{i:02d}")
    for i in range(24):
        clock.advance(timedelta(hours=1))
        engine.execute_step("ticket", f"t{i:02d}", "user")
    engine.dispose()
    return db_url


def _sql_count(db: str, since: datetime) -> int:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            sql = "SELECT count(*) FROM workflow_history WHERE changed_at >= :since"
            value = since if db.startswith("postgresql") else since.replace(tzinfo=None)
            return int(conn.execute(sa.text(sql), {"since": value}).scalar_one())
    finally:
        engine.dispose()


def _one_coded_line(err: str, code: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{code}:"), err
    assert "Traceback" not in err


# fmt: off
INTEGER_OPTIONS = [
    ["history", "--db", "{db}", "--limit", HUGE],
    ["failures", "--db", "{db}", "--limit", HUGE],
    ["graph", "invoice", str(WORKFLOWS), "--depth", HUGE, "-o", "-", "--format", "dot"],
    ["graph", "invoice", str(WORKFLOWS), "--depth", "-1", "-o", "-", "--format", "dot"],
    ["demo", "--db", "sqlite:///{tmp}/d.db", "--months", HUGE],
    ["demo", "--db", "sqlite:///{tmp}/d.db", "--users", HUGE],
    ["demo", "--db", "sqlite:///{tmp}/d.db", "--seed", HUGE],
    ["simulate", str(WORKFLOWS), "--db", "sqlite:///{tmp}/s.db", "--scenario", "s.json",
     "--entities", HUGE],
    ["simulate", str(WORKFLOWS), "--db", "sqlite:///{tmp}/s.db", "--scenario", "s.json",
     "--seed", HUGE],
]
# fmt: on


@pytest.mark.parametrize("argv", INTEGER_OPTIONS, ids=lambda a: f"{a[0]}-{a[-2]}")
def test_every_integer_option_refuses_a_huge_number_in_one_wf400_line(
    argv: list[str], sqlite_url: str, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.format(db=sqlite_url, tmp=tmp_path) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    _one_coded_line(err, "WF400")
    assert str(MAX_WHOLE) in err or "1200" in err


def test_demo_months_below_two_names_the_real_bound(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", f"sqlite:///{tmp_path}/d.db", "--months", "-3"]) == 2
    err = capsys.readouterr().err
    _one_coded_line(err, "WF400")
    assert "from 2 to 1200" in err
    assert "0 or more" not in err


def test_history_limit_zero_prints_every_row(
    hourly_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", hourly_db, "--limit", "0", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) - 1 == _sql_count(hourly_db, START - timedelta(days=1))


@pytest.mark.parametrize("text", ["2026-06-01x10", "2026-06-01+02:00", "2026-06-01T10", "soon"])
@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_malformed_date_is_one_wf400_line_not_a_misread_moment(
    text: str, option: str, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", sqlite_url, option, text]) == 2
    _one_coded_line(capsys.readouterr().err, "WF400")


def test_conformance_now_uses_the_same_strict_parser(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", str(WORKFLOWS), "--db", "sqlite://", "--now", "2026-06-01x10"]) == 2
    _one_coded_line(capsys.readouterr().err, "WF400")


@pytest.mark.parametrize(
    ("since", "utc"),
    [
        ("2026-01-01T10:00+02:00", datetime(2026, 1, 1, 8, tzinfo=UTC)),
        ("2026-01-01 05:30-03:00", datetime(2026, 1, 1, 8, 30, tzinfo=UTC)),
        ("2026-01-01T08:00:00Z", datetime(2026, 1, 1, 8, tzinfo=UTC)),
        ("2026-01-01T08:00", datetime(2026, 1, 1, 8, tzinfo=UTC)),
    ],
)
def test_since_with_an_offset_counts_what_sql_counts_in_utc(
    hourly_db: str, since: str, utc: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--db", hourly_db, "--since", since, "--all", "--format", "csv"]) == 0
    rows = len(capsys.readouterr().out.strip().splitlines()) - 1
    assert rows == _sql_count(hourly_db, utc)
    assert 0 < rows < _sql_count(hourly_db, START - timedelta(days=1))


def test_parse_moment_converts_offsets_to_utc_and_refuses_other_separators() -> None:
    assert parse_moment("2026-06-01 10:00+02:00") == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert parse_moment("2026-06-01") == datetime(2026, 6, 1, tzinfo=UTC)
    for bad in ("2026-06-01x10", "2026-06-01+02:00", "2026-6-1", ""):
        with pytest.raises(WfnbUsageError):
            parse_moment(bad)
