"""The demo dataset: six months of an energy community, with planted problems to find.

``build_demo`` simulates members, sharing groups, monthly billing periods and their
invoices through the real engine, then plants what an analyst should discover: the
first months ran an older ``invoice`` config (no ``cancel_approved`` step, so the
history carries two config hashes), and a few entities were moved by hand with an
``UPDATE`` outside the engine. What was planted is written to ``wfnb_demo_manifest`` and
returned in the ``DemoReport``; ``demo_configs`` gives the old config by its hash.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import isodate
import sqlalchemy as sa
from sqlalchemy import event

from wfnb.examples.energy import janitors, schema
from wfnb.exceptions import WfnbUsageError
from wfnb.simulation.energy import energy_scenario
from wfnb.simulation.progress import DayProgress
from wfnb.simulation.report import SimulationReport
from wfnb.simulation.simulate import Simulation
from wfnb.spec import EntitySpec, Workflow
from wfnb.store import Store, make_engine, queries
from wfnb.store import simulation as sim_sql
from wfnb.store.simulation import MANIFEST
from wfnb.validation import load_workflows

__all__ = [
    "DEMO_START",
    "MANIFEST",
    "DemoReport",
    "ManualUpdate",
    "build_demo",
    "demo_configs",
    "old_invoice",
]

DEMO_START = datetime(2026, 5, 1, tzinfo=UTC)
OLD_STEP = "cancel_approved"
"""The step the old ``invoice`` config did not have yet."""


@dataclass(frozen=True, slots=True)
class ManualUpdate:
    """An entity whose status was changed by hand, with no history row."""

    workflow: str
    entity_id: str
    from_status: str
    to_status: str


@dataclass(frozen=True)
class DemoReport:
    """What ``build_demo`` built and planted."""

    db_url: str
    simulation: SimulationReport
    manual_updates: tuple[ManualUpdate, ...]
    old_configs: dict[str, Workflow]
    switched_at: datetime
    build_seconds: float
    params: dict[str, Any] = field(default_factory=dict)

    def planted_ids(self, workflow: str) -> set[str]:
        """Ids of the entities of ``workflow`` moved by hand."""
        return {m.entity_id for m in self.manual_updates if m.workflow == workflow}

    def __repr__(self) -> str:
        return (
            f"<DemoReport {self.simulation.history_rows} history rows, "
            f"{len(self.manual_updates)} manual updates, old configs "
            f"{[h[:12] for h in self.old_configs]}, {self.build_seconds:.1f}s>"
        )


def old_invoice(current: Workflow) -> Workflow:
    """The ``invoice`` config as it was before ``cancel_approved`` existed."""
    data = current.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["steps"] = [s for s in data["steps"] if s["key"] != OLD_STEP]
    return Workflow.model_validate(data).with_origin("wfnb-demo:invoice-v1", None)


def demo_configs(db: sa.Engine | str | None = None) -> dict[str, Workflow]:
    """Old configs the demo ran, by config hash (git history does not hold them).

    Without ``db``: the variant derived from today's example files. With ``db``: the
    configs recorded in that demo database's manifest (exactly what it ran).
    """
    if db is None:
        current = schema.example_workflows()["invoices"]
        old = old_invoice(current)
        return {old.config_hash: old}
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn:
            details = sim_sql.select_manifest_details(conn, "old_config")
    finally:
        store.dispose()
    found = [Workflow.model_validate(d["config"]) for d in details]
    return {wf.config_hash: wf for wf in found}


def _fast_sqlite(engine: sa.Engine) -> None:
    """A demo file needs no fsync per commit (WAL + synchronous=NORMAL)."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", pragma)
        engine.dispose()


