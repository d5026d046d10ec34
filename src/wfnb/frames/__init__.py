"""History, failure-log, entity and timer tables as pandas DataFrames, filtered in SQL.

Every filter and aggregation runs in the database (the statements live in
``wfnb.store.reads``); only the answer crosses the wire. ``db`` is a URL or a SQLAlchemy
``Engine``; nothing here holds state between calls.

Example:
    >>> from wfnb import frames
    >>> frames.history(db, workflow="invoice", kind=["rejected", "timer"], since="2026-01-01")
    >>> frames.dwell_times(db, "invoice")          # count / open / mean / p50 / p95 per status
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from wfnb.exceptions import WfnbUsageError
from wfnb.frames.display import Frame, as_frame
from wfnb.frames.reading import (
    CHUNKSIZE,
    DbLike,
    connect,
    dialect_of,
    moment,
    read_frame,
    typed,
)
from wfnb.frames.variants import variants
from wfnb.spec import Workflow
from wfnb.store import queries, reads
from wfnb.store.errors import wrap_errors

if TYPE_CHECKING:
    from wfnb.timers.port import JobQueue

__all__ = [
    "Frame",
    "dwell_times",
    "entities",
    "failures",
    "history",
    "stays",
    "throughput",
    "timers",
    "transition_counts",
    "variants",
]

Many = str | Sequence[str] | None
When = str | datetime | None
_HISTORY_CATEGORIES = (
    "workflow", "entity_table", "kind", "step_key", "from_status", "to_status",
    "requester_type", "source", "config_hash", "config_rev",
)  # fmt: skip
_HISTORY_STRINGS = ("entity_id", "tenant_id", "user_id", "correlation_id")
_FAILURE_CATEGORIES = ("workflow", "entity_table", "status", "step_key", "error_code")
_FAILURE_STRINGS = ("entity_id", "tenant_id", "error_message", "correlation_id", "user_id")


def _filters(
    workflow: str | Workflow | Sequence[str] | None,
    entity_id: Any,
    tenant_id: str | None,
    since: When,
    until: When,
    **more: Any,
) -> reads.Filters:
    """The filters every log read shares, plus the table's own (``more``)."""
    name = workflow.name if isinstance(workflow, Workflow) else workflow
    return reads.Filters(
        workflow=name,
        entity_id=entity_id,
        tenant_id=tenant_id,
        since=moment(since),
        until=moment(until),
        **more,
    )


def _checked_limit(limit: int | None) -> int | None:
    """``limit`` if it is None or at least 1; else one WF400 line."""
    if limit is not None and limit < 1:
        raise WfnbUsageError(f"limit must be 1 or more (got {limit}); without a limit, every row")
    return limit


def history(  # noqa: PLR0917  # api.md fixes the positional order
    db: DbLike,
    workflow: str | Workflow | Sequence[str] | None = None,
    entity_id: Any = None,
    tenant_id: str | None = None,
    since: When = None,
    until: When = None,
    step: Many = None,
    kind: Many = None,
    metadata: dict[Any, Any] | None = None,
    limit: int | None = None,
    *,
    status: Many = None,
    from_status: Many = None,
    user: Many = None,
    newest_first: bool = True,
    chunksize: int = CHUNKSIZE,
    progress: bool | None = None,
) -> Frame:
    """``workflow_history`` rows, newest first, every filter applied in SQL.

    Every matching row is returned unless ``limit`` is given; then the newest ``limit``
    rows are, and a cut frame says so: ``attrs["wfnb_total"]`` is the number of rows that
    matched (a ``COUNT(*)`` in the same transaction), ``attrs["wfnb_returned"]`` the rows
    it holds, and its display reads "1,000 of 8,560 rows".

    Args:
        db: a URL or a SQLAlchemy engine.
        workflow: one workflow name (or ``Workflow``), or several.
        entity_id: one entity id or a list of them.
        tenant_id: only this tenant's rows; on PostgreSQL also sets ``app.tenant_id`` for RLS.
        since: rows changed at or after this moment (str or datetime; naive means UTC).
        until: rows changed before this moment.
        step: one step key or several.
        kind: one history kind (``initiated``, ``rejected``, ...) or several.
        metadata: ``{json_path: value}``; a path is ``"a.b"`` or a tuple of keys.
        limit: at most this many rows (the newest, unless ``newest_first=False``).
        status: the status entered (``to_status``), one or several.
        from_status: the status left, one or several.
        user: the ``user_id`` who asked, one or several.
        newest_first: order by ``changed_at`` descending (False: oldest first).
        chunksize: rows per fetch while streaming.
        progress: show a tqdm bar (default: in a notebook or terminal only).
    """
    f = _filters(
        workflow,
        entity_id,
        tenant_id,
        since,
        until,
        step=step,
        kind=kind,
        from_status=from_status,
        to_status=status,
        metadata=metadata,
        user_id=user,
    )
    limit = _checked_limit(limit)
    stmt = reads.select_history(f, dialect_of(db), limit, newest_first=newest_first)
    frame = read_frame(
        db,
        stmt,
        tenant_id=tenant_id,
        chunksize=chunksize,
        progress=progress,
        label="history",
        limit=limit,
    )
    typed(
        frame,
        categories=_HISTORY_CATEGORIES,
        strings=_HISTORY_STRINGS,
        stamps=("changed_at",),
        numbers=("duration_ms",),
    )
    return as_frame(frame, {"wfnb_table": "history"})


