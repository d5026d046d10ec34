"""The cron executor (issue 16.5, ADR 0103): ``wfnb.cron`` and the system requester rule.

The ticket workflow declares ``system`` a system requester type: its ``triage`` step runs
as ``system`` only inside ``wfnb.cron(...)``; outside, the engine refuses with WF209 and
reads or writes nothing. The engine's own continuations (timers, the step an observation
proceeds to) keep running as ``system`` without a cron context.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import wfnb
from tests.engines import Build
from tests.unit.engine.conftest import history, rows, status_of
from wfnb import testing
from wfnb.engine import Engine, context
from wfnb.engine.results import Outcome
from wfnb.exceptions import ContextMissingError, WfnbUsageError
from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, VirtualClock

SYSTEM = {"system_requester_types": ["system"]}


def declared(build: Build, **kw: Any) -> Engine:
    engine, _ = build(entities=3, status="submitted", **SYSTEM, **kw)
    return engine


def history_meta(engine: Engine, entity_id: str) -> list[tuple[Any, ...]]:
    """(requester_type, correlation_id, tenant_id, cron in metadata) of an entity's rows."""
    found = rows(
        engine,
        "SELECT requester_type, correlation_id, tenant_id, metadata FROM workflow_history "
        "WHERE entity_id = :i ORDER BY id",
        i=entity_id,
    )
    out = []
    for requester, correlation, tenant, metadata in found:
        meta = metadata if isinstance(metadata, dict) else json.loads(metadata)
        out.append((requester, correlation, tenant, meta.get("cron")))
    return out


def test_a_system_requester_outside_a_cron_is_wf209_and_nothing_changes(build: Build) -> None:
    engine = declared(build)
    before = status_of(engine, "e0")
    result = engine.execute_step("ticket", "e0", "system", step="triage")
    assert result.outcome is Outcome.FAILED
    assert isinstance(result.error, ContextMissingError)
    assert result.error.fields["boundary"] == "cron"
    assert result.error.code == "WF209"
    assert result.error.one_line().startswith("WF209: ticket: requester type 'system'")
    assert "\n" not in result.error.one_line()
    assert status_of(engine, "e0") == before
    assert history(engine, "e0") == []
    assert testing.CALLS == {}  # the validation use case never ran


def test_the_same_step_runs_inside_a_cron_and_history_names_it(build: Build) -> None:
    engine = declared(build)
    with wfnb.cron("nightly-triage") as ctx:
        result = engine.execute_step("ticket", "e0", "system", step="triage")
    assert result.ok, result.error
    assert result.to_status == "triaged"
    assert result.correlation_id == ctx.correlation_id
    assert history_meta(engine, "e0") == [("system", ctx.correlation_id, None, "nightly-triage")]


def test_explain_says_what_execute_step_would_do_in_and_out_of_a_cron(build: Build) -> None:
    engine = declared(build)
    outside = engine.explain("ticket", "e0", "system", step="triage")
    assert outside.selected is None
    assert outside.error is not None
    assert outside.error.code == "WF209"
    assert [o.key for o in outside.options] == ["triage", "abandon"]  # still listed
    with wfnb.cron("explained"):
        inside = engine.explain("ticket", "e0", "system", step="triage")
    assert (inside.selected, inside.error) == ("triage", None)


def test_other_requester_types_need_no_cron(build: Build) -> None:
    engine = declared(build)
    assert engine.execute_step("ticket", "e0", "user", step="triage").ok


def test_without_a_declaration_system_runs_anywhere(build: Build) -> None:
    engine, _ = build(entities=1, status="submitted")
    assert engine.execute_step("ticket", "e0", "system", step="triage").ok
    assert history_meta(engine, "e0")[0][3] is None  # no cron, no cron in the row


def test_a_batch_outside_a_cron_is_refused_for_every_entity(build: Build) -> None:
    engine = declared(build)
    results = engine.execute_batch("ticket", ["e0", "e1", "e2"], "system", step="triage")
    assert [(r.entity_id, r.error.code if r.error else None) for r in results] == [
        ("e0", "WF209"),
        ("e1", "WF209"),
        ("e2", "WF209"),
    ]
    assert [status_of(engine, e)[0] for e in ("e0", "e1", "e2")] == ["submitted"] * 3
    assert rows(engine, "SELECT count(*) FROM workflow_history") == [(0,)]
    with wfnb.cron("triage-batch"):
        results = engine.execute_batch("ticket", ["e0", "e1", "e2"], "system", step="triage")
    assert all(r.ok for r in results), [r.error for r in results]
    assert {m[3] for e in ("e0", "e1", "e2") for m in history_meta(engine, e)} == {"triage-batch"}


