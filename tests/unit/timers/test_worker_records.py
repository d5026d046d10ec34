"""The worker's own records (outbox delivery, recovery, start and stop) are structured.

A JSON log line carries ``event`` and each field (``delivered``, ``pending``...) as keys of
its own, as the run records do (ADR 0100), not packed into ``message`` (issue 16 QA).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import procrastinate
import pytest
from procrastinate.testing import InMemoryConnector

from wfnb.logs import configure_logging
from wfnb.timers.execution import log_event
from wfnb.timers.outbox_task import OUTBOX_TASK, register_outbox_task


@pytest.fixture
def json_lines() -> Any:
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.getLogger("wfnb").removeHandler(handler)


@dataclass
class Report:
    delivered: int = 1000
    failed: int = 0
    pending: int = 41424
    ran: bool = True


class Runner:
    def deliver_outbox(self) -> Report:
        return Report()


def test_an_outbox_delivery_record_has_its_fields_as_keys(json_lines: Any) -> None:
    app = procrastinate.App(connector=InMemoryConnector())
    register_outbox_task(app, "wfnb_timers", "* * * * * *", Runner)
    assert app.tasks[OUTBOX_TASK].func(timestamp=1796695297) == "delivered"
    (record,) = json_lines()
    assert record["event"] == "outbox_delivered"
    assert (record["delivered"], record["failed"], record["pending"]) == (1000, 0, 41424)
    assert record["queue"] == "wfnb_timers"
    assert record["tick"] == 1796695297
    assert record["message"].startswith("event=outbox_delivered ")


def test_a_field_named_like_a_record_attribute_does_not_clash(json_lines: Any) -> None:
    log = logging.getLogger("wfnb.timers")
    log_event(log, logging.INFO, "recovery_ran", outcome="ran", claims=2, name="x", args=1)
    (record,) = json_lines()
    assert (record["outcome"], record["claims"]) == ("ran", 2)
    assert (record["name_"], record["args_"]) == ("x", 1)
    assert record["logger"] == "wfnb.timers"
