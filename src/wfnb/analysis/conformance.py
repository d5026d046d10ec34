"""``conformance()``: replay ``workflow_history`` against the config in force at each row.

Every row is checked against the config whose ``config_hash`` it carries (found among the
loaded workflows or in the git history of their folder, see
:mod:`wfnb.analysis.conformance_rules`), and every entity's current status against its
last row. The history is read in replay order a page of whole entities at a time, as
Arrow where an ADBC driver reaches the database (:mod:`wfnb.store.replay`), and each page
is judged and dropped (:class:`~wfnb.analysis.conformance_batch.Judge`), so memory does not
grow with the history; the entities' statuses are one read per workflow, and the
timestamps of the few rows a deviation or a deadline needs one more per page. The checks
are vectorised (:mod:`wfnb.analysis.conformance_rows`,
:mod:`wfnb.analysis.conformance_entities`). See docs/adr/0070, 0071, 0110 and 0111.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from wfnb.analysis import conformance_rows as row_checks
from wfnb.analysis.conformance_batch import Judge, Statuses, Verdicts, page_frame
from wfnb.analysis.conformance_report import (
    ROW_KINDS,
    ConformanceReport,
    DeviationKind,
    deviation_table,
)
from wfnb.analysis.conformance_rules import ConfigIndex
from wfnb.engine.clock import Clock
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow, Workflows
from wfnb.store import Store, arrow, audit, replay
from wfnb.store import simulation as simulation_sql

__all__ = [
    "DEFAULT_GRACE",
    "NOW_CHOICES",
    "ConformanceReport",
    "DeviationKind",
    "conformance",
    "judging_moment",
]

DEFAULT_GRACE = timedelta(minutes=15)
"""How late a timer may fire before it counts as overdue (workers poll, queues lag)."""


WorkflowsLike = Workflows | Mapping[str, Workflow] | Iterable[Workflow]


def _as_workflows(wfs: WorkflowsLike) -> dict[str, Workflow]:
    if isinstance(wfs, Workflow):
        return {wfs.name: wfs}
    if isinstance(wfs, Mapping):
        return dict(wfs)
    models = list(wfs)
    if not all(isinstance(w, Workflow) for w in models):
        raise WfnbUsageError("conformance() takes loaded workflows (wfnb.load_workflows)")
    return {w.name: w for w in models}


NOW_CHOICES = ("end", "wall")
"""Words ``now`` may be instead of a moment: the data's own end, or the wall clock."""


def _data_end(db: sa.Engine | str | sa.URL, workflows: Iterable[str]) -> datetime | None:
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn:
            last = audit.last_changed_at(conn, list(workflows))
    finally:
        store.dispose()
    if last is None:
        return None
    return last if last.tzinfo else last.replace(tzinfo=UTC)


def _is_simulated(db: sa.Engine | str | sa.URL) -> bool:
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn:
            return bool(simulation_sql.select_manifest_details(conn, "build"))
    finally:
        store.dispose()


def judging_moment(
    db: sa.Engine | str | sa.URL,
    workflows: Iterable[str],
    now: datetime | str | None = None,
    clock: Clock | None = None,
) -> tuple[datetime, str]:
    """The moment timers and claims are judged at, and why that one (see :func:`conformance`).

    Raises:
        WfnbUsageError: ``now`` is a word other than ``"end"`` or ``"wall"``.
    """
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=UTC)), "as asked"
    if now is not None and now not in NOW_CHOICES:
        raise WfnbUsageError(f"now must be a date, a datetime, 'end' or 'wall', got {now!r}")
    if now is None and clock is not None:
        return clock.now(), "the engine's clock"
    if now == "end" or (now is None and _is_simulated(db)):
        end = _data_end(db, workflows)
        if end is not None:
            why = "the last history row" + ("" if now else ", as this is a simulated dataset")
            return end, why
    return datetime.now(UTC), "the wall clock"


