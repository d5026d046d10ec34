"""Replaying recorded requests under a candidate config, in a throwaway SQLite database.

The throwaway database gets the engine's tables and the entity tables (the example
domain's whole schema, without the status CHECKs so a candidate may add statuses, or a
clone of each entity table reflected from the source). Each entity row is inserted when
its creation is replayed, with the values the simulation recorded (or today's row reset
to the initial status). Requests run at their recorded moments on a virtual clock; the
candidate's timers fire on their own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from wfnb.engine.core import Engine
from wfnb.engine.cron import system_caller
from wfnb.engine.results import StepResult
from wfnb.examples.energy import janitors, schema
from wfnb.simulation.queue import SimQueue
from wfnb.simulation.recorded import Recorded, Request
from wfnb.spec import Workflow, Workflows
from wfnb.store import Store, make_engine, queries
from wfnb.store import simulation as sim_sql
from wfnb.timers import VirtualClock

__all__ = ["REPLAY_CRON", "Replay", "ReplayedTimer"]

REPLAY_CRON = "wfnb.replay"
"""The cron name replayed requests of a declared system requester type run under (ADR 0103)."""


def _is_example(wf: Workflow) -> bool:
    return wf.entity.table in schema.metadata.tables and wf.use_cases.startswith(
        "wfnb.examples.energy"
    )


def _example_tables(target: sa.Engine) -> None:
    """The example schema, minus the status CHECKs (a candidate may add statuses)."""
    md = sa.MetaData()
    for table in schema.metadata.sorted_tables:
        copy = table.to_metadata(md)
        check = schema.status_check_name(table.name)
        for constraint in list(copy.constraints):
            if isinstance(constraint, sa.CheckConstraint) and constraint.name == check:
                copy.constraints.discard(constraint)
    md.create_all(target)


def _cloned_table(source: sa.Engine, target: sa.Engine, name: str) -> None:
    """The entity table ``name`` reflected from ``source``: columns and primary key only."""
    reflected = sa.Table(name, sa.MetaData(), autoload_with=source)
    columns = [
        sa.Column(c.name, c.type.as_generic(), primary_key=c.primary_key, nullable=True)
        for c in reflected.columns
    ]
    sa.Table(name, sa.MetaData(), *columns).create(target)


def _coerce(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """Recorded JSON values back to Python for the columns' types (dates, times)."""
    out: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in table.c:
            continue
        kind = table.c[key].type
        value = raw
        if isinstance(raw, str) and isinstance(kind, sa.DateTime):
            value = datetime.fromisoformat(raw)
        elif isinstance(raw, str) and isinstance(kind, sa.Date):
            value = date.fromisoformat(raw)
        out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class ReplayedTimer:
    """A timer that moved the entity during the replay."""

    at: datetime
    step_key: str | None
    to_status: str


@dataclass
class Replay:
    """A throwaway database, engine and virtual clock running one candidate config."""

    source: sa.Engine
    workflows: Workflows
    start: datetime
    folder: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="wfnb-whatif-")
    )

    def __post_init__(self) -> None:
        self.db = make_engine(f"sqlite:///{Path(self.folder.name) / 'whatif.db'}")
        event.listen(self.db, "connect", lambda c, _r: c.execute("PRAGMA synchronous = OFF"))
        self.db.dispose()
        if any(_is_example(wf) for wf in self.workflows.values()):
            _example_tables(self.db)
        existing = set(sa.inspect(self.db).get_table_names())
        for wf in self.workflows.values():
            if wf.entity.table not in existing and sa.inspect(self.source).has_table(
                wf.entity.table
            ):
                _cloned_table(self.source, self.db, wf.entity.table)
        self.clock = VirtualClock(start=self.start)
        self.queue = SimQueue(self.clock)
        self.engine = Engine(self.workflows, self.db, queue=self.queue, clock=self.clock)
        self.engine.install()
        for owner, janitor in janitors().items():
            self.engine.register_janitor(owner, janitor)
        self._seen = 0
        self._source = Store(self.source)  # a caller's engine: its pool is left alone
        self.timers: dict[tuple[str, str], list[ReplayedTimer]] = {}

    def advance(self, moment: datetime) -> None:
        """Run the candidate's timers up to ``moment``."""
        if moment > self.clock.now():
            self.queue.run_until(moment)
        for ran in self.queue.ran[self._seen :]:
            result = ran.result
            if isinstance(result, StepResult) and result.final_status is not None:
                key = (ran.job.workflow, ran.job.entity_id)
                timer = ReplayedTimer(ran.ran_at, result.step, result.final_status)
                self.timers.setdefault(key, []).append(timer)
        self._seen = len(self.queue.ran)

    def run(self, recorded: Recorded, request: Request) -> StepResult:
        """Replay one recorded request at its moment."""
        self.advance(request.at)
        name, entity_id = recorded.workflow, recorded.entity_id
        if request.is_creation:
            self._insert(self.workflows[name], entity_id, request)
            return self.engine.created(
                name, entity_id, tenant_id=request.tenant_id, correlation_id=request.correlation_id
            )
        if request.kind == "observed":
            return self.engine.observe(
                name,
                entity_id,
                request.to_status,
                source=request.source or "",
                data=dict(request.data) or None,
                tenant_id=request.tenant_id,
                correlation_id=request.correlation_id,
            )
        requester = request.requester_type or "system"
        # recorded system work came from a cron: replayed in one (ADR 0103)
        with system_caller(self.workflows[name], requester, REPLAY_CRON):
            return self.engine.execute_step(
                name,
                entity_id,
                requester,
                step=request.step_key,
                data=dict(request.data),
                tenant_id=request.tenant_id,
                user_id=request.user_id,
                correlation_id=request.correlation_id,
            )

    def _insert(self, wf: Workflow, entity_id: str, request: Request) -> None:
        spec = wf.entity
        table = self.engine.store.entity_table(spec)
        values = (
            dict(request.values) if request.values is not None else self._current(wf, entity_id)
        )
        row = _coerce(table, values)
        row.update({spec.id_column: entity_id, spec.status_column: wf.initial_status})
        with self.db.begin() as conn:
            sim_sql.insert_entity_rows(conn, table, [row])

    def _current(self, wf: Workflow, entity_id: str) -> dict[str, Any]:
        """Today's row in the source (no recorded values): its columns, status reset."""
        spec = wf.entity
        table = self._source.entity_table(spec)
        with self._source.transaction(readonly=True) as conn:
            row = queries.select_entity(conn, table, spec, entity_id, None)
        values = dict(row or {})
        values.pop(spec.version_column, None)  # the column default: the creation version
        return values

    def status(self, recorded: Recorded) -> str | None:
        """The replayed entity's status now."""
        spec = self.workflows[recorded.workflow].entity
        store = self.engine.store
        with store.transaction(readonly=True) as conn:
            row = queries.select_entity(
                conn, store.entity_table(spec), spec, recorded.entity_id, None
            )
        return None if row is None else str(row[spec.status_column])

    def close(self) -> None:
        """Dispose of the engine and delete the throwaway database."""
        self.engine.dispose()
        self.db.dispose()
        self.folder.cleanup()


def wrote_rows(result: StepResult) -> bool:
    """Whether the call wrote history (a failure or pathless rejection wrote none)."""
    return result.to_status is not None
