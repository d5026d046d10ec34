"""The audit trigger (ADR 0104): a status change by hand is a ``manual`` history row; the
engine's own writes never are; conformance tells "manual, recorded" from "unexplained"."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.engines import Build, engine_builder
from tests.names import defined_functions
from wfnb import testing
from wfnb.analysis.conformance import conformance
from wfnb.engine import Engine
from wfnb.engine.usecases import Result
from wfnb.spec import Workflows
from wfnb.store import HISTORY, manual
from wfnb.store.tables import KIND_CHECK


@pytest.fixture
def build(db_url: str) -> Iterator[Build]:
    with engine_builder(db_url, id_format="e{}") as make:
        yield make


def plain(engine: Engine, sql: str, **params: Any) -> None:
    """``sql`` through a connection of its own, as a person in psql or sqlite3 would."""
    db = sa.create_engine(engine.db.url)
    try:
        with db.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        db.dispose()


def rows(engine: Engine, entity_id: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(HISTORY).order_by(HISTORY.c.id)
    if entity_id is not None:
        stmt = stmt.where(HISTORY.c.entity_id == entity_id)
    with engine.db.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


@contextmanager
def support_role(url: str) -> Iterator[str]:
    """A login role (no superuser, no BYPASSRLS) that may read and update, and its URL."""
    role = f"support_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        for ddl in (
            f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS',
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        ):
            conn.exec_driver_sql(ddl)
    try:
        yield sa.make_url(url).set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"
                ),
                {"r": role},
            )
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def manual_rows(engine: Engine) -> list[dict[str, Any]]:
    return [r for r in rows(engine) if r["kind"] == "manual"]


def test_a_status_update_by_hand_is_one_manual_row(build: Build) -> None:
    engine, wf = build(entities=2)
    engine.install(audit_trigger=True)
    engine.install(audit_trigger=True)  # idempotent: still one trigger
    assert engine.execute_step("ticket", "e0", "admin").ok
    sql = "UPDATE tickets SET status = 'closed' WHERE id = 'e0'"
    if engine.store.is_postgres:
        sql = "SET LOCAL app.reason = 'ticket 42'; " + sql
    plain(engine, sql)
    history = rows(engine, "e0")
    assert [(r["kind"], r["from_status"], r["to_status"]) for r in history] == [
        ("initiated", "draft", "triaged"),
        ("manual", "triaged", "closed"),
    ]
    manual = history[-1]
    assert manual["workflow"] == "ticket"
    assert manual["entity_table"] == "tickets"
    assert manual["entity_version"] == 1  # the UPDATE left the version where it was
    assert manual["config_hash"] == wf.config_hash  # the entity's last row's config
    assert manual["step_key"] is None
    assert manual["changed_at"] is not None
    if engine.store.is_postgres:
        assert manual["source"] == "postgres"
        assert manual["metadata"]["db_role"] == "postgres"
        assert manual["metadata"]["session_user"] == "postgres"
        assert manual["metadata"]["settings"] == {"app.reason": "ticket 42"}
    else:  # SQLite has no roles nor session settings: a stated limit
        assert manual["source"] is None
        assert manual["metadata"] == {"db_role": None, "settings": {}}
    assert [r["entity_id"] for r in manual_rows(engine)] == ["e0"]


def test_updates_that_leave_the_status_write_nothing(build: Build) -> None:
    engine, _ = build(entities=1)
    engine.install(audit_trigger=True)
    plain(engine, "UPDATE tickets SET title = 'renamed' WHERE id = 'e0'")
    plain(engine, "UPDATE tickets SET status = 'draft', version = version + 1 WHERE id = 'e0'")
    assert rows(engine) == []


def test_without_the_trigger_a_hand_update_leaves_no_row(build: Build) -> None:
    engine, _ = build(entities=1)
    engine.install()  # the default: no trigger
    plain(engine, "UPDATE tickets SET status = 'closed' WHERE id = 'e0'")
    assert rows(engine) == []


def test_engine_writes_are_never_manual(build: Build) -> None:
    """Steps from many threads, a batch (which swaps and re-points rows), an observation,
    a claim and its release: history rows of their own kinds, and not one ``manual``."""
    n = 24
    engine, _ = build(
        entities=n,
        observed_transitions=[{"from": "triaged", "to": "refused", "source": "crm"}],
    )
    engine.install(audit_trigger=True)
    errors: list[BaseException] = []

    def run(ids: list[str]) -> None:
        try:
            for i in ids:
                engine.execute_step("ticket", i, "user")  # submit, then auto-advance: triage
        except BaseException as exc:  # noqa: BLE001  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=([f"e{i}" for i in range(k, n // 2, 4)],))
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    told = {"action:e13": "fail", "action:e14": "fail_permanent", "validation:e15": "reject"}
    batch = engine.execute_batch("ticket", [f"e{i}" for i in range(n // 2, n)], "admin", data=told)
    assert sum(r.ok for r in batch) == n // 2 - 2  # swapped, then re-pointed or undone
    resolve = {"step": "resolve"}  # a claim, then the move or the release
    assert engine.execute_step("ticket", "e0", "admin", **resolve).ok
    assert engine.execute_step("ticket", "e1", "system", data={"action": "fail"}, **resolve).error
    failing = {"action": "fail_permanent"}
    assert engine.execute_step("ticket", "e2", "admin", data=failing, **resolve).error
    assert engine.observe("ticket", "e3", "refused", source="crm").ok
    assert manual_rows(engine) == []
    kinds = {r["kind"] for r in rows(engine)}
    assert kinds >= {"initiated", "claimed", "released", "rejected", "observed"}
    plain(engine, "UPDATE tickets SET status = 'refused' WHERE id = 'e5'")
    assert [r["entity_id"] for r in manual_rows(engine)] == ["e5"]


def test_an_older_history_table_is_widened_to_take_manual(db_url: str) -> None:
    wf = testing.make_workflow()
    db = sa.create_engine(db_url)
    old = KIND_CHECK.replace(", 'manual'", "")
    with db.begin() as conn:  # the table as an older wfnb created it
        ddl = str(sa.schema.CreateTable(HISTORY).compile(dialect=conn.dialect))
        assert KIND_CHECK in ddl
        conn.exec_driver_sql(ddl.replace(KIND_CHECK, old))
    engine = Engine([wf], db)
    try:
        testing.create_entity_table(db, wf)
        testing.insert_entities(db, wf, ["e0"])
        engine.install(audit_trigger=True)
        engine.install(audit_trigger=True)
        plain(engine, "UPDATE tickets SET status = 'closed' WHERE id = 'e0'")
        assert [r["kind"] for r in rows(engine)] == ["manual"]
        with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:  # unknown kinds: no
            conn.execute(
                    sa.insert(HISTORY),
                    {**dict.fromkeys(("workflow", "entity_table", "entity_id", "to_status"), "x"),
                     "kind": "bogus", "config_hash": "h", "metadata": {},
                     "changed_at": datetime.now(UTC)},
                )  # fmt: skip
    finally:
        engine.dispose()
        db.dispose()


def test_conformance_tells_manual_recorded_from_unexplained(build: Build) -> None:
    engine, wf = build(entities=3)
    assert engine.execute_step("ticket", "e0", "admin").ok
    assert engine.execute_step("ticket", "e1", "admin").ok
    plain(engine, "UPDATE tickets SET status = 'refused' WHERE id = 'e1'")  # no trigger yet
    engine.install(audit_trigger=True)
    plain(engine, "UPDATE tickets SET status = 'closed' WHERE id = 'e0'")
    report = conformance(engine.db, Workflows({wf.name: wf}), now="wall")
    kinds = dict(zip(report.deviations["entity_id"], report.deviations["kind"], strict=True))
    assert kinds == {"e0": "manual", "e1": "status_mismatch"}
    by_hand = report.by_hand()
    assert list(by_hand["entity_id"]) == ["e0", "e1"]
    assert list(by_hand["category"]) == ["manual, recorded", "unexplained"]
    assert report.counts() == {"manual": 1, "status_mismatch": 1}
    assert report.row_deviations == 1  # the manual row is a row the config did not write


@pytest.mark.pg
def test_postgres_records_the_role_tenant_and_context_of_a_hand_update(pg_url: str) -> None:
    with engine_builder(pg_url, id_format="e{}", tenant_id="acme") as make:
        engine, _ = make(entities=2, entity={"table": "tickets", "tenant_column": "tenant_id"})
        engine.install(audit_trigger=True)
        assert engine.execute_step("ticket", "e0", "admin", tenant_id="acme").ok
        with support_role(pg_url) as url:
            db = sa.create_engine(url)
            try:
                with db.begin() as conn:  # no tenant set: RLS would hide the history row
                    conn.exec_driver_sql("SET LOCAL app.user_id = 'alice'")
                    conn.exec_driver_sql("SET LOCAL app.correlation_id = 'INC-7'")
                    conn.exec_driver_sql("UPDATE tickets SET status = 'closed' WHERE id = 'e0'")
                    role = conn.exec_driver_sql("SELECT current_user").scalar()
                    tenant = conn.exec_driver_sql(
                        "SELECT current_setting('app.tenant_id', true)"
                    ).scalar()
            finally:
                db.dispose()
        assert tenant in {None, ""}  # the trigger gave the session its tenant back
        manual = manual_rows(engine)
        assert len(manual) == 1
        row = manual[0]
        assert (row["source"], row["tenant_id"], row["user_id"], row["correlation_id"]) == (
            role,
            "acme",
            "alice",
            "INC-7",
        )
        assert row["metadata"]["db_role"] == role
        assert row["metadata"]["settings"] == {
            "app.user_id": "alice",
            "app.correlation_id": "INC-7",
        }


@pytest.mark.pg
def test_postgres_engine_transactions_carry_the_request_context(pg_url: str) -> None:
    seen: list[tuple[Any, ...]] = []

    def look(ctx: Any) -> Result:
        seen.append(
            tuple(
                ctx.conn.execute(sa.text(f"SELECT current_setting('{name}', true)")).scalar()
                for name in ("app.user_id", "app.correlation_id", "app.requester_type")
            )
        )
        return Result.ok()

    with engine_builder(pg_url, id_format="e{}") as make:
        engine, wf = make(entities=1)
        engine.use_cases.override(wf, "check", look)
        engine.execute_step("ticket", "e0", "user", user_id="u7", correlation_id="c-1")
    assert seen[0] == ("u7", "c-1", "user")


def test_every_audit_trigger_statement_is_a_named_documented_function() -> None:
    assert set(manual.MANUAL_QUERY_NAMES) == set(defined_functions(manual))
    for name in manual.MANUAL_QUERY_NAMES:
        assert (getattr(manual, name).__doc__ or "").strip(), name


def test_the_entity_timeline_shows_a_hand_update_as_manual_by_its_role(build: Build) -> None:
    from wfnb.jupyter.widgets import EntityTimeline  # the notebook layer

    engine, wf = build(entities=1)
    engine.install(audit_trigger=True)
    plain(engine, "UPDATE tickets SET status = 'closed' WHERE id = 'e0'")
    timeline = EntityTimeline(engine.db, Workflows({wf.name: wf}))
    timeline.workflow.value = "ticket"
    timeline.entity.value = "e0"
    html = timeline.output.value
    assert "draft → closed" in html
    assert "<td>manual</td>" in html or ">manual<" in html
    assert "source / role" in html
    assert "manual: changed by hand draft → closed outside the engine" in html
    if engine.store.is_postgres:
        assert "postgres" in html