def conformance(
    db: sa.Engine | str | sa.URL,
    wfs: WorkflowsLike,
    *,
    workflows_dir: str | Path | Iterable[str | Path] | None = None,
    now: datetime | str | None = None,
    clock: Clock | None = None,
    grace: timedelta = DEFAULT_GRACE,
    known_configs: Iterable[Workflow] | Mapping[str, Workflow] = (),
    incremental: bool = False,
    workers: int = 1,
    page_rows: int = replay.PAGE_ROWS,
) -> ConformanceReport:
    """Check the recorded history of ``wfs`` against the config in force at each row.

    Args:
        db: a SQLAlchemy Engine or URL holding ``workflow_history`` and the entity tables.
        wfs: the loaded workflows; only their history is read.
        workflows_dir: where older configs are found in git (default: the folders the
            workflows were loaded from).
        now: the moment overdue timers and stale claims are judged at: a datetime,
            ``"end"`` (the last history row's time) or ``"wall"`` (the system clock). By
            default ``clock``'s time; else, for a simulated dataset (the demo, which records
            itself in ``wfnb_demo_manifest``), the end of its history, since its virtual
            clock stopped there; else the system clock, UTC. The report says which.
        clock: a clock to take ``now`` from (a virtual clock in simulations).
        grace: how late a timer may be before it is overdue.
        known_configs: older configs kept outside git (an archive, a deployment record,
            the demo's manifest): looked up by ``config_hash`` before git is searched.
        incremental: judge only the rows after the last run's checkpoint (kept in the
            engine-owned ``wfnb_conformance_*`` tables, per workflow and config set)
            and keep the new verdicts; the report is the one a full run gives (ADR 0112).
        workers: judge in this many threads, each a slice of the entities on its own
            connection (a full run only); the report is the same (ADR 0113).
        page_rows: history rows judged at a time (whole entities; see ADR 0111): what
            bounds the memory the check needs, whatever the length of the history.

    Returns:
        The report: ``fitness``, ``deviations`` (one row per deviation) and ``by_config``.

    Raises:
        StoreError: the history or an entity table cannot be read.
        WfnbUsageError: ``workers`` below 1, or with ``incremental`` (WF400).
    """
    workflows = _as_workflows(wfs)
    moment, why = judging_moment(db, workflows, now, clock)
    dirs = [workflows_dir] if isinstance(workflows_dir, str | Path) else workflows_dir
    index = ConfigIndex.of(workflows, dirs)
    extra = known_configs.values() if isinstance(known_configs, Mapping) else known_configs
    for old in extra:
        index.configs.setdefault(old.config_hash, old)
        index.revs.setdefault(old.config_hash, old.config_rev)
    if incremental and workers != 1:
        raise WfnbUsageError("workers judge a full run; an incremental run takes no workers")
    if workers < 1:
        raise WfnbUsageError(f"workers must be 1 or more, got {workers}")
    if incremental:
        from wfnb.analysis.conformance_incremental import incremental_conformance  # noqa: PLC0415

        return incremental_conformance(db, workflows, index, (moment, why), grace)
    if workers > 1:
        from wfnb.analysis.conformance_parallel import parallel_conformance  # noqa: PLC0415

        return parallel_conformance(db, workflows, index, (moment, why), grace, workers=workers)
    judge = Judge(index=index, now=pd.Timestamp(moment), grace=grace, statuses={})
    found = Verdicts()
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn, arrow.mirror(conn) as adbc:
            judge.statuses = Statuses(conn, adbc, workflows)
            for page in replay.replay_pages(conn, adbc, list(workflows), page_rows):
                found.add(judge.judge(conn, page_frame(page)))
    finally:
        store.dispose()
    deviations = found.deviation_frame()
    row_bad = deviations[deviations["kind"].isin(list(ROW_KINDS))]["history_id"].nunique()
    return ConformanceReport(
        fitness=1.0 - row_bad / found.rows if found.rows else 1.0,
        rows=found.rows,
        deviations=deviation_table(deviations),
        by_config=row_checks.by_config(found.count_frame(), index),
        now=moment,
        workflows=tuple(sorted(workflows)),
        now_source=why,
    )
