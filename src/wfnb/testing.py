"""Test helpers users import: a throwaway SQLite store, a workflow factory, entity tables.

``make_workflow()`` builds a small valid workflow (``ticket``) whose use cases live here
and do what the step's payload tells them, so every path of the engine can be driven
from a test without writing a use-case module::

    engine.execute_step("ticket", tid, "user", data={"validation": "reject"})
    engine.execute_step("ticket", tid, "admin", data={"action": "fail"})

An instruction is ``ok`` (default), ``reject``, ``fail``, ``fail_permanent``, ``raise``
or ``crash`` (SIGKILL the process: crash-recovery tests). ``"action:<id>"`` targets one
entity of a batch. ``CALLS`` counts use-case calls per (use case, entity id).
"""

from __future__ import annotations

import copy
import os
import signal
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wfnb.engine.usecases import Result, StepContext, batch
from wfnb.spec import Workflow
from wfnb.store import configure_sqlite, queries
from wfnb.store import simulation as sim_sql

__all__ = [
    "CALLS",
    "DEFAULT_WORKFLOW",
    "act",
    "act_many",
    "check",
    "check_many",
    "create_entity_table",
    "insert_entities",
    "insert_entity",
    "make_workflow",
    "notify_rejected",
    "reset_calls",
    "sqlite_engine",
]

DEFAULT_WORKFLOW: dict[str, Any] = {
    "name": "ticket",
    "description": "A support ticket: draft, submitted, triaged, resolved, closed.",
    "owning_module": "support",
    "entity": {"table": "tickets"},
    "use_cases": "wfnb.testing",
    "requester_types": ["user", "admin", "system"],
    "status_types": [
        "draft", "submitted", "triaged", "resolving", "resolved", "closed", "refused", "failed",
    ],
    "initial_status": "draft",
    "terminal_statuses": ["closed", "refused", "failed"],
    "failure_statuses": ["failed"],
    "steps": [
        {
            "key": "submit",
            "status": "draft",
            "requester_types": ["user", "admin"],
            "validation": "check",
            "action": "act",
            "successful_state": "submitted",
            "rejection": {"state": "draft", "action": "notify_rejected"},
            "auto_advance": True,
            "overrides": {"admin": {"successful_state": "triaged", "auto_advance": False}},
        },
        {"key": "triage", "status": "submitted", "requester_types": ["user", "system"],
         "validation": "check", "successful_state": "triaged"},
        {"key": "abandon", "status": "submitted", "requester_types": ["admin"],
         "successful_state": "failed"},
        {"key": "resolve", "status": "triaged", "requester_types": ["admin", "system"],
         "validation": "check", "action": "act", "successful_state": "resolved",
         "claim": {"status": "resolving", "stale_after": "PT10M"}},
        {"key": "refuse", "status": "triaged", "requester_types": ["admin"],
         "successful_state": "refused"},
        {"key": "close", "status": "resolved", "requester_types": ["user", "admin"],
         "successful_state": "closed"},
        {"key": "reopen", "status": "resolved", "requester_types": ["user"],
         "successful_state": "triaged"},
    ],
    "observed_transitions": [{"from": "triaged", "to": "closed", "source": "email"}],
    "timers": [
        {"key": "auto_close", "status": "resolved", "after": "P7D", "step": "close",
         "requester_type": "admin"},
    ],
}  # fmt: skip
"""The default of ``make_workflow``: every feature of the format, small."""

CALLS: Counter[tuple[str, str]] = Counter()
"""How often each (use case, entity id) ran, across threads (reset with ``reset_calls``)."""
_CALLS_LOCK = threading.Lock()


def reset_calls() -> None:
    """Forget the recorded use-case calls."""
    with _CALLS_LOCK:
        CALLS.clear()


def make_workflow(**overrides: Any) -> Workflow:
    """A valid ``Workflow``: ``DEFAULT_WORKFLOW`` with top-level fields replaced.

    Example: ``make_workflow(entity={"table": "tickets", "tenant_column": "tenant_id"})``.
    """
    data = copy.deepcopy(DEFAULT_WORKFLOW)
    data.update(copy.deepcopy(overrides))
    return Workflow.model_validate(data)


def sqlite_engine(tmp_path: str | Path | None = None) -> sa.Engine:
    """A SQLite engine on a fresh file (in ``tmp_path``, else a new temporary folder)."""
    folder = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp(prefix="wfnb-"))
    return configure_sqlite(sa.create_engine(f"sqlite+pysqlite:///{folder / 'wfnb.db'}"))


