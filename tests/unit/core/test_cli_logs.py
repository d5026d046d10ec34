"""`wfnb history` and `wfnb failures` on SQLite and PostgreSQL: filters, formats, truncation."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.cli import main
from wfnb.engine import Engine
from wfnb.timers import VirtualClock

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def filled(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """12 tickets created and submitted an hour apart, one resolved into a permanent failure;
    returns the URL and the ticket workflow's file."""
    wf = testing.make_workflow()
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(testing.DEFAULT_WORKFLOW))
    clock = VirtualClock(start=START)
    engine = Engine([wf], db_url, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(12):
        testing.insert_entity(engine.db, wf, f"t{i:02d}")
    for i in range(12):
        clock.advance(timedelta(hours=1))
        engine.execute_step("ticket", f"t{i:02d}", "user", user_id=f"u{i % 3}")
    data = {"action": "fail_permanent"}
    engine.execute_step("ticket", "t03", "admin", step="resolve", data=data, user_id="boss")
    engine.dispose()
    return db_url, path


def rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def count(db: str, where: str = "1 = 1", **params: object) -> int:
    """An independent count of history rows, straight from SQL."""
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        sql = f"SELECT count(*) FROM workflow_history WHERE {where}"  # test text
        value = int(conn.execute(sa.text(sql), params).scalar_one())
    engine.dispose()
    return value


def test_history_is_newest_first_and_says_when_it_is_cut(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, path = filled
    assert main(["history", str(path), "--db", db, "--workflow", "ticket", "--limit", "5",
                 "--format", "csv"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    got = rows(out)
    assert len(got) == 5
    stamps = [r["changed_at"] for r in got]
    assert stamps == sorted(stamps, reverse=True)
    total = count(db)
    assert total > 12
    assert err.strip() == f"5 of {total} rows — use --limit N or --all"
    assert main(["history", "--db", db, "--all", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert len(rows(out)) == total
    assert err.strip() == f"{total} rows"


def test_history_filters_run_through_frames(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = filled
    since, until = START + timedelta(hours=3), START + timedelta(hours=6)
    argv = ["history", "--db", db, "--since", since.isoformat(), "--until", until.isoformat(),
            "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert sorted({r["entity_id"] for r in got}) == ["t02", "t03", "t04"]  # hours 3, 4, 5
    assert main(["history", "--db", db, "--entity", "t03", "--kind", "initiated",
                 "--format", "json"]) == 0  # fmt: skip
    got = json.loads(capsys.readouterr().out)
    assert {(r["entity_id"], r["kind"]) for r in got} == {("t03", "initiated")}
    assert len(got) == count(db, "entity_id = 't03' AND kind = 'initiated'")
    assert isinstance(got[0]["metadata"], dict | type(None))  # JSON, not a Python repr


def test_history_table_reads_as_text_and_empty_says_0_rows(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = filled
    assert main(["history", "--db", db, "--limit", "3"]) == 0
    out, err = capsys.readouterr()
    header, *lines = out.strip().splitlines()
    assert header.split()[:4] == ["changed_at", "workflow", "entity_id", "kind"]
    assert len(lines) == 3
    assert "None" not in out
    assert not re.search(r"\bnan\b", out, re.IGNORECASE)
    assert "NaT" not in out
    assert err.strip() == f"3 of {count(db)} rows — use --limit N or --all"
    assert main(["history", "--db", db, "--since", "2030-01-01"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "0 rows"
    assert err == ""
    assert main(["history", "--db", db, "--since", "2030-01-01", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("id,")
    assert err.strip() == "0 rows"


def test_failures_filter_by_code_and_print_every_format(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = filled
    assert main(["failures", "--db", db, "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(r["entity_id"], r["step_key"]) for r in got] == [("t03", "resolve")]
    code = got[0]["error_code"]
    assert main(["failures", "--db", db, "--code", code]) == 0
    out, err = capsys.readouterr()
    assert "t03" in out
    assert err.strip() == "1 row"
    assert main(["failures", "--db", db, "--code", "no_such_code"]) == 0
    assert capsys.readouterr().out.strip() == "0 rows"


def test_since_after_until_is_a_usage_error_before_reading(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = filled
    argv = ["failures", "--db", db, "--since", "2026-02-01", "--until", "2026-01-01"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("WF400: --since 2026-02-01T00:00:00+00:00 is after --until")


def test_an_unknown_workflow_suggests_the_closest(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, path = filled
    assert main(["history", str(path), "--db", db, "--workflow", "tikcet"]) == 1
    assert "did you mean 'ticket'?" in capsys.readouterr().err


def test_user_filter_passes_through_when_frames_supports_it(
    filled: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import inspect

    from wfnb import frames

    db, _ = filled
    code = main(["history", "--db", db, "--user", "u1", "--format", "json", "--all"])
    out, err = capsys.readouterr()
    if "user" in inspect.signature(frames.history).parameters:
        assert code == 0, err
        got = json.loads(out)
        assert got
        assert {r["user_id"] for r in got} == {"u1"}
        assert len(got) == count(db, "user_id = 'u1'")
    else:  # never silently ignored: said in one line
        assert code == 2
        assert err.strip() == "WF400: --user is not supported by this version of wfnb.frames"
