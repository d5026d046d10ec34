"""Dry-runs on SQLite and PostgreSQL: the diff of every outcome, and a source left untouched."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext
from wfnb.exceptions import ConfigError, StoreError
from wfnb.sandbox import DryRun, dry_run
from wfnb.spec import Workflow, Workflows

WF = testing.make_workflow()
WFS = Workflows({"ticket": WF})


@pytest.fixture
def source(db_url: str) -> str:
    """Tickets t0 (draft), t1 (triaged, with history), t2 (resolved) in a real database."""
    return _fill(db_url)


@pytest.fixture
def pg_source(pg_url: str) -> Iterator[str]:
    """``source`` on PostgreSQL only; the kept sandbox sessions are closed afterwards."""
    yield _fill(pg_url)
    wfnb.sandbox.hosts.close_all()


def _fill(db_url: str) -> str:
    engine = Engine(WFS, db_url)
    engine.install()
    testing.create_entity_table(engine.db, WF)
    for i in range(3):
        testing.insert_entity(engine.db, WF, f"t{i}")
    engine.execute_step("ticket", "t1", "user").raise_for_error()
    engine.execute_step("ticket", "t2", "user").raise_for_error()
    engine.execute_step("ticket", "t2", "admin", step="resolve").raise_for_error()
    engine.dispose()
    return db_url


def test_success_with_auto_advance_and_events(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t0", "user", data={"emit": "poked"})
    assert dr.result.outcome is Outcome.TRANSITIONED
    assert dr.result.final_status == "triaged"
    assert dr.changes == {"status": ("draft", "triaged"), "version": (0, 2)}
    assert [(h["step_key"], h["from_status"], h["to_status"]) for h in dr.history] == [
        ("submit", "draft", "submitted"),
        ("triage", "submitted", "triaged"),
    ]
    assert [e.name for e in dr.events] == ["poked", "poked", "poked"]
    assert dr.why is None
    assert dr.timers == ()
    assert dr.failures == ()
    assert "triaged" in repr(dr)
    html = dr._repr_html_()
    assert "background:#fff3b0" in html
    assert "poked" in html


def test_rejection(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t0", "user", data={"validation": "reject"})
    assert dr.result.outcome is Outcome.REJECTED
    assert dr.why == "check said no"
    assert dr.changes == {"version": (0, 1)}  # back to draft, one version on
    assert [h["kind"] for h in dr.history] == ["rejected"]


def test_failure_changes_nothing(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t0", "user", data={"action": "fail"})
    assert dr.result.outcome is Outcome.FAILED
    assert dr.why is not None
    assert dr.why.startswith("WF205 (TEST_FAIL)")
    assert dr.changes == {}
    assert dr.history == ()
    assert dr.failures == ()
    assert dr.before == dr.after


def test_permanent_failure_moves_to_the_failure_status(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t0", "user", data={"action": "fail_permanent"})
    assert dr.changes["status"] == ("draft", "failed")
    assert [f["error_code"] for f in dr.failures] == ["TEST_FAIL"]
    assert dr.why is not None
    assert "WF205" in dr.why


def test_claim_then_action_arms_the_timer(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t1", "admin", step="resolve")
    assert [h["kind"] for h in dr.history] == ["claimed", "initiated"]
    assert [h["to_status"] for h in dr.history] == ["resolving", "resolved"]
    assert dr.changes["status"] == ("triaged", "resolved")
    assert [(t.timer_key, t.status) for t in dr.timers] == [("auto_close", "resolved")]


def test_new_step_as_a_dict_with_a_prototype_use_case(source: str) -> None:
    seen: list[str] = []

    def prototype(ctx: StepContext) -> Result:
        seen.append(ctx.entity_id)
        return Result.ok(prototyped=True)

    step = {"key": "fast_track", "status": "draft", "requester_types": ["admin"],
            "validation": "prototype", "successful_state": "resolved"}  # fmt: skip
    dr = dry_run(
        source, WFS, "ticket", "t0", "admin", step=step, use_cases={"prototype": prototype}
    )
    assert seen == ["t0"]
    assert dr.changes["status"] == ("draft", "resolved")
    assert dr.history[0]["metadata"] == {"prototyped": True}
    assert dr.history[0]["step_key"] == "fast_track"


def test_an_invalid_new_step_lists_its_problems(source: str) -> None:
    step = {"key": "broken", "status": "nowhere", "successful_state": "resolved"}
    with pytest.raises(ConfigError) as caught:
        dry_run(source, WFS, "ticket", "t0", "admin", step=step)
    assert caught.value.problems
    assert all(p.code.startswith("WF1") for p in caught.value.problems)


def test_repeated_dry_runs_start_from_the_source(source: str) -> None:
    first = dry_run(source, WFS, "ticket", "t0", "user")
    second = dry_run(source, WFS, "ticket", "t0", "user")
    assert first.changes == second.changes == {"status": ("draft", "triaged"), "version": (0, 2)}


def test_a_failed_step_undoes_only_itself_after_committed_ones(source: str) -> None:
    """Committed steps stay, a failed one rolls back alone, and the session carries on.

    On PostgreSQL each commit's RELEASE rides along with the next SAVEPOINT: this pins
    that a rollback after such a commit still stops at the failed step's own savepoint.
    """
    with wfnb.sandbox(source, WFS) as sb:
        assert sb.engine.execute_step("ticket", "t0", "user").final_status == "triaged"
        failed = sb.engine.execute_step(
            "ticket", "t0", "admin", step="resolve", data={"validation": "fail"}
        )
        assert failed.outcome is Outcome.FAILED
        assert [row["status"] for row in sb.rows("tickets")] == ["triaged"]
        assert sb.engine.execute_step("ticket", "t0", "admin", step="refuse").ok
        history = sb.rows("workflow_history", {"entity_id": "t0"})
        assert [h["to_status"] for h in history] == ["submitted", "triaged", "refused"]
        sb.reset()
        assert sb.rows("tickets") == []
        assert sb.engine.execute_step("ticket", "t0", "user").final_status == "triaged"


def test_history_is_only_what_this_call_wrote(source: str) -> None:
    """t1 has history in the source; the dry-run reports only its own rows, in order."""
    dr = dry_run(source, WFS, "ticket", "t1", "admin", step="resolve")
    assert dr.result.final_status == "resolved"
    assert dr.before is not None
    assert dr.before["status"] == "triaged"
    assert dr.after is not None
    assert dr.after["status"] == "resolved"
    assert set(dr.after) == set(dr.before)
    assert [(h["step_key"], h["to_status"]) for h in dr.history] == [
        ("resolve", "resolving"),
        ("resolve", "resolved"),
    ]
    assert all(h["correlation_id"] == dr.result.correlation_id for h in dr.history)
    assert [h["id"] for h in dr.history] == sorted(h["id"] for h in dr.history)


@pytest.mark.pg
def test_postgres_resets_keep_prepared_statements(pg_source: str) -> None:
    """A reset rolls everything back yet keeps psycopg's prepared statements, as commits do."""
    with wfnb.sandbox(pg_source, WFS) as sb:
        for _ in range(8):
            assert sb.engine.execute_step("ticket", "t0", "user").final_status == "triaged"
            sb.reset()
            assert sb.rows("tickets") == []
        with sb.read() as conn:
            prepared = conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar_one() > 0
        assert sb.rows("workflow_history") == []