def failures(  # noqa: PLR0917  # mirrors history's positional order
    db: DbLike,
    workflow: str | Workflow | Sequence[str] | None = None,
    entity_id: Any = None,
    tenant_id: str | None = None,
    since: When = None,
    until: When = None,
    step: Many = None,
    status: Many = None,
    code: Many = None,
    metadata: dict[Any, Any] | None = None,
    limit: int | None = None,
    *,
    user: Many = None,
    newest_first: bool = True,
    chunksize: int = CHUNKSIZE,
    progress: bool | None = None,
) -> Frame:
    """``workflow_permanent_failure_log`` rows, newest first, filtered in SQL.

    Args are those of ``history``; ``status`` is the failure status, ``code`` the
    use case's error code, and ``since``/``until`` bound ``failed_at``. ``user_id`` (and
    the ``user`` filter) is the user of the call that failed, from its history row. A
    ``limit`` cuts as in ``history`` and says so in ``attrs["wfnb_total"]``.
    """
    f = _filters(
        workflow,
        entity_id,
        tenant_id,
        since,
        until,
        step=step,
        to_status=status,
        error_code=code,
        metadata=metadata,
        user_id=user,
    )
    limit = _checked_limit(limit)
    stmt = reads.select_failures(f, dialect_of(db), limit, newest_first=newest_first)
    frame = read_frame(
        db,
        stmt,
        tenant_id=tenant_id,
        chunksize=chunksize,
        progress=progress,
        label="failures",
        limit=limit,
    )
    typed(frame, categories=_FAILURE_CATEGORIES, strings=_FAILURE_STRINGS, stamps=("failed_at",))
    return as_frame(frame, {"wfnb_table": "failures"})


def entities(
    db: DbLike, wf: Workflow, status: Many = None, *, tenant_id: str | None = None
) -> pd.DataFrame:
    """The workflow's entity table (optionally at ``status``); ``status`` is categorical.

    The status categories are the workflow's ``status_types``, in declaration order.
    """
    spec = wf.entity
    with connect(db, tenant_id) as conn, wrap_errors("entities"):
        table = queries.reflect_entity_table(conn, spec.table)  # may be schema-qualified
        tenant = (
            (spec.tenant_column, tenant_id)
            if spec.tenant_column and tenant_id is not None
            else None
        )
        result = conn.execute(reads.select_entities(table, spec.status_column, status, tenant))
        frame = pd.DataFrame.from_records(list(result), columns=list(result.keys()))
    frame[spec.status_column] = pd.Categorical(
        frame[spec.status_column], categories=list(wf.status_types)
    )
    return frame


def _workflow_filters(
    workflow: str | Workflow, since: When, until: When, tenant_id: str | None
) -> reads.Filters:
    return _filters(workflow, None, tenant_id, since, until)


