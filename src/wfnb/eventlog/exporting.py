"""``export_log``: the history as an event log (XES, OCEL 2.0, CSV, Parquet), streamed.

The history is read in chunks ordered by workflow, entity, time and id; each entity
becomes a case and each row an event (:mod:`wfnb.eventlog.fields`), handed as a stream to
the format's writer, into a temporary file renamed at the end: a failed export leaves no
half file. Memory holds one chunk of rows, whatever the size of the history.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from wfnb.eventlog import ocel, tabular, xes
from wfnb.eventlog.fields import ACTIVITIES, case_attributes, event_attributes, utc
from wfnb.eventlog.formats import format_of
from wfnb.exceptions import UnknownWorkflowError, WfnbUsageError
from wfnb.spec import EntitySpec, Workflow
from wfnb.store import Store
from wfnb.store import eventlog as sql
from wfnb.suggest import did_you_mean

__all__ = ["ExportReport", "export_log"]

DbLike = sa.Engine | str | sa.URL


def _n(count: int, noun: str) -> str:
    """``1 case``, ``1,434 cases``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What ``export_log`` wrote."""

    path: str
    format: str
    cases: int
    events: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"wrote {_n(self.events, 'event')} of {_n(self.cases, 'case')} to {self.path} "
            f"({self.format}, {self.seconds:.1f}s)"
        )


def _check_names(
    conn: sa.Connection, names: list[str] | None, wfs: Mapping[str, Workflow] | None
) -> None:
    """WF200 naming the closest for a workflow neither loaded nor in the history."""
    if not names:
        return
    known = sql.history_workflows(conn) | set(wfs or {})
    for name in names:
        if name not in known:
            hint = did_you_mean(name, sorted(known))
            listed = ", ".join(sorted(known)) or "none"
            raise UnknownWorkflowError(
                f"unknown workflow {name!r}{hint} (known: {listed})", workflow=name
            )


def _names(workflow: str | Sequence[str] | None) -> list[str] | None:
    if workflow is None:
        return None
    return [workflow] if isinstance(workflow, str) else list(workflow)


def _items(
    conn: sa.Connection,
    names: list[str] | None,
    window: tuple[datetime | None, datetime | None, str | None],
    activity: str,
    wfs: Mapping[str, Workflow] | None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The export stream: ``("case", attrs)`` before each entity's ``("event", attrs)``."""
    tables: dict[str, tuple[EntitySpec, sa.Table | None]] = {}
    qualified = names is None or len(names) != 1
    current: tuple[str, str] | None = None
    since, until, tenant = window
    for chunk in sql.stream_history(
        conn, workflow=names, since=since, until=until, tenant_id=tenant
    ):
        wanted: dict[str, set[str]] = {}
        for row in chunk:
            wanted.setdefault(row["workflow"], set()).add(row["entity_id"])
            if row["workflow"] not in tables:
                known = wfs.get(row["workflow"]) if wfs is not None else None
                spec = known.entity if known else EntitySpec(table=row["entity_table"])
                tables[row["workflow"]] = (spec, sql.entity_table_or_none(conn, spec))
        states: dict[str, dict[str, Any]] = {}
        for name, ids in wanted.items():
            spec, table = tables[name]
            if table is not None:
                states[name] = sql.select_entity_states(conn, spec, table, sorted(ids))
        for row in chunk:
            key = (row["workflow"], row["entity_id"])
            if key != current:
                current = key
                state = states.get(key[0], {}).get(key[1])
                yield (
                    "case",
                    case_attributes(
                        key[0], row["entity_table"], key[1], state, qualified=qualified
                    ),
                )
            yield "event", event_attributes(row, activity)  # type: ignore[arg-type]


def _open_out(path: Path, compress: bool) -> IO[str]:
    if compress:
        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def export_log(
    db: DbLike,
    path: str | os.PathLike[str],
    *,
    workflow: str | Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: str | None = None,
    format: str | None = None,  # noqa: A002  # the issue's name for it
    activity: str = "status",
    wfs: Mapping[str, Workflow] | None = None,
) -> ExportReport:
    """Write the history (filtered) as an event log: XES, OCEL 2.0, CSV or Parquet.

    Args:
        db: the database.
        path: the file (``.gz`` compresses XES and CSV); replaced only when complete.
        workflow: one workflow or several (default: all).
        since: rows from this moment on (inclusive).
        until: rows before this moment.
        tenant_id: one tenant's rows.
        format: ``xes``, ``ocel2``, ``csv`` or ``parquet`` (default: from the file name).
        activity: what ``concept:name`` is: the ``status`` entered or the ``step`` key.
        wfs: loaded workflows, for entity tables with non-default column names.

    Raises:
        WfnbUsageError: a bad format or activity, or no folder to write in (WF400).
        StoreError: the read failed.
    """
    started = time.perf_counter()
    target = Path(path)
    fmt = format_of(target, format)
    if activity not in ACTIVITIES:
        raise WfnbUsageError(f"activity must be 'status' or 'step', not {activity!r}")
    if target.is_dir() or not target.parent.is_dir():
        why = "it is a folder" if target.is_dir() else f"no folder {target.parent}"
        raise WfnbUsageError(f"cannot write {target}: {why}", value=str(target))
    partial = target.with_name(f".{target.name}.partial")
    store = Store(db)
    try:
        with store.transaction(tenant_id, readonly=True) as conn:
            window = (utc(since) if since else None, utc(until) if until else None, tenant_id)
            names = _names(workflow)
            _check_names(conn, names, wfs)
            items = _items(conn, names, window, activity, wfs)
            if fmt == "parquet":
                cases, events = tabular.write_parquet(str(partial), items)
            else:
                with _open_out(partial, target.name.lower().endswith(".gz")) as out:
                    if fmt == "xes":
                        log = {"concept:name": "wfnb history", "wfnb:activity": activity}
                        cases, events = xes.write_xes(out, items, log)
                    elif fmt == "ocel2":
                        cases, events = ocel.write_ocel(out, items)
                    else:
                        cases, events = tabular.write_csv(out, items)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        store.dispose()
    return ExportReport(str(target), fmt, cases, events, time.perf_counter() - started)