def _refuse_used(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if not sim_sql.history_is_empty(conn):
            raise WfnbUsageError(
                f"{engine.url.render_as_string()} already holds a workflow history; "
                "build the demo into an empty database",
                value=engine.url.render_as_string(),
            )


def build_demo(
    db_url: str | sa.URL,
    *,
    seed: int = 7,
    months: int = 6,
    users: int = 3000,
    groups: int | None = None,
    start: datetime = DEMO_START,
    progress: bool = True,
) -> DemoReport:
    """Simulate the energy community for ``months`` months into an empty database.

    Args:
        db_url: where to build (SQLite file or PostgreSQL); must hold no history yet.
        seed: same seed, same dataset.
        months: simulated months (at least 2: the first ones run the old invoice config).
        users: members who sign up over the period.
        groups: sharing groups founded (default: one per 75 members, at least 3).
        start: the first simulated moment (aware).
        progress: show a progress bar.

    Returns:
        The ``DemoReport``: the simulation's counts and everything planted.
    """
    if months < 2:
        raise WfnbUsageError("the demo needs at least 2 months (old config, then current)")
    began = time.perf_counter()
    db = make_engine(db_url)
    _fast_sqlite(db)
    _refuse_used(db)
    schema.create_schema(db)
    current = load_workflows([*schema.example_workflows().values()])
    old = old_invoice(current["invoice"])
    before = load_workflows([old if w.name == "invoice" else w for w in current.values()])
    scenario = energy_scenario(
        users=users, groups=groups if groups is not None else max(3, users // 75), months=months
    )
    sim = Simulation(db, before, scenario, seed=seed, start=start, janitors=janitors())
    end = start + isodate.Duration(months=months)
    switched = start + isodate.Duration(months=min(2, months - 1))
    sim.plan_arrivals(end)
    try:
        with DayProgress(start, end, enabled=progress) as days:
            sim.run_until(switched, bar=days)
            sim.use(current)
            sim.run_until(end, bar=days)
        report = sim.report()
        planted = _plant(db, sim)
        params = {"seed": seed, "months": months, "users": users, "start": start.isoformat()}
        _write_manifest(db, planted, old, switched, params)
    finally:
        db.dispose()
    return DemoReport(
        db_url=db.url.render_as_string(hide_password=False),
        simulation=report,
        manual_updates=tuple(planted),
        old_configs={old.config_hash: old},
        switched_at=switched,
        build_seconds=time.perf_counter() - began,
        params=params,
    )


def _pick(
    conn: sa.Connection,
    entity: EntitySpec,
    table: sa.Table,
    preferred: Sequence[str],
    *,
    avoid: str,
    n: int,
) -> list[tuple[str, str]]:
    """``n`` (id, status) of ``table``: first at ``preferred`` statuses, then any non-``avoid``."""
    rows = sim_sql.select_id_statuses(conn, entity, table, avoid)
    first = [(str(i), s) for i, s in rows if s in preferred]
    rest = [(str(i), s) for i, s in rows if s not in preferred]
    return (first + rest)[:n]


def _plant(db: sa.Engine, sim: Simulation) -> list[ManualUpdate]:
    """Move a few entities by hand, outside the engine (no history row, no version bump)."""
    plan = [
        ("user_registration", ("pending_admin_approval",), "active", 3),
        ("invoice", ("sent", "overdue"), "paid", 2),
    ]
    planted: list[ManualUpdate] = []
    with db.begin() as conn:
        for workflow, preferred, target, n in plan:
            wf = sim.engine.workflow(workflow)
            table = queries.reflect_entity_table(conn, wf.entity.table)
            candidates = _pick(conn, wf.entity, table, preferred, avoid=target, n=n * 4)
            chosen = sorted(sim.rng.sample(candidates, min(n, len(candidates))))
            for entity_id, status in chosen:
                sim_sql.set_status_by_hand(conn, wf.entity, table, entity_id, target)
                planted.append(ManualUpdate(workflow, entity_id, status, target))
    return planted


def _write_manifest(
    db: sa.Engine,
    planted: Sequence[ManualUpdate],
    old: Workflow,
    switched: datetime,
    params: dict[str, Any],
) -> None:
    old_detail = {
        "config_hash": old.config_hash,
        "config": old.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "used_until": switched.isoformat(),
        "missing_step": OLD_STEP,
    }
    rows: list[dict[str, Any]] = [
        {"kind": "build", "workflow": None, "entity_id": None, "detail": params},
        {"kind": "old_config", "workflow": old.name, "entity_id": None, "detail": old_detail},
    ]
    rows += [
        {
            "kind": "manual_update",
            "workflow": m.workflow,
            "entity_id": m.entity_id,
            "detail": {"from": m.from_status, "to": m.to_status},
        }
        for m in planted
    ]
    with db.begin() as conn:
        sim_sql.create_manifest(conn)
        sim_sql.insert_manifest(conn, rows)