def create_entity_table(
    db: sa.Engine, wf: Workflow, *, id_type: sa.types.TypeEngine[Any] | None = None
) -> sa.Table:
    """Create a table fitting ``wf``: id, status (CHECK: the status types), version, tenant."""
    spec = wf.entity
    columns: list[Any] = [
        sa.Column(
            spec.id_column, id_type if id_type is not None else sa.String(64), primary_key=True
        ),
        sa.Column(spec.status_column, sa.String(64), nullable=False),
        sa.Column(spec.version_column, sa.Integer, nullable=False, server_default="0"),
        sa.Column("title", sa.String(200), nullable=True),
    ]
    if spec.tenant_column is not None:
        columns.append(sa.Column(spec.tenant_column, sa.String(64), nullable=False, index=True))
    status: sa.ColumnClause[str] = sa.column(spec.status_column, sa.String)
    check = sa.CheckConstraint(status.in_(wf.status_types), name=f"ck_{spec.table}_status")
    table = sa.Table(spec.table, sa.MetaData(), *columns, check)
    with db.begin() as conn:
        table.create(conn, checkfirst=True)
    return table


def insert_entity(
    db: sa.Engine,
    wf: Workflow,
    entity_id: Any,
    *,
    status: str | None = None,
    tenant_id: str | None = None,
    **values: Any,
) -> Any:
    """Insert one entity at ``status`` (default: the initial status), version 0; returns its id."""
    insert_entities(db, wf, [entity_id], status=status, tenant_id=tenant_id, **values)
    return entity_id


def insert_entities(
    db: sa.Engine,
    wf: Workflow,
    entity_ids: Sequence[Any],
    *,
    status: str | None = None,
    tenant_id: str | None = None,
    **values: Any,
) -> list[Any]:
    """Insert entities at ``status`` (default: the initial status), version 0, in one statement.

    ``tenant_id`` fills the tenant column when the workflow has one; ``values`` fill other
    columns of every row. Returns the ids.
    """
    spec = wf.entity
    common = {spec.status_column: status or wf.initial_status, spec.version_column: 0, **values}
    if spec.tenant_column is not None:
        common[spec.tenant_column] = tenant_id
    if entity_ids:
        with db.begin() as conn:
            table = queries.reflect_entity_table(conn, spec.table)
            rows = [{spec.id_column: i, **common} for i in entity_ids]
            sim_sql.insert_entity_rows(conn, table, rows)
    return list(entity_ids)


def _instruction(ctx: StepContext, stage: str) -> str:
    data: Mapping[str, Any] = ctx.data
    return str(data.get(f"{stage}:{ctx.entity_id}", data.get(stage, "ok")))


def _obey(ctx: StepContext, stage: str, name: str) -> Result:
    with _CALLS_LOCK:
        CALLS[(name, ctx.entity_id)] += 1
    what = _instruction(ctx, stage)
    if what == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "raise":
        raise RuntimeError(f"{name} was told to raise")
    if what == "reject":
        return Result.reject(f"{name} said no", by=name)
    if what in ("fail", "fail_permanent"):
        return Result.fail("TEST_FAIL", f"{name} was told to fail", permanent=what != "fail")
    if "emit" in ctx.data:
        ctx.emit(str(ctx.data["emit"]), entity=ctx.entity_id, by=name)
    return Result.ok(**{name: True})


def check(ctx: StepContext) -> Result:
    """Validation use case; obeys ``data["validation"]``."""
    return _obey(ctx, "validation", "check")


def act(ctx: StepContext) -> Result:
    """Action use case; obeys ``data["action"]``."""
    return _obey(ctx, "action", "act")


@batch
def check_many(contexts: list[StepContext]) -> list[Result]:
    """Batch-aware validation; obeys ``data["validation"]`` per entity."""
    with _CALLS_LOCK:
        CALLS[("check_many", "*")] += 1
    return [_obey(ctx, "validation", "check_many") for ctx in contexts]


@batch
def act_many(contexts: list[StepContext]) -> list[Result]:
    """Batch-aware action (one call for many entities); obeys ``data["action"]`` per entity."""
    with _CALLS_LOCK:
        CALLS[("act_many", "*")] += 1
    return [_obey(ctx, "action", "act_many") for ctx in contexts]


def notify_rejected(ctx: StepContext) -> Result:
    """Rejection action; obeys ``data["rejection"]``."""
    return _obey(ctx, "rejection", "notify_rejected")
