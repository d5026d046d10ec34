"""``wfnb worker`` refuses to start, in one coded line, rather than log tracebacks forever.

A cron expression croniter cannot read, a database without the workflows' entity tables,
and a ``--janitors`` spec that does not import are refused before anything runs (and before
anything is created).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.cli import main

W = str(WORKFLOWS)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.pg
@pytest.mark.parametrize("cron", ["not a cron", "61 * * * *", "* * *"])
def test_a_bad_recovery_cron_is_one_wf400_line_and_exit_2(
    pg_url: str, cron: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--db", pg_url, W, "--once", "--recovery-cron", cron]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("WF400:")
    assert "cron" in lines[0]
    assert captured.out == ""
    assert _tables(pg_url) == set()


@pytest.mark.pg
def test_the_worker_refuses_to_start_without_the_entity_tables(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--db", pg_url, W, "--once"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "WF112" in lines[0]
    assert "does not exist" in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert _tables(pg_url) == set()  # refused before the engine installed anything


@pytest.mark.pg
def test_a_bad_janitors_spec_names_the_janitors_option(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--db", pg_url, W, "--once", "--janitors", "nosuch:fn"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("WF400: --janitors 'nosuch:fn'"), err
    assert "--runner" not in err
