"""``execute_batch``: per-entity outcomes, one call per batch use case, constant statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.engine.conftest import Build, history, rows, status_of
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext, batch


def batch_steps(**changes: Any) -> list[dict[str, Any]]:
    """The default steps with ``act_many`` (batch-aware) as the action of submit/resolve."""
    steps = [dict(s) for s in testing.DEFAULT_WORKFLOW["steps"]]
    for s in steps:
        if s.get("action") == "act":
            s["action"] = "act_many"
        if s.get("validation") == "check":
            s["validation"] = "check_many"
        s.update(changes.get(s["key"], {}))
    return steps


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine.db, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine.db, "before_cursor_execute", count)


def test_results_come_back_in_input_order_with_per_entity_outcomes(build: Build) -> None:
    engine, _ = build(entities=4, steps=batch_steps())
    testing.insert_entity(engine.db, engine.workflow("ticket"), "late", status="closed")
    ids = ["e3", "ghost", "e0", "late", "e1", "e2"]
    results = engine.execute_batch("ticket", ids, "admin", data={"action:e1": "fail"})
    assert [r.entity_id for r in results] == ids
    codes = {r.entity_id: (r.outcome, r.error.code if r.error else None) for r in results}
    assert codes == {
        "e3": (Outcome.TRANSITIONED, None),
        "ghost": (Outcome.FAILED, "WF201"),
        "e0": (Outcome.TRANSITIONED, None),
        "late": (Outcome.FAILED, "WF202"),
        "e1": (Outcome.FAILED, "WF205"),
        "e2": (Outcome.TRANSITIONED, None),
    }
    assert status_of(engine, "e1") == ("draft", 0)
    assert history(engine, "e1") == []
    assert status_of(engine, "e2") == ("triaged", 1)
    assert history(engine, "e2") == [("initiated", "draft", "triaged")]
    assert testing.CALLS[("act_many", "*")] == 1  # one call for the whole batch


def test_non_batch_use_cases_run_per_entity_and_fail_alone(build: Build) -> None:
    engine, wf = build(entities=3)

    def writes_then_maybe_raises(ctx: StepContext) -> Result:
        ctx.conn.execute(
            sa.text("UPDATE tickets SET title = :t WHERE id = :i"), {"t": "w", "i": ctx.entity_id}
        )
        if ctx.entity_id == "e1":
            raise RuntimeError("e1 breaks")
        return Result.ok()

    engine.use_cases.override(wf, "act", writes_then_maybe_raises)
    results = engine.execute_batch("ticket", ["e0", "e1", "e2"], "admin")
    assert [r.error.code if r.error else None for r in results] == [None, "WF206", None]
    titles = {r[0]: r[1] for r in rows(engine, "SELECT id, title FROM tickets")}
    assert titles == {"e0": "w", "e1": None, "e2": "w"}  # e1's write went with its savepoint
    assert testing.CALLS[("check", "e1")] == 1


def test_a_concurrent_change_fails_only_that_entity_and_its_action_never_runs(build: Build) -> None:
    engine, wf = build(entities=3, steps=batch_steps())

    @batch
    def check_and_interfere(contexts: list[StepContext]) -> list[Result]:
        # Another writer changes e1 between our read and our bulk CAS.
        contexts[0].conn.exec_driver_sql("UPDATE tickets SET version = version + 1 WHERE id = 'e1'")
        return [Result.ok() for _ in contexts]

    engine.use_cases.override(wf, "check_many", check_and_interfere)
    results = engine.execute_batch("ticket", ["e0", "e1", "e2"], "admin")
    assert [r.error.code if r.error else None for r in results] == [None, "WF204", None]
    assert status_of(engine, "e1") == ("draft", 1)
    assert history(engine, "e1") == []
    assert [s for s, _ in [status_of(engine, "e0"), status_of(engine, "e2")]] == ["triaged"] * 2


def test_a_raising_batch_action_fails_its_whole_call(build: Build) -> None:
    engine, _ = build(entities=3, steps=batch_steps())
    results = engine.execute_batch(
        "ticket", ["e0", "e1", "e2"], "admin", data={"action:e2": "raise"}
    )
    assert {r.error.code for r in results if r.error} == {"WF206"}
    assert all(not r.ok for r in results)
    assert [status_of(engine, f"e{i}") for i in range(3)] == [("draft", 0)] * 3
    assert rows(engine, "SELECT * FROM workflow_history") == []


def test_rejections_take_the_rejection_path(build: Build) -> None:
    engine, _ = build(entities=3, steps=batch_steps())
    results = engine.execute_batch(
        "ticket",
        ["e0", "e1", "e2"],
        "user",
        data={"validation:e1": "reject", "action:e2": "reject"},
    )
    assert [(r.outcome, r.to_status) for r in results] == [
        (Outcome.TRANSITIONED, "submitted"),
        (Outcome.REJECTED, "draft"),
        (Outcome.REJECTED, "draft"),
    ]
    assert history(engine, "e1") == [("rejected", "draft", "draft")]
    assert history(engine, "e2") == [("rejected", "draft", "draft")]
    assert status_of(engine, "e2") == ("draft", 1)
    assert testing.CALLS[("notify_rejected", "e1")] == testing.CALLS[("notify_rejected", "e2")] == 1


def test_claimed_steps_claim_then_act_then_release_the_failures(build: Build) -> None:
    engine, _ = build(entities=3, status="triaged", steps=batch_steps())
    results = engine.execute_batch(
        "ticket", ["e0", "e1", "e2"], "system", data={"action:e1": "fail"}
    )
    assert [(r.outcome, r.to_status) for r in results] == [
        (Outcome.TRANSITIONED, "resolved"),
        (Outcome.FAILED, "triaged"),
        (Outcome.TRANSITIONED, "resolved"),
    ]
    assert history(engine, "e0") == [
        ("claimed", "triaged", "resolving"),
        ("initiated", "resolving", "resolved"),
    ]
    assert history(engine, "e1") == [
        ("claimed", "triaged", "resolving"),
        ("released", "resolving", "triaged"),
    ]
    assert status_of(engine, "e1") == ("triaged", 2)


def test_permanent_failures_go_to_the_failure_status(build: Build) -> None:
    engine, _ = build(entities=2, steps=batch_steps())
    results = engine.execute_batch(
        "ticket", ["e0", "e1"], "user", data={"action:e0": "fail_permanent"}
    )
    assert [(r.outcome, r.to_status) for r in results] == [
        (Outcome.FAILED, "failed"), (Outcome.TRANSITIONED, "submitted"),
    ]  # fmt: skip
    assert status_of(engine, "e0") == ("failed", 1)
    assert len(rows(engine, "SELECT * FROM workflow_permanent_failure_log")) == 1


def test_an_invalid_payload_fails_every_entity(build: Build) -> None:
    engine, _ = build(entities=2)
    results = engine.execute_batch("ticket", ["e0", "e1"], "admin", data=["nope"])  # type: ignore[arg-type]
    assert [r.error.code if r.error else None for r in results] == ["WF208", "WF208"]


@pytest.mark.parametrize("claimed", [False, True])
def test_a_constant_number_of_statements(build: Build, claimed: bool) -> None:
    engine, _ = build(entities=200, status="triaged" if claimed else None, steps=batch_steps())
    requester = "system" if claimed else "admin"
    engine.execute_batch("ticket", ["e0"], requester)  # warm-up: reflects the entity table once
    counts = []
    for ids in (["e1", "e2", "e3", "e4"], [f"e{i}" for i in range(5, 200)]):
        with counting(engine) as statements:
            results = engine.execute_batch("ticket", ids, requester)
        assert all(r.outcome is Outcome.TRANSITIONED for r in results)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= (11 if claimed else 8)


def test_execute_step_calls_a_batch_use_case_with_one_context(build: Build) -> None:
    engine, _ = build(entities=1, steps=batch_steps())
    result = engine.execute_step("ticket", "e0", "admin")
    assert (result.to_status, dict(result.metadata)) == (
        "triaged",
        {"check_many": True, "act_many": True},
    )
    assert testing.CALLS[("act_many", "*")] == 1


def test_every_target_status_is_swapped_by_one_statement_that_locks_in_id_order(
    build: Build,
) -> None:
    engine, _ = build(entities=6)
    data = {
        "validation:e4": "reject",
        "validation:e1": "reject",
        "validation:e5": "fail_permanent",
    }
    with counting(engine) as statements:
        results = engine.execute_batch(
            "ticket", ["e4", "e0", "e5", "e1", "e3", "e2"], "admin", data=data
        )
    assert [(r.entity_id, r.to_status) for r in results] == [
        ("e4", "draft"),
        ("e0", "triaged"),
        ("e5", "failed"),
        ("e1", "draft"),
        ("e3", "triaged"),
        ("e2", "triaged"),
    ]
    swaps = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(swaps) == 1  # accepted, rejected and failed together: one round of locks
    if engine.db.dialect.name == "postgresql":
        assert "ORDER BY tickets.id FOR UPDATE" in swaps[0]


def test_use_cases_see_the_entities_in_id_order_whatever_the_input_order(build: Build) -> None:
    engine, wf = build(entities=5, steps=batch_steps())
    seen: list[list[str]] = []

    @batch
    def record(contexts: list[StepContext]) -> list[Result]:
        seen.append([ctx.entity_id for ctx in contexts])
        return [Result.ok() for _ in contexts]

    engine.use_cases.override(wf, "check_many", record)
    engine.use_cases.override(wf, "act_many", record)
    order = ["e3", "e0", "e4", "e2", "e1"]
    results = engine.execute_batch("ticket", order, "admin")
    assert [r.entity_id for r in results] == order  # results: the input order
    assert seen == [["e0", "e1", "e2", "e3", "e4"]] * 2  # use cases: one global order
