"""What a use case leaves for the engine to read after it runs — its ``Result`` and
``ctx.events`` — is checked before the commit: a bad one is WF206, nothing committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.engine.conftest import Build, history, status_of
from wfnb.engine import Outcome
from wfnb.engine.usecases import Result, ResultKind, StepContext, batch


def _no_metadata(ctx: StepContext) -> Result:
    return Result(ResultKind.OK, None)  # type: ignore[arg-type]


def _events_replaced(ctx: StepContext) -> Result:
    ctx.events = None  # type: ignore[assignment]
    return Result.ok()


def _events_junk(ctx: StepContext) -> Result:
    ctx.events.append("not a pair")  # type: ignore[arg-type]
    return Result.ok()


LEFTOVERS: dict[str, Callable[[StepContext], Result]] = {
    "result-metadata-none": _no_metadata,
    "ctx-events-none": _events_replaced,
    "ctx-events-junk": _events_junk,
}


@pytest.mark.parametrize("leftover", sorted(LEFTOVERS))
def test_a_bad_leftover_of_a_use_case_fails_the_step_with_nothing_committed(
    build: Build, leftover: str
) -> None:
    engine, wf = build(entities=1)
    engine.use_cases.override(wf, "act", LEFTOVERS[leftover])
    result = engine.execute_step("ticket", "e0", "admin")
    assert result.error is not None
    assert (result.outcome, result.error.code) == (Outcome.FAILED, "WF206")
    assert status_of(engine, "e0") == ("draft", 0)
    assert history(engine, "e0") == []


@pytest.mark.parametrize("leftover", sorted(LEFTOVERS))
@pytest.mark.parametrize("as_batch", [False, True], ids=["single", "batch-aware"])
def test_a_bad_leftover_fails_each_entity_of_a_batch(
    build: Build, leftover: str, as_batch: bool
) -> None:
    engine, wf = build(entities=2)
    one = LEFTOVERS[leftover]
    fn: Any = batch(lambda ctxs: [one(ctx) for ctx in ctxs]) if as_batch else one
    engine.use_cases.override(wf, "act", fn)
    results = engine.execute_batch("ticket", ["e0", "e1"], "admin")
    assert [(r.outcome, r.error and r.error.code) for r in results] == [
        (Outcome.FAILED, "WF206"),
        (Outcome.FAILED, "WF206"),
    ]
    assert [status_of(engine, e) for e in ("e0", "e1")] == [("draft", 0), ("draft", 0)]