def test_an_observation_as_a_system_requester_needs_a_cron(build: Build) -> None:
    engine, _ = build(entities=1, status="triaged", **SYSTEM)
    with wfnb.use(requester_type="system"):
        refused = engine.observe("ticket", "e0", "closed", source="email")
    assert refused.error is not None
    assert refused.error.code == "WF209"
    assert history(engine, "e0") == []
    assert engine.observe("ticket", "e0", "closed", source="email").ok  # no requester: fine


def test_the_decorator_opens_a_fresh_context_per_call_sync(build: Build) -> None:
    engine = declared(build)

    @wfnb.cron("triage-one")
    def triage(entity_id: str) -> tuple[str | None, context.RequestContext | None]:
        result = engine.execute_step("ticket", entity_id, "system", step="triage")
        assert result.ok, result.error
        return result.correlation_id, context.current()

    first, ctx_one = triage("e0")
    second, _ctx_two = triage("e1")
    assert first != second
    assert ctx_one is not None
    assert ctx_one.cron == "triage-one"
    assert ctx_one.requester_type == "system"
    assert ctx_one.user_id is None
    assert context.current() is None  # nothing leaks out of the call
    assert triage.__name__ == "triage"


def test_the_decorator_works_on_async_functions(build: Build) -> None:
    engine = declared(build)

    @wfnb.cron("triage-async")
    async def triage(entity_id: str) -> str | None:
        await asyncio.sleep(0)
        result = engine.execute_step("ticket", entity_id, "system", step="triage")
        assert result.ok, result.error
        return result.correlation_id

    async def both() -> list[str | None]:
        return list(await asyncio.gather(triage("e0"), triage("e1")))

    ids = asyncio.run(both())
    assert len(set(ids)) == 2
    assert {m[3] for e in ("e0", "e1") for m in history_meta(engine, e)} == {"triage-async"}


def test_one_cron_object_entered_by_concurrent_tasks_restores_each_tasks_context() -> None:
    """Task a enters, then b, then a leaves first: each gets its own outer context back."""
    nightly = wfnb.cron("nightly")

    async def both() -> tuple[str | None, str | None]:
        a_in, b_in, a_out = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def first() -> str | None:
            with wfnb.use(correlation_id="c-a"):
                with nightly:
                    a_in.set()
                    await b_in.wait()
                a_out.set()
                after = context.current()
                return after.correlation_id if after else None

        async def second() -> str | None:
            with wfnb.use(correlation_id="c-b"):
                await a_in.wait()
                with nightly:
                    b_in.set()
                    await a_out.wait()
                after = context.current()
                return after.correlation_id if after else None

        a, b = await asyncio.gather(first(), second())
        return a, b

    assert asyncio.run(both()) == ("c-a", "c-b")


def test_each_entry_is_fresh_and_nesting_restores_the_outer_context() -> None:
    job = wfnb.cron("nested")
    with wfnb.use(correlation_id="c-request", user_id="u1", requester_type="user") as request:
        with job as outer:
            assert outer.correlation_id != request.correlation_id  # a fresh one, not adopted
            assert (outer.user_id, outer.requester_type, outer.tenant_id) == (None, "system", None)
            with job as inner, wfnb.cron("inner") as innermost:
                assert inner.correlation_id != outer.correlation_id
                assert context.current() == innermost
            assert context.current() == outer
        assert context.current() == request
    assert context.current() is None


def test_a_named_tenant_scopes_the_cron(build: Build) -> None:
    engine, _ = build(
        entities=1, status="submitted", entity={"table": "tickets", "tenant_column": "tenant_id"},
        **SYSTEM,
    )  # fmt: skip
    with wfnb.cron("per-tenant", tenant_id="other") as ctx:
        assert ctx.tenant_id == "other"
        hidden = engine.execute_step("ticket", "e0", "system", step="triage")
    assert hidden.error is not None
    assert hidden.error.code == "WF201"
    with wfnb.cron("per-tenant", tenant_id="acme"):
        assert engine.execute_step("ticket", "e0", "system", step="triage").ok
    assert history_meta(engine, "e0")[0][2:] == ("acme", "per-tenant")


@pytest.mark.parametrize("bad", ["", "   ", None, 3, "x" * 129])
def test_a_bad_cron_name_is_one_wf400_line(bad: Any) -> None:
    with pytest.raises(WfnbUsageError) as info:
        wfnb.cron(bad)
    assert info.value.code == "WF400"
    with pytest.raises(WfnbUsageError):
        wfnb.cron("ok", tenant_id=bad if bad is not None else "")


