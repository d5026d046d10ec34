from __future__ import annotations

import pytest

from wfnb.exceptions import WfnbUsageError
from wfnb.timers.worker_main import load_factory, main

PG = "postgresql+psycopg://nobody@127.0.0.1:1/none"


@pytest.mark.parametrize("spec", ["no_colon", ":factory", "module:"])
def test_malformed_runner_spec_is_a_usage_error(spec: str) -> None:
    with pytest.raises(WfnbUsageError, match="module:factory"):
        load_factory(spec)


def test_missing_runner_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", PG, "--runner", "wfnb.no_such_module:factory"]) == 2
    assert capsys.readouterr().err.startswith("WF400: --runner 'wfnb.no_such_module:factory'")


def test_non_callable_runner_is_a_usage_error() -> None:
    with pytest.raises(WfnbUsageError, match="not callable"):
        load_factory("wfnb.timers.durable:TIMER_TASK")


def test_a_sqlite_database_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "sqlite:///x.db", "--runner", "wfnb.timers:InMemoryQueue"]) == 1
    assert "WF301: durable timers need PostgreSQL" in capsys.readouterr().err