def test_dry_run_of_an_entity_not_in_the_source(source: str) -> None:
    dr = dry_run(source, WFS, "ticket", "t9", "user")
    assert dr.result.outcome is Outcome.FAILED
    assert dr.result.error is not None
    assert dr.result.error.code == "WF201"
    assert dr.before is None
    assert dr.after is None


def test_sandbox_is_a_full_engine_and_the_module_is_callable(source: str) -> None:
    with wfnb.sandbox(source, WFS) as sb:
        assert sb.engine.execute_step("ticket", "t0", "user").final_status == "triaged"
        r = sb.engine.execute_step("ticket", "t0", "admin", step="resolve")
        assert r.to_status == "resolved"
        assert len(sb.queue.pending()) == 1
        assert [row["status"] for row in sb.rows("tickets")] == ["resolved"]
        kinds = [h["kind"] for h in sb.rows("workflow_history", {"entity_id": "t0"})]
        assert kinds == ["initiated", "initiated", "claimed", "initiated"]
    assert _statuses(source) == {"t0": "draft", "t1": "triaged", "t2": "resolved"}


def _statuses(db: str) -> dict[str, str]:
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM tickets")).all()
    engine.dispose()
    return dict(rows)  # type: ignore[arg-type]


def _all_outcomes(db: str) -> list[DryRun]:
    return [
        dry_run(db, WFS, "ticket", "t0", "user", data={"emit": "x"}),
        dry_run(db, WFS, "ticket", "t0", "user", data={"validation": "reject"}),
        dry_run(db, WFS, "ticket", "t0", "user", data={"action": "fail_permanent"}),
        dry_run(db, WFS, "ticket", "t1", "admin", step="resolve"),
    ]


def _digest(path: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.glob(path.name + "*"))
        # -shm is the shared-memory index any reader rebuilds; an empty -wal holds nothing
        if not p.name.endswith("-shm") and p.stat().st_size > 0
    }


