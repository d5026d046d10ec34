"""``import_log``: an event log (XES, OCEL 2.0, CSV, Parquet) into history and entities.

Events are read one at a time, turned into history rows (:mod:`wfnb.eventlog.mapping`)
and inserted in batches inside ONE transaction, then each case's entity row is written:
a malformed file is one WF401 line with its position and nothing is written.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import sqlalchemy as sa

from wfnb.eventlog import ocel, tabular, xes
from wfnb.eventlog.formats import format_of
from wfnb.eventlog.mapping import LogMapping, RowBuilder
from wfnb.exceptions import EventLogError, WfnbUsageError
from wfnb.spec import Workflow
from wfnb.store import Store
from wfnb.store import eventlog as sql
from wfnb.store.urls import sqlite_file

__all__ = ["ImportReport", "import_log"]

_BATCH = 5000
DbLike = sa.Engine | str | sa.URL


def _n(count: int, noun: str) -> str:
    """``1 case``, ``1,434 cases``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What ``import_log`` wrote; ``skipped`` counts events of workflows not imported."""

    path: str
    format: str
    events: int
    cases: int
    entities_inserted: int
    entities_updated: int
    skipped: Mapping[str, int]
    seconds: float

    def __str__(self) -> str:
        text = (
            f"imported {_n(self.events, 'event')} of {_n(self.cases, 'case')} from {self.path} "
            f"({self.format}); entities: {self.entities_inserted:,} inserted, "
            f"{self.entities_updated:,} updated"
        )
        if self.skipped:
            parts = ", ".join(f"{n:,} of {w}" for w, n in sorted(self.skipped.items()))
            text += f"; skipped events of workflows not imported: {parts}"
        return text


def _workflows(
    workflow: Workflow | str | Iterable[Workflow | str] | Mapping[str, Workflow],
    wfs: Mapping[str, Workflow] | None,
) -> dict[str, Workflow]:
    if isinstance(workflow, Workflow):
        return {workflow.name: workflow}
    if isinstance(workflow, Mapping):
        return dict(workflow)
    items = [workflow] if isinstance(workflow, str) else list(workflow)
    found: dict[str, Workflow] = {}
    for item in items:
        if isinstance(item, Workflow):
            found[item.name] = item
        elif wfs is not None and item in wfs:
            found[item] = wfs[item]
        else:
            known = f" (loaded: {', '.join(sorted(wfs))})" if wfs else " (pass wfs=)"
            raise WfnbUsageError(f"unknown workflow {item!r}{known}", value=item)
    if not found:
        raise WfnbUsageError("import_log needs at least one workflow")
    return found


class _Guard:
    """Inserts history batches unless a case already has history in its workflow.

    An import never rewrites an entity's past (ADR 0120): a case whose entity has any
    history row in that workflow is refused, all of them are counted, and nothing is
    written. The ids inserted are kept to drop the outbox rows the trigger made.
    """

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.clashes: list[tuple[str, str]] = []
        self.ids: list[int] = []

    def insert(self, conn: sa.Connection, batch: list[dict[str, Any]]) -> int:
        fresh: dict[str, list[str]] = {}
        for row in batch:
            key = (str(row["workflow"]), str(row["entity_id"]))
            if key not in self.seen:
                self.seen.add(key)
                fresh.setdefault(key[0], []).append(key[1])
        for name, ids in fresh.items():
            found = sql.cases_with_history(conn, name, ids)
            self.clashes.extend((name, i) for i in ids if i in found)
        if self.clashes:
            return 0  # refused at the end, once every clash is counted
        self.ids.extend(sql.insert_history_rows(conn, batch))
        return len(batch)

    def check(self) -> None:
        if not self.clashes:
            return
        name, first = self.clashes[0]
        count = len(self.clashes)
        raise EventLogError(
            f"{_n(count, 'case')} already {'has' if count == 1 else 'have'} history in "
            f"workflow {name!r} (first: {first!r}); an import never rewrites an entity's "
            "history: export it, or import only new cases"
        )


def _events(
    fmt: str, path: Path, stack: ExitStack, mapping: LogMapping, table: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any], tuple[int, int]]]:
    if fmt == "parquet":
        return tabular.read_parquet(str(path))
    raw: IO[bytes] = stack.enter_context(path.open("rb"))
    if path.name.lower().endswith(".gz"):
        unzipped = gzip.GzipFile(fileobj=raw, mode="rb")
        stack.callback(unzipped.close)
        raw = cast("IO[bytes]", unzipped)
    if fmt == "xes":
        return xes.read_xes(raw)
    if fmt == "csv":
        columns = [tabular.CASE + mapping.case, tabular.CASE + "wfnb:entity_id"]
        if mapping.case != mapping.activity:
            columns.append(mapping.case)
        return tabular.read_csv(raw, columns)
    return ocel.read_ocel(raw, mapping.object_type, table)


def import_log(
    path: str | os.PathLike[str],
    db: DbLike,
    *,
    workflow: Workflow | str | Iterable[Workflow | str] | Mapping[str, Workflow],
    mapping: LogMapping | Mapping[str, Any] | str | None = None,
    wfs: Mapping[str, Workflow] | None = None,
    format: str | None = None,  # noqa: A002
) -> ImportReport:
    """Load an event log into ``workflow_history`` and the entity tables, in one transaction.

    Args:
        path: an XES (.xes, .xes.gz), OCEL 2.0 (.json), CSV (.csv, .csv.gz) or Parquet file.
        db: the database (engine tables are installed if missing).
        workflow: the workflow(s) the log's cases belong to (Workflow objects, or names
            looked up in ``wfs``); a wfnb export's cases of other workflows are skipped
            and counted.
        mapping: a :class:`LogMapping` (or dict / JSON) for logs wfnb did not write.
        wfs: loaded workflows to look names up in.
        format: the format (default: from the file name).

    Raises:
        EventLogError: a malformed file (WF401, with its position); nothing is written.
        WfnbUsageError: a bad argument or an unreadable file (WF400).
    """
    started = time.perf_counter()
    source = Path(path)
    fmt = format_of(source, format)
    if not source.is_file():
        raise WfnbUsageError(f"cannot read {str(source)!r}: no such file", value=str(source))
    workflows = _workflows(workflow, wfs)
    rules = LogMapping.of(mapping)
    unit = "line" if fmt == "xes" else "event" if fmt == "ocel2" else "row"
    builder = RowBuilder(workflows, rules, unit)
    first = next(iter(workflows.values())).entity.table
    store = Store(db)
    created = sqlite_file(store.engine.url)
    if created is not None and created.exists():
        created = None  # there before: a failed import leaves it as it was (rolled back)
    inserted = updated = events = 0
    failed = True
    try:
        with ExitStack() as stack, store.transaction() as conn:
            sql.install_engine_tables(conn)
            batch: list[dict[str, Any]] = []
            guard = _Guard()
            for case, event, where in _events(fmt, source, stack, rules, first):
                row = builder.row(case, event, where)
                if row is not None:
                    batch.append(row)
                if len(batch) >= _BATCH:
                    events += guard.insert(conn, batch)
                    batch.clear()
            events += guard.insert(conn, batch)
            guard.check()
            sql.delete_outbox_rows(conn, guard.ids)
            for name, states in builder.entity_states():
                spec = workflows[name].entity
                table = sql.entity_table_or_none(conn, spec)
                if table is None:
                    table = sql.create_entity_table(conn, spec)
                new, old = sql.upsert_entities(conn, spec, table, states)
                inserted, updated = inserted + new, updated + old
        failed = False
    except EventLogError as exc:
        position = exc.fields.get("position")
        raise EventLogError(
            f"{source.name}: {exc.message}", path=str(source), position=position
        ) from None
    finally:
        store.dispose()
        if failed and created is not None:
            created.unlink(missing_ok=True)  # no file left behind by a refused import
    return ImportReport(
        str(source), fmt, events, len(builder.cases), inserted, updated,
        dict(builder.skipped), time.perf_counter() - started,
    )  # fmt: skip
