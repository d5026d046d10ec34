"""``conformance(..., workers=N)``: the full check in N slices of entities, in threads.

Each worker reads the rows of a range of entity ids (``wfnb.store.slices``: every row of
an entity in one slice, since a row's verdict needs its entity's earlier rows) on its own
connection, and judges them as the one-piece check does; the slices' verdicts, entity
findings and row counts are then put together into the same report (ADR 0113).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from wfnb.analysis import conformance_entities as entity_checks
from wfnb.analysis.conformance_incremental import _report
from wfnb.analysis.conformance_report import ConformanceReport
from wfnb.analysis.conformance_rows import row_deviations, rules_frames
from wfnb.analysis.conformance_rules import ConfigIndex
from wfnb.spec import Workflow
from wfnb.store import Store, audit, slices

__all__ = ["parallel_conformance"]

Part = tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, str], int]]


def _judge_slice(
    store: Store,
    workflows: dict[str, Workflow],
    index: tuple[ConfigIndex, threading.Lock],
    bounds: slices.Bounds,
    judged: tuple[pd.Timestamp, timedelta],
) -> Part:
    """(row deviations, entity deviations, rows per (workflow, config)) of one slice."""
    configs, lock = index
    with store.transaction(readonly=True) as conn:
        columns, rows = slices.select_replay_slice(conn, sorted(workflows), bounds)
        df = pd.DataFrame(rows, columns=columns)
        hashes = set(df["config_hash"].unique())
        with lock:  # the index walks git and fills its dicts
            unknown = configs.find(hashes)
            frames = rules_frames(configs, hashes - unknown)
        rows_flagged = row_deviations(df, configs, frames)
        states = entity_checks.entity_states(conn, workflows, df)
        entries, fired = entity_checks.entries_and_fired(df)
        wanted = rows_flagged["history_id"].tolist()
        stamps = audit.select_changed_at(
            conn, wanted + entity_checks.stamped_ids(states, entries, frames["timers"])
        )
    rows_flagged["changed_at"] = pd.to_datetime(rows_flagged["history_id"].map(stamps), utc=True)
    entries["entered_at"] = pd.to_datetime(entries["entry_id"].map(stamps), utc=True)
    states["changed_at"] = pd.to_datetime(states["history_id"].map(stamps), utc=True)
    moment, grace = judged
    entity_flagged = entity_checks.entity_deviations(
        states, frames, moment, grace, (entries, fired)
    )
    counts = df.groupby(["workflow", "config_hash"]).size()
    keys = counts.index.to_list()
    return (
        rows_flagged,
        entity_flagged,
        {(str(k[0]), str(k[1])): int(n) for k, n in zip(keys, counts.to_numpy(), strict=True)},
    )


def parallel_conformance(
    db: sa.Engine | str | sa.URL,
    workflows: dict[str, Workflow],
    index: ConfigIndex,
    judged_at: tuple[datetime, str],
    grace: timedelta,
    *,
    workers: int,
) -> ConformanceReport:
    """The report of ``conformance(db, workflows)``, judged by ``workers`` threads."""
    store = Store(db)
    moment, why = judged_at
    try:
        with store.transaction(readonly=True) as conn:
            bounds = slices.entity_bounds(conn, sorted(workflows), workers)
        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wfnb-conformance") as pool:
            parts = list(
                pool.map(
                    lambda b: _judge_slice(
                        store, workflows, (index, lock), b, (pd.Timestamp(moment), grace)
                    ),
                    bounds,
                )
            )
    finally:
        store.dispose()
    counts: dict[tuple[str, str], int] = {}
    for _, _, part in parts:
        for key, n in part.items():
            counts[key] = counts.get(key, 0) + n
    rows_flagged = pd.concat([p[0] for p in parts], ignore_index=True)
    found = [p[1] for p in parts if not p[1].empty]
    entity_flagged = pd.concat(found, ignore_index=True) if found else parts[0][1]
    return _report(
        rows_flagged, entity_flagged, counts, index, (moment, why, tuple(sorted(workflows)))
    )