def test_sqlite_source_file_is_untouched(sqlite_url: str) -> None:
    url = sqlite_url
    engine = Engine(WFS, url)
    engine.install()
    testing.create_entity_table(engine.db, WF)
    for i in range(2):
        testing.insert_entity(engine.db, WF, f"t{i}")
    engine.execute_step("ticket", "t1", "user")
    engine.dispose()
    path = Path(sa.make_url(url).database or "")
    before = _digest(path)
    outcomes = _all_outcomes(url)
    with wfnb.sandbox(url, WFS) as sb:
        sb.engine.execute_step("ticket", "t0", "user")
    assert [d.result.outcome for d in outcomes] == [
        Outcome.TRANSITIONED, Outcome.REJECTED, Outcome.FAILED, Outcome.TRANSITIONED
    ]  # fmt: skip
    assert _digest(path) == before
    assert _statuses(url) == {"t0": "draft", "t1": "triaged"}


_PG_STATS = """
SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables
WHERE schemaname = current_schema() ORDER BY relname
"""


_PG_TICKETS = "SELECT id, status, version, xmin::text FROM tickets ORDER BY id"
_PG_HISTORY = "SELECT count(*), max(xmin::text) FROM workflow_history"


def _pg_snapshot(conn: sa.Connection) -> dict[str, object]:
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return {
        "stats": conn.execute(sa.text(_PG_STATS)).all(),
        "tickets": conn.execute(sa.text(_PG_TICKETS)).all(),
        "history": conn.execute(sa.text(_PG_HISTORY)).all(),
        "seq": conn.execute(sa.text("SELECT last_value FROM workflow_history_id_seq")).scalar(),
    }  # fmt: skip


def _settled(db: sa.Engine, predicate: object, timeout: float = 10.0) -> dict[str, object]:
    """Poll until the asynchronous statistics satisfy ``predicate`` (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            snap = _pg_snapshot(conn)
        if predicate(snap) or time.monotonic() > deadline:  # type: ignore[operator]
            return snap
        time.sleep(0.1)


@pytest.mark.pg
def test_postgres_source_is_untouched(pg_source: str) -> None:
    source = pg_source
    admin = sa.create_engine(source)
    with admin.connect() as conn:
        before = _pg_snapshot(conn)
    outcomes = _all_outcomes(source)
    wfnb.sandbox.hosts.close_all()  # end the sandbox sessions: their statistics flush
    assert outcomes[3].changes["status"] == ("triaged", "resolved")
    # positive control: one real step shows up in the statistics; the dry-runs never did
    real = Engine(WFS, source)
    real.execute_step("ticket", "t0", "user").raise_for_error()
    real.dispose()
    ins = {r[0]: r[1] for r in before["stats"]}  # type: ignore[attr-defined]

    def flushed(snap: dict[str, object]) -> bool:
        now = {r[0]: r[1] for r in snap["stats"]}  # type: ignore[attr-defined]
        return bool(now["workflow_history"] >= ins["workflow_history"] + 2)

    after = _settled(admin, flushed)
    stats_before = {r[0]: r[1:] for r in before["stats"]}  # type: ignore[attr-defined]
    stats_after = {r[0]: r[1:] for r in after["stats"]}  # type: ignore[attr-defined]
    # the real submit + auto-advanced triage: 2 history rows, 2 entity updates, nothing else
    assert stats_after["workflow_history"][0] - stats_before["workflow_history"][0] == 2
    assert stats_after["tickets"][1] - stats_before["tickets"][1] == 2
    assert (
        stats_after["workflow_permanent_failure_log"]
        == stats_before["workflow_permanent_failure_log"]
    )
    assert after["seq"] == before["seq"] + 2  # type: ignore[operator]
    untouched = [t for t in before["tickets"] if t[0] != "t0"]  # type: ignore[attr-defined]
    assert [t for t in after["tickets"] if t[0] != "t0"] == untouched  # type: ignore[attr-defined]
    admin.dispose()


@pytest.mark.pg
def test_postgres_dry_run_through_a_read_only_role(pg_source: str) -> None:
    source = pg_source
    role = f"wfnb_ro_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(source, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'))
    readonly = sa.make_url(source).set(username=role).render_as_string(hide_password=False)
    try:
        dr = dry_run(readonly, WFS, "ticket", "t1", "admin", step="resolve")
        assert dr.changes["status"] == ("triaged", "resolved")
        assert [h["kind"] for h in dr.history] == ["claimed", "initiated"]
        real = Engine(WFS, readonly)  # the role really cannot write: a real step fails
        with pytest.raises(StoreError, match="permission denied"):
            real.execute_step("ticket", "t1", "admin", step="resolve")
        real.dispose()
    finally:
        wfnb.sandbox.hosts.close_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()
    assert _statuses(source)["t1"] == "triaged"


def test_unknown_workflow_and_a_workflow_model_list(source: str) -> None:
    from wfnb.exceptions import UnknownWorkflowError

    with pytest.raises(UnknownWorkflowError):
        dry_run(source, WFS, "nope", "t0", "user")
    wf: Workflow = WF
    assert dry_run(source, [wf], "ticket", "t0", "user").result.ok
