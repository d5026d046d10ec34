"""The simulation loop: entities driven through the real engine on a virtual clock.

One heap holds the next scheduled event of every entity (an arrival or a sampled
action); the in-memory queue holds the timers the engine armed. The loop always takes
whichever comes first, jumps the virtual clock to it and runs it through the real
``Engine`` (``created``, ``execute_step``, ``execute_batch``, ``observe``, timers via
``queue.run_until``). After every call the entity's next action is sampled from the
scenario for the status it reached. Every step a person runs carries their ``user_id``:
the entity's own actor (the member) or a staff member drawn from a random stream of its
own, so naming who acts never changes what happens. See
docs/adr/0080-simulation-scheduling.md.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from wfnb.engine.core import Engine, WorkflowsLike
from wfnb.engine.cron import system_caller
from wfnb.engine.results import StepResult
from wfnb.simulation.progress import DayProgress
from wfnb.simulation.queue import SimQueue
from wfnb.simulation.recording import RequestLog
from wfnb.simulation.report import SimulationReport, Tally
from wfnb.simulation.scenario import Action, Arrival, Scenario, fill, load_scenario, resolve_ref
from wfnb.spec import Workflow
from wfnb.store import simulation as sim_sql
from wfnb.timers import VirtualClock

__all__ = ["DEFAULT_START", "SIMULATION_CRON", "Simulation", "simulate"]

SIMULATION_CRON = "wfnb.simulation"
"""The cron name simulated actors of a declared system requester type run under (ADR 0103)."""

DEFAULT_START = datetime(2026, 5, 1, tzinfo=UTC)
Factory = Callable[..., Mapping[str, Any]]


@dataclass(slots=True)
class _Entity:
    workflow: str
    tenant: str | None
    status: str
    epoch: int = 0
    actors: dict[str, str] = field(default_factory=dict)
    """Requester type -> the user id of whoever acts as it on this entity."""


@dataclass(frozen=True, slots=True)
class _Act:
    key: tuple[str, str]
    epoch: int
    action: Action


@dataclass(frozen=True, slots=True)
class _Arrive:
    arrival: Arrival


class Simulation:
    """A running simulation; ``simulate`` is the one-call form.

    Args:
        db: a SQLAlchemy engine or URL, with the entity tables already created.
        wfs: the workflows the engine runs (``use`` swaps them mid-run).
        scenario: a ``Scenario`` (or a dict / JSON file path).
        seed: the seed of the one ``random.Random`` every sample comes from.
        start: the virtual clock's first moment.
        janitors: owning module -> janitor, registered on every engine.
        record_requests: keep each call's payload in history metadata (``request``).
    """

    def __init__(
        self,
        db: sa.Engine | str | sa.URL,
        wfs: WorkflowsLike,
        scenario: Scenario | Mapping[str, Any] | str,
        *,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        janitors: Mapping[str, Callable[..., Any]] | None = None,
        record_requests: bool = True,
    ) -> None:
        self.scenario = load_scenario(scenario)
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311  # sampling a simulation, not secrets
        # who acts is drawn from its own stream: naming people leaves the run unchanged
        self.who = random.Random(f"{seed}:who")  # noqa: S311
        self.clock = VirtualClock(start=start)
        self.queue = SimQueue(self.clock)
        self.janitors = dict(janitors or {})
        self.engine = self._engine(wfs, db)
        self.engine.install()
        self.scenario.check_against(list(self.engine.workflows))
        self.start = self.clock.now()
        self.entities: dict[tuple[str, str], _Entity] = {}
        self.tally = Tally()
        self.prefix = f"sim-{seed}-"
        self.log = RequestLog(self.prefix) if record_requests else None
        self._heap: list[tuple[datetime, int, _Act | _Arrive]] = []
        self._seq = itertools.count()
        self._calls = itertools.count()
        self._ids = itertools.count(1)
        self._ran = 0
        self._wall = 0.0

    def _engine(self, wfs: WorkflowsLike, db: sa.Engine | str | sa.URL) -> Engine:
        engine = Engine(wfs, db, queue=self.queue, clock=self.clock)
        for owner, janitor in self.janitors.items():
            engine.register_janitor(owner, janitor)
        return engine

    # --- public --------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The virtual clock's current moment."""
        return self.clock.now()

    def use(self, wfs: WorkflowsLike) -> Engine:
        """Continue with other workflow versions (same database, clock and timers)."""
        self.engine = self._engine(wfs, self.engine.db)
        return self.engine

    def plan_arrivals(self, until: datetime) -> None:
        """Schedule every arrival of the scenario between now and ``until``."""
        for arrival in self.scenario.arrivals:
            for moment in arrival.moments(self.now, until, self.rng):
                self._push(moment, _Arrive(arrival))

    def run_until(
        self, until: datetime, *, progress: bool = False, bar: DayProgress | None = None
    ) -> None:
        """Run events and timers up to ``until`` (the clock ends there).

        Args:
            until: the last virtual moment of this call.
            progress: show a bar of the virtual days of this call.
            bar: a bar that spans several calls instead (it ends full at its own end).
        """
        began = time.perf_counter()
        own = bar is None
        days = bar if bar is not None else DayProgress(self.now, until, enabled=progress)
        try:
            while (moment := self._step(until)) is not None:
                days.to(moment)
            self.queue.run_until(until)
            self._after_timers()
            days.to(until)
        finally:
            if own:
                days.close()
        if self.log is not None:
            self.log.flush(self.engine.store)
        self._wall += time.perf_counter() - began

    def create(
        self,
        workflow: str,
        *,
        tenant_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        factory: Factory | str | None = None,
        id_prefix: str | None = None,
    ) -> str:
        """Insert a new entity (at the initial status), record it and plan its first action."""
        entity_id = f"{id_prefix or workflow}_{next(self._ids):06d}"
        fields = {"id": entity_id, "tenant": tenant_id or ""}
        make = resolve_ref(factory) if isinstance(factory, str) else factory
        with self.engine.store.transaction(tenant_id) as conn:
            inserted = (make or self._bare_row)(
                conn,
                entity_id=entity_id,
                tenant_id=tenant_id,
                at=self.now,
                values=fill(dict(values or {}), fields),
                workflow=self.engine.workflow(workflow),
            )
        cid = self._cid()
        result = self.engine.created(workflow, entity_id, tenant_id=tenant_id, correlation_id=cid)
        self.tally.created[workflow] += 1
        self._record(cid, workflow, entity_id, tenant_id, {"values": dict(inserted)})
        wf = self.engine.workflow(workflow)
        ws = self.scenario.workflows.get(workflow)
        actors = ws.actors_of({**fields, **inserted}) if ws is not None else {}
        self.entities[workflow, entity_id] = _Entity(
            workflow, tenant_id, wf.initial_status, actors=actors
        )
        self._settle((workflow, entity_id), result, consumed=True)
        return entity_id

    def report(self) -> SimulationReport:
        """What happened so far."""
        with self.engine.store.transaction(readonly=True) as conn:
            rows = sim_sql.count_history_tagged(conn, self.prefix)
        t = self.tally
        return SimulationReport(
            seed=self.seed,
            start=self.start,
            until=self.now,
            created=dict(t.created),
            transitions=dict(t.outcomes),
            failures=dict(t.failures),
            timers_fired=t.timers_fired,
            timers_stale=t.timers_stale,
            permanent_failures=t.permanent_failures,
            calls=t.calls,
            history_rows=int(rows),
            wall_seconds=self._wall,
            correlation_prefix=self.prefix,
        )

    # --- the loop ------------------------------------------------------------------------
    def _step(self, until: datetime) -> datetime | None:
        """Run the earliest due thing (timers first on a tie); None when nothing is left."""
        event = self._heap[0][0] if self._heap else None
        timer = self.queue.next_due()
        if timer is not None and timer <= until and (event is None or timer <= event):
            self.queue.run_until(timer)
            self._after_timers()
            return timer
        if event is None or event > until:
            return None
        if event > self.now:
            self.clock.set(event)
        due = [heapq.heappop(self._heap)[2]]
        while self._heap and self._heap[0][0] == event:
            due.append(heapq.heappop(self._heap)[2])
        self._run(due)
        return event

    def _run(self, due: list[_Act | _Arrive]) -> None:
        batches: dict[tuple[str, str, str, str | None, str | None], list[_Act]] = {}
        for item in due:
            if isinstance(item, _Arrive):
                self._arrive(item.arrival)
            elif self._live(item) and item.action.batch:
                entity = self.entities[item.key]
                requester = item.action.requester_type or ""
                group = (item.key[0], item.action.step or "", requester, entity.tenant)
                batches.setdefault((*group, entity.actors.get(requester)), []).append(item)
            elif self._live(item):
                self._act(item)
        for items in batches.values():
            self._act_batch(items)

    def _arrive(self, arrival: Arrival) -> None:
        self.create(
            arrival.workflow,
            tenant_id=arrival.tenant(self.rng),
            values=arrival.values,
            factory=arrival.factory,
            id_prefix=arrival.id_prefix,
        )

    def _act(self, item: _Act) -> None:
        workflow, entity_id = item.key
        entity, action = self.entities[item.key], item.action
        data = fill(
            action.sample_payload(self.rng), {"id": entity_id, "tenant": entity.tenant or ""}
        )
        cid = self._cid()
        if action.observe is not None:
            result = self.engine.observe(
                workflow,
                entity_id,
                action.observe.to,
                source=action.observe.source,
                data=data or None,
                tenant_id=entity.tenant,
                correlation_id=cid,
            )
        else:
            assert action.requester_type is not None
            wf = self.engine.workflow(workflow)
            with system_caller(wf, action.requester_type, SIMULATION_CRON):  # ADR 0103
                result = self.engine.execute_step(
                    workflow,
                    entity_id,
                    action.requester_type,
                    step=action.step,
                    data=data,
                    tenant_id=entity.tenant,
                    user_id=self._user(entity, action.requester_type),
                    correlation_id=cid,
                )
            self._record(cid, workflow, entity_id, entity.tenant, {"data": data})
        self._count(result)
        self._settle(item.key, result, consumed=True)

    def _act_batch(self, items: list[_Act]) -> None:
        workflow = items[0].key[0]
        action = items[0].action
        first = self.entities[items[0].key]
        data = action.sample_payload(self.rng)
        cid = self._cid()
        assert action.requester_type is not None
        wf = self.engine.workflow(workflow)
        with system_caller(wf, action.requester_type, SIMULATION_CRON):  # ADR 0103
            results = self.engine.execute_batch(
                workflow,
                [item.key[1] for item in items],
                action.requester_type,
                step=action.step,
                data=data,
                tenant_id=first.tenant,
                user_id=self._user(first, action.requester_type),
                correlation_id=cid,
            )
        tenant = first.tenant
        for item, result in zip(items, results, strict=True):
            self._record(cid, workflow, item.key[1], tenant, {"data": data, "batch": True})
            self._count(result)
            self._settle(item.key, result, consumed=True)

    def _after_timers(self) -> None:
        for ran in self.queue.ran[self._ran :]:
            wf = self.engine.workflow(ran.job.workflow)
            self.tally.count_timer(ran.result, failure_statuses=wf.failure_statuses)
            if isinstance(ran.result, StepResult):
                self._settle((ran.job.workflow, ran.job.entity_id), ran.result, consumed=False)
        self._ran = len(self.queue.ran)

    def _settle(self, key: tuple[str, str], result: StepResult, *, consumed: bool) -> None:
        """Follow the entity to its new status; plan its next action when something changed."""
        entity = self.entities.get(key)
        if entity is None:
            return
        reached = result.final_status
        moved = reached is not None and reached != entity.status
        if moved:
            assert reached is not None
            entity.status = reached
            entity.epoch += 1
            hook = self.scenario.hooks.get((key[0], reached))
            if hook is not None:
                hook(self, key[0], key[1])
        if moved or consumed:
            self._plan(key, entity)

    def _plan(self, key: tuple[str, str], entity: _Entity) -> None:
        wf = self.engine.workflow(key[0])
        ws = self.scenario.workflows.get(key[0])
        if ws is None or entity.status in wf.terminal_statuses:
            return
        action = ws.choose(entity.status, self.rng, lambda a: _usable(wf, entity.status, a))
        if action is not None:
            self._push(self.now + action.delay.sample(self.rng), _Act(key, entity.epoch, action))

    # --- small helpers -------------------------------------------------------------------
    def _user(self, entity: _Entity, requester_type: str) -> str | None:
        """Who runs a step as ``requester_type`` on ``entity``: its own actor, else staff."""
        own = entity.actors.get(requester_type)
        if own is not None:
            return own
        return self.scenario.pick_staff(requester_type, entity.tenant, self.who)

    def _live(self, item: _Act) -> bool:
        entity = self.entities.get(item.key)
        return entity is not None and entity.epoch == item.epoch

    def _push(self, due: datetime, item: _Act | _Arrive) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), item))

    def _cid(self) -> str:
        return f"{self.prefix}{next(self._calls):08d}"

    def _count(self, result: StepResult) -> None:
        wf = self.engine.workflow(result.workflow)
        self.tally.count(result, failure_statuses=wf.failure_statuses)

    def _record(
        self,
        cid: str,
        workflow: str,
        entity_id: str,
        tenant: str | None,
        request: Mapping[str, Any],
    ) -> None:
        if self.log is not None:
            self.log.add(cid, workflow, entity_id, tenant, request)

    def _bare_row(
        self,
        conn: sa.Connection,
        *,
        entity_id: str,
        tenant_id: str | None,
        workflow: Workflow,
        values: Mapping[str, Any],
        **_: Any,
    ) -> dict[str, Any]:
        """Default factory: id, initial status, version 1, tenant, plus ``values``."""
        spec = workflow.entity
        row: dict[str, Any] = {
            spec.id_column: entity_id,
            spec.status_column: workflow.initial_status,
            spec.version_column: 1,
            **values,
        }
        if spec.tenant_column is not None:
            row[spec.tenant_column] = tenant_id
        sim_sql.insert_entity_rows(conn, self.engine.store.entity_table(spec), [row])
        return row


