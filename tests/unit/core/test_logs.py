"""``wfnb.configure_logging``: JSON lines or text, one handler, cheap when nothing listens."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import wfnb
from wfnb.engine import Outcome, StepResult
from wfnb.engine.context import RequestContext
from wfnb.exceptions import WfnbUsageError
from wfnb.logs import RUN_FIELDS, configure_logging, log_step


@pytest.fixture
def wfnb_logger() -> Iterator[logging.Logger]:
    """The ``wfnb`` logger, its handlers and level restored afterwards."""
    target = logging.getLogger("wfnb")
    handlers, level = list(target.handlers), target.level
    yield target
    for handler in [h for h in target.handlers if h not in handlers]:
        target.removeHandler(handler)
    target.setLevel(level)


def _result(**changes: Any) -> StepResult:
    fields: dict[str, Any] = {
        "outcome": Outcome.TRANSITIONED,
        "workflow": "ticket",
        "entity_id": "e1",
        "step": "submit",
        "from_status": "draft",
        "to_status": "submitted",
        "duration_ms": 1.23456,
        "correlation_id": "c-1",
    }
    return StepResult(**{**fields, **changes})


def test_json_lines_carry_the_run_fields_as_keys(wfnb_logger: logging.Logger) -> None:
    buffer = io.StringIO()
    wfnb.configure_logging(format="json", level="INFO", stream=buffer)
    ctx = RequestContext("c-1", tenant_id="t1", user_id="u1", requester_type="user")
    log_step(_result(), ctx, "initiated")
    logging.getLogger("wfnb.other").info("plain %s", "line")
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert set(RUN_FIELDS) <= set(first)
    assert (first["tenant_id"], first["user_id"], first["requester_type"]) == ("t1", "u1", "user")
    assert (first["duration_ms"], first["error_code"], first["run"]) == (1.235, None, "step")
    assert {k: second[k] for k in ("level", "logger", "message")} == {
        "level": "INFO",
        "logger": "wfnb.other",
        "message": "plain line",
    }


def test_text_format_is_one_plain_line(wfnb_logger: logging.Logger) -> None:
    buffer = io.StringIO()
    wfnb.configure_logging(format="text", level=logging.INFO, stream=buffer)
    log_step(_result(), None, "initiated")
    (line,) = buffer.getvalue().splitlines()
    assert line.endswith("INFO wfnb.engine transitioned ticket:e1 submit draft->submitted")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_configuring_again_replaces_the_handler(wfnb_logger: logging.Logger) -> None:
    before = len(wfnb_logger.handlers)
    first = io.StringIO()
    second = io.StringIO()
    wfnb.configure_logging(format="json", stream=first)
    wfnb.configure_logging(format="json", level="WARNING", stream=second)
    assert len(wfnb_logger.handlers) == before + 1
    log_step(_result(), None, "initiated")  # INFO: below the new level
    log_step(_result(outcome=Outcome.FAILED, error=wfnb.UseCaseError("bug")), None, "initiated")
    assert first.getvalue() == ""
    (line,) = second.getvalue().splitlines()
    assert json.loads(line)["error_code"] == "WF206"


def test_standard_output_is_the_default_stream(
    wfnb_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    wfnb.configure_logging(format="json")
    log_step(_result(), None, "initiated")
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[-1])["correlation_id"] == "c-1"


@pytest.mark.parametrize(
    ("kwargs", "word"), [({"format": "xml"}, "log format"), ({"level": "LOUD"}, "log level")]
)
def test_a_bad_format_or_level_is_wf400(
    wfnb_logger: logging.Logger, kwargs: dict[str, Any], word: str
) -> None:
    before = list(wfnb_logger.handlers)
    with pytest.raises(WfnbUsageError, match=word) as info:
        wfnb.configure_logging(**kwargs)
    assert info.value.code == "WF400"
    assert wfnb_logger.handlers == before  # nothing changed


class _Exploding:
    """A result whose every field read fails: proves nothing is built when nobody listens."""

    outcome = Outcome.TRANSITIONED
    error = None

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"read {name} while logging is off")


def test_a_disabled_logger_builds_no_record(wfnb_logger: logging.Logger) -> None:
    wfnb_logger.setLevel(logging.WARNING)
    log_step(_Exploding(), None, "initiated")  # type: ignore[arg-type]
    wfnb_logger.setLevel(logging.INFO)
    with pytest.raises(AssertionError, match="while logging is off"):
        log_step(_Exploding(), None, "initiated")  # type: ignore[arg-type]


def test_the_default_stream_is_stdout_as_it_is_when_a_record_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stdout", first)
    handler = configure_logging("json")
    try:
        first.close()  # Jupyter and pytest swap sys.stdout and close the old one
        second = io.StringIO()
        monkeypatch.setattr(sys, "stdout", second)
        logging.getLogger("wfnb").info("after the swap")
        assert json.loads(second.getvalue())["message"] == "after the swap"
    finally:
        logging.getLogger("wfnb").removeHandler(handler)