def transition_counts(
    db: DbLike,
    workflow: str | Workflow,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> pd.DataFrame:
    """How often each (from_status, to_status, step_key, kind) happened, most frequent first."""
    f = _workflow_filters(workflow, since, until, tenant_id)
    stmt = reads.select_transition_counts(f, dialect_of(db))
    frame = read_frame(db, stmt, tenant_id=tenant_id, progress=False)
    frame["count"] = frame["count"].astype("int64")
    return as_frame(typed(frame, categories=("from_status", "to_status", "step_key", "kind")))


def _timedelta(seconds: pd.Series) -> pd.Series:
    return pd.to_timedelta(pd.to_numeric(seconds).astype("float64"), unit="s")


def dwell_times(
    db: DbLike,
    workflow: str | Workflow,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> pd.DataFrame:
    """Time spent at each status: completed stays (``count``), ``open`` stays, mean, p50, p95.

    A stay starts with the history row entering a status and ends at the entity's next
    row (``LEAD`` over the entity's rows, in SQL); percentiles are linear-interpolated.
    """
    f = _workflow_filters(workflow, since, until, tenant_id)
    stmt = reads.select_dwell_stats(f, dialect_of(db))
    frame = read_frame(db, stmt, tenant_id=tenant_id, progress=False)
    frame = frame.sort_values("status", ignore_index=True)
    for name in ("count", "open"):
        frame[name] = frame[name].astype("int64")
    for name in ("mean", "p50", "p95"):
        frame[name] = _timedelta(frame[name])
    return as_frame(typed(frame, strings=("status",)))


def stays(
    db: DbLike,
    workflow: str | Workflow,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> pd.DataFrame:
    """Every completed stay as ``(status, duration)``: only these two columns are fetched."""
    f = _workflow_filters(workflow, since, until, tenant_id)
    stmt = reads.select_completed_stays(f, dialect_of(db))
    frame = read_frame(db, stmt, tenant_id=tenant_id, label="stays")
    frame["duration"] = _timedelta(frame.pop("seconds"))
    return as_frame(typed(frame, categories=("status",)))


def throughput(
    db: DbLike,
    workflow: str | Workflow,
    freq: str = "D",
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> pd.DataFrame:
    """Transitions (and distinct entities moved) per ``freq`` bucket (h, D, W, M), in UTC."""
    f = _workflow_filters(workflow, since, until, tenant_id)
    stmt = reads.select_throughput(f, dialect_of(db), freq)
    frame = read_frame(db, stmt, tenant_id=tenant_id, progress=False)
    for name in ("transitions", "entities"):
        frame[name] = frame[name].astype("int64")
    return as_frame(typed(frame, stamps=("bucket",)))


_TIMER_COLUMNS = (
    "workflow", "entity_id", "timer_key", "step", "requester_type", "status",
    "entered_version", "due_at", "dedup_key",
)  # fmt: skip


def timers(queue_or_db: JobQueue | DbLike) -> pd.DataFrame:
    """Pending timer jobs, earliest due first.

    Args:
        queue_or_db: a queue with ``pending()`` (``InMemoryQueue``, ``ProcrastinateQueue``),
            or a PostgreSQL URL / engine whose procrastinate tables hold the timers.
    """
    if not isinstance(queue_or_db, sa.Engine | str | sa.URL):
        jobs = list(queue_or_db.pending())
    else:
        from wfnb.timers.durable import ProcrastinateQueue  # noqa: PLC0415  # optional extra

        queue = ProcrastinateQueue(queue_or_db, recovery_cron=None)
        try:
            jobs = list(queue.pending())
        finally:
            queue.dispose()
    rows = [[*(getattr(j, c) for c in _TIMER_COLUMNS)] for j in jobs]
    frame = pd.DataFrame(rows, columns=list(_TIMER_COLUMNS))
    frame["entered_version"] = frame["entered_version"].astype("int64")
    return as_frame(
        typed(
            frame,
            categories=("workflow", "timer_key", "step", "requester_type", "status"),
            strings=("entity_id", "dedup_key"),
            stamps=("due_at",),
        )
    )