def test_the_run_record_names_the_cron(build: Build, caplog: pytest.LogCaptureFixture) -> None:
    engine = declared(build)
    with caplog.at_level(logging.INFO, logger="wfnb.engine"):
        with wfnb.cron("logged"):
            engine.execute_step("ticket", "e0", "system", step="triage")
        engine.execute_step("ticket", "e1", "system", step="triage")
    records = [r for r in caplog.records if getattr(r, "run", None) == "step"]
    assert [(r.entity_id, r.cron, r.error_code) for r in records] == [  # type: ignore[attr-defined]
        ("e0", "logged", None),
        ("e1", None, "WF209"),
    ]


# The engine's own continuations: a timer's step and an observation's follow-up step.

START = datetime(2026, 3, 1, 9, tzinfo=UTC)

PAYMENT: dict[str, object] = {
    "name": "payment",
    "owning_module": "billing",
    "entity": {"table": "payments"},
    "use_cases": "wfnb.testing",
    "requester_types": ["user", "system"],
    "system_requester_types": ["system"],
    "status_types": ["awaiting", "paid", "booked", "held", "done", "void"],
    "initial_status": "awaiting",
    "terminal_statuses": ["done", "void"],
    "steps": [
        {"key": "cancel", "status": "awaiting", "requester_types": ["user"],
         "successful_state": "void"},
        {"key": "book", "status": "paid", "requester_types": ["system"],
         "successful_state": "booked", "auto_advance": True},
        {"key": "close", "status": "booked", "requester_types": ["user"],
         "successful_state": "done"},
        {"key": "release", "status": "held", "requester_types": ["system"],
         "successful_state": "done"},
    ],
    "observed_transitions": [
        {"from": "awaiting", "to": "paid", "source": "bank"},
        {"from": "awaiting", "to": "held", "source": "bank"},
    ],
    "timers": [
        {"key": "release_hold", "status": "held", "after": "P3D", "step": "release",
         "requester_type": "system"},
    ],
}  # fmt: skip


@pytest.fixture
def payments(db_url: str) -> Iterator[tuple[Engine, InMemoryQueue]]:
    clock = VirtualClock(START)
    queue = InMemoryQueue(clock)
    wf = Workflow.model_validate(PAYMENT)
    engine = Engine([wf], db_url, queue=queue, clock=clock)  # validated: the config is valid
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entities(engine.db, wf, ["p1", "p2"])
    try:
        yield engine, queue
    finally:
        engine.dispose()


def test_a_timer_still_fires_as_a_declared_system_requester(
    payments: tuple[Engine, InMemoryQueue],
) -> None:
    engine, queue = payments
    held = engine.observe("payment", "p1", "held", source="bank")
    assert held.ok
    assert [j.timer_key for j in queue.pending()] == ["release_hold"]
    assert engine.execute_step("payment", "p1", "system").error.code == "WF209"  # type: ignore[union-attr]
    ran = queue.advance_and_run(timedelta(days=3))
    assert [j.timer_key for j in ran] == ["release_hold"]
    assert status_of(engine, "p1", "payments")[0] == "done"
    (timer_row,) = [m for m in history_meta(engine, "p1") if m[0] == "system"]
    assert timer_row[1] == held.correlation_id  # the arming request's trace, kept
    assert timer_row[3] == "wfnb.timers"  # the queue ran it in its cron context


def test_run_timer_outside_any_cron_is_the_engines_own_work(
    payments: tuple[Engine, InMemoryQueue],
) -> None:
    engine, queue = payments
    engine.observe("payment", "p1", "held", source="bank")
    (job,) = queue.pending()
    result = engine.run_timer(job)
    assert result.ok, result.error
    assert result.to_status == "done"


def test_an_observation_proceeds_as_system_without_a_cron(
    payments: tuple[Engine, InMemoryQueue],
) -> None:
    engine, _ = payments
    result = engine.observe("payment", "p2", "paid", source="bank")
    assert result.ok
    assert [(link.step, link.to_status) for link in result.chain] == [("book", "booked")]
    assert status_of(engine, "p2", "payments")[0] == "booked"


def test_created_records_as_system_without_a_cron(
    payments: tuple[Engine, InMemoryQueue],
) -> None:
    """``created`` runs no step: it records an entity its module made (ADR 0103)."""
    engine, _ = payments
    assert engine.created("payment", "p1").ok