def _usable(wf: Workflow, status: str, action: Action) -> bool:
    """Whether the running config still has the action's step / observation at ``status``."""
    if action.step is not None:
        step = wf.step(action.step)
        return step is not None and step.status == status
    if action.observe is not None:
        target = action.observe
        return any(
            o.from_ == status and o.to == target.to and o.source == target.source
            for o in wf.observed_transitions
        )
    return True


def simulate(
    db: sa.Engine | str | sa.URL,
    wfs: WorkflowsLike,
    scenario: Scenario | Mapping[str, Any] | str,
    *,
    entities: int | Mapping[str, int] | None = None,
    start: datetime = DEFAULT_START,
    until: datetime | timedelta | None = None,
    seed: int = 0,
    progress: bool = True,
    janitors: Mapping[str, Callable[..., Any]] | None = None,
    record_requests: bool = True,
) -> SimulationReport:
    """Drive entities through ``wfs`` on ``db`` as the scenario says, on a virtual clock.

    Args:
        db: SQLite or PostgreSQL (URL or engine) with the entity tables created; the
            engine's own tables are installed here.
        wfs: the workflows (``load_workflows`` output or models).
        scenario: what entities do and who arrives (a ``Scenario``, dict or JSON path).
        entities: arrivals per workflow (a mapping), or one count for every arrival.
        start: the first virtual moment (aware).
        until: the last virtual moment, or a duration after ``start`` (default 30 days).
        seed: same seed, same history (ids and correlation ids included).
        progress: show a tqdm bar of virtual days.
        janitors: owning module -> claim janitor to register.
        record_requests: keep payloads in the first history row of each call.

    Returns:
        The ``SimulationReport``; the database holds the history production would write.
    """
    sim = Simulation(
        db,
        wfs,
        scenario,
        seed=seed,
        start=start,
        janitors=janitors,
        record_requests=record_requests,
    )
    if entities is not None:
        counts = (
            {a.workflow: entities for a in sim.scenario.arrivals}
            if isinstance(entities, int)
            else dict(entities)
        )
        sim.scenario = sim.scenario.scaled(counts)
    end = start + (until if isinstance(until, timedelta) else timedelta(days=30))
    if isinstance(until, datetime):
        end = until
    sim.plan_arrivals(end)
    try:
        sim.run_until(end, progress=progress)
        return sim.report()
    finally:
        if not isinstance(db, sa.Engine):
            sim.engine.dispose()  # the engine made its own pool from the URL
