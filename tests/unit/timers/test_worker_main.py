from __future__ import annotations

import pytest

from wfnb.exceptions import WfnbUsageError
from wfnb.timers.worker_main import build_parser, load_factory, main, recovery_options

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


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"recovery_interval": 300.0, "recovery_cron": None, "stalled_after": 30.0}),
        (
            ["--recovery-interval", "1.5", "--stalled-after", "2"],
            {"recovery_interval": 1.5, "recovery_cron": None, "stalled_after": 2.0},
        ),
        (["--recovery-interval", "0"], {"recovery_interval": None, "recovery_cron": None}),
        (["--recovery-cron", ""], {"recovery_interval": None, "recovery_cron": None}),
        (["--recovery-cron", "*/5 * * * *"], {"recovery_interval": None}),
    ],
)
def test_recovery_arguments_become_the_queues_options(
    argv: list[str], expected: dict[str, object]
) -> None:
    args = build_parser().parse_args(["--db", PG, "--runner", "m:f", *argv])
    options = recovery_options(args)
    assert {k: options[k] for k in expected} == expected
    if "*/5 * * * *" in argv:
        assert options["recovery_cron"] == "*/5 * * * *"


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--recovery-interval", "-1"),
        ("--recovery-interval", "nan"),
        ("--stalled-after", "0"),
        ("--stalled-after", "inf"),
    ],
)
def test_a_bad_recovery_timing_is_one_usage_line(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", PG, "--runner", "wfnb.timers:InMemoryQueue", flag, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("WF400: ")
    assert "expected a positive number of seconds" in err
    assert len(err.splitlines()) == 1


def test_wfnb_worker_passes_its_recovery_timing_on(capsys: pytest.CaptureFixture[str]) -> None:
    from wfnb.cli import main as wfnb

    code = wfnb(["worker", "workflows", "--db", PG, "--recovery-interval", "-3"])
    assert code == 2  # refused before any database is touched
    err = capsys.readouterr().err
    assert "WF400" in err
    assert "--recovery-interval" in err


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        ("--outbox-cron", "'' turns outbox delivery off"),
        ("--recovery-cron", "'' turns recovery off"),
    ],
)
def test_a_bad_cron_names_what_empty_turns_off(
    flag: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wfnb.cli import main as wfnb

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--db", PG, "--runner", "m:f", flag, "bad"])
    assert says in capsys.readouterr().err
    assert wfnb(["worker", "workflows", "--db", PG, flag, "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("WF400: ")
    assert len(err.splitlines()) == 1
    assert says in err
    other = "recovery" if flag == "--outbox-cron" else "outbox"
    assert f"turns {other}" not in err
