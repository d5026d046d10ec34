"""Incremental conformance: judge only history rows after the checkpoint (ADR 0112).

History is append-only and a row's verdict depends only on its config (named by hash, so
fixed for ever) and on the rows of its entity before it. So row verdicts are judged once
and kept (``wfnb.store.checkpoints``), with each entity's last row, last entry into a
status and the timer steps run since. A run reads the rows after the checkpoint, and for
the entities they touch the judged rows from each one's last entry on (what gap, rerun
and timer checks look back at); entity-level checks (mismatches, overdue timers, stale
claims) are judged afresh every run, in SQL first, over the kept summaries, since the
entity tables and ``now`` move without history. The report equals a full run's.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from wfnb.analysis import conformance_entities as entity_checks
from wfnb.analysis.conformance_report import (
    DEVIATION_COLUMNS,
    ROW_KINDS,
    ConformanceReport,
    deviation_table,
)
from wfnb.analysis.conformance_rows import row_deviations, rules_frames
from wfnb.analysis.conformance_rules import ConfigIndex
from wfnb.spec import Workflow
from wfnb.store import Store, audit
from wfnb.store import checkpoint_reads as ckpt_reads
from wfnb.store import checkpoints as ckpt
from wfnb.store.queries import reflect_entity_table

__all__ = ["config_set", "incremental_conformance"]

_FIRED_SEP = "\n"
_STATE = ["workflow", "entity_id", "history_id", "to_status", "kind", "step_key",
          "requester_type", "config_hash", "status"]  # fmt: skip


def config_set(wf: Workflow, index: ConfigIndex, loaded: set[str]) -> str:
    """The hash naming what ``wf``'s verdicts were judged against: its config and extras."""
    extras = sorted(set(index.configs) - loaded)
    return hashlib.sha256("|".join([wf.config_hash, *extras]).encode()).hexdigest()


def _frame(rows: tuple[list[str], list[tuple[Any, ...]]]) -> pd.DataFrame:
    return pd.DataFrame(rows[1], columns=rows[0])


def _none(value: Any) -> Any:
    """NaN/None as None, anything else as itself (for a row written to the database)."""
    return None if value is None or value != value else value  # noqa: PLR0124  # NaN test


def _summaries(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each entity's last row, last entry and timer steps since, from ``df`` (replay order).

    One dict per touched entity, built from plain arrays (a few thousand at most).
    """
    last = df[entity_checks.last_rows(df)]
    entries, fired = entity_checks.entries_and_fired(df)
    steps: dict[str, list[str]] = {}
    for entity, step in zip(fired["entity_id"], fired["timer_step"], strict=True):
        steps.setdefault(entity, []).append(str(step))
    entry = {
        e: (int(i), h, st)
        for e, i, h, st in zip(
            entries["entity_id"], entries["entry_id"], entries["config_hash"],
            entries["status"], strict=True,
        )
    }  # fmt: skip
    columns = ("entity_id", "id", "to_status", "kind", "step_key", "requester_type", "config_hash")
    out = []
    for entity, hid, to, kind, step, requester, config in zip(
        *(last[c].to_numpy() for c in columns), strict=True
    ):
        at = entry.get(entity, (None, None, None))
        out.append(
            {"entity_id": entity, "history_id": int(hid), "to_status": to, "kind": kind,
             "step_key": _none(step), "requester_type": _none(requester), "config_hash": config,
             "entry_id": at[0], "entry_config_hash": at[1], "entry_status": at[2],
             "fired": _FIRED_SEP.join(sorted(steps.get(entity, [])))}
        )  # fmt: skip
    return out


def _advance(conn: sa.Connection, wf: Workflow, cs: str, index: ConfigIndex) -> None:
    """Judge ``wf``'s rows after its checkpoint and move the checkpoint to the last one."""
    name = wf.name
    ckpt.lock(conn, name)
    point = ckpt.read_checkpoint(conn, name, cs)
    if point is not None and ckpt.rows_below_changed(conn, name, point):
        point = None  # rows committed late below the checkpoint (or were deleted)
    counts = ckpt.select_counts(conn, name, cs) if point is not None else {}
    if point is not None and index.find(counts) != point.unknown:
        point = None  # a config found nowhere before is found now (or the reverse)
    if point is None:
        ckpt.forget(conn, name)
        point, counts = ckpt.Checkpoint(0, 0, frozenset()), {}
    new = _frame(ckpt_reads.select_new_rows(conn, name, point.last_id))
    if new.empty:
        ckpt.write_checkpoint(conn, name, cs, point, datetime.now(UTC))
        return
    affected = new["entity_id"].unique().tolist()
    tails = _frame(ckpt_reads.select_tails(conn, name, cs, affected, point.last_id))
    df = pd.concat([tails, new], ignore_index=True) if len(tails) else new
    df = df.sort_values(["entity_id", "id"], ignore_index=True, kind="stable")
    hashes = set(df["config_hash"].unique()) | set(counts)
    unknown = index.find(hashes)
    frames = rules_frames(index, set(df["config_hash"].unique()) - unknown)
    flagged = row_deviations(df, index, frames)
    flagged = flagged[flagged["history_id"] > point.last_id]
    stamps = audit.select_changed_at(conn, flagged["history_id"].tolist())
    kept: list[dict[str, Any]] = flagged.astype(object).to_dict("records")  # type: ignore[assignment]
    for r in kept:
        r.pop("workflow")
        r["history_id"] = int(r["history_id"])
        r["kind"] = str(r["kind"])
        r["detail"] = r["detail"] if isinstance(r["detail"], str) else None
        r["changed_at"] = stamps.get(r["history_id"])
    ckpt.insert_verdicts(conn, name, cs, kept)
    added = new.groupby("config_hash").size()
    ckpt.add_counts(conn, name, cs, {str(h): int(n) for h, n in added.items()})
    ckpt.upsert_entities(conn, name, cs, _summaries(df))
    moved = ckpt.Checkpoint(
        int(new["id"].to_numpy().max()), point.rows + len(new), frozenset(unknown)
    )
    ckpt.write_checkpoint(conn, name, cs, moved, datetime.now(UTC))


def _entity_frames(
    conn: sa.Connection, wf: Workflow, cs: str, watched: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(states, entries, fired) of the entities an entity check may flag (see store)."""
    table = reflect_entity_table(conn, wf.entity.table)
    rows = ckpt_reads.select_entity_states(
        conn, workflow=wf.name, config_set=cs, entity=wf.entity, table=table, watched=watched
    )
    got = _frame(rows)
    got["workflow"] = wf.name
    keys = ["workflow", "entity_id"]
    states = got[[*keys, *_STATE[2:]]].copy()
    for col in ("step_key", "requester_type", "config_hash", "kind", "status", "to_status"):
        states[col] = states[col].fillna("").astype(object)
    has = got[got["entry_id"].notna()]
    entries = pd.DataFrame(
        {
            "workflow": has["workflow"],
            "entity_id": has["entity_id"],
            "entry_id": has["entry_id"].astype("int64"),
            "config_hash": has["entry_config_hash"],
            "status": has["entry_status"],
        }
    )
    fired = (
        got[got["fired"] != ""]
        .assign(timer_step=lambda d: d["fired"].str.split(_FIRED_SEP))
        .explode("timer_step")[[*keys, "timer_step"]]
    )
    return states, entries, fired


def incremental_conformance(
    db: sa.Engine | str | sa.URL,
    workflows: dict[str, Workflow],
    index: ConfigIndex,
    judged_at: tuple[datetime, str],
    grace: timedelta,
) -> ConformanceReport:
    """``conformance(..., incremental=True)``: the same report, judging only new rows."""
    loaded = {wf.config_hash for wf in workflows.values()}
    sets = {name: config_set(wf, index, loaded) for name, wf in workflows.items()}
    verdicts: list[pd.DataFrame] = []
    counts: dict[tuple[str, str], int] = {}
    states: list[pd.DataFrame] = []
    entries: list[pd.DataFrame] = []
    fired: list[pd.DataFrame] = []
    store = Store(db)
    try:
        with store.transaction() as conn:
            ckpt.ensure_tables(conn)
            for name in sorted(workflows):
                _advance(conn, workflows[name], sets[name], index)
            for name in sorted(workflows):
                got = _frame(ckpt.select_verdicts(conn, name, sets[name]))
                verdicts.append(got.assign(workflow=name))
                counts.update(
                    {(name, h): n for h, n in ckpt.select_counts(conn, name, sets[name]).items()}
                )
            unknown = index.find({h for _, h in counts})
            frames = rules_frames(index, {h for _, h in counts} - unknown)
            watched = sorted(frames["timers"]["status"].unique())
            for name in sorted(workflows):
                if any(w == name for w, _ in counts):
                    parts = _entity_frames(conn, workflows[name], sets[name], watched)
                    for bucket, part in zip((states, entries, fired), parts, strict=True):
                        bucket.append(part)
            state = pd.concat(states, ignore_index=True) if states else _empty_states()
            entry = pd.concat(entries, ignore_index=True) if entries else _empty_entries()
            fire = pd.concat(fired, ignore_index=True) if fired else _empty_fired()
            stamps = audit.select_changed_at(
                conn, entity_checks.stamped_ids(state, entry, frames["timers"])
            )
    finally:
        store.dispose()
    entry["entered_at"] = pd.to_datetime(entry["entry_id"].map(stamps), utc=True)
    state["changed_at"] = pd.to_datetime(state["history_id"].map(stamps), utc=True)
    moment, why = judged_at
    entity_flagged = entity_checks.entity_deviations(
        state, frames, pd.Timestamp(moment), grace, (entry, fire)
    )
    rows_flagged = pd.concat(verdicts, ignore_index=True)
    rows_flagged["changed_at"] = pd.to_datetime(rows_flagged["changed_at"], utc=True)
    rows_flagged["history_id"] = rows_flagged["history_id"].astype("int64")
    return _report(
        rows_flagged, entity_flagged, counts, index, (moment, why, tuple(sorted(workflows)))
    )


def _empty_states() -> pd.DataFrame:
    return pd.DataFrame(columns=_STATE)


def _empty_entries() -> pd.DataFrame:
    return pd.DataFrame(columns=["workflow", "entity_id", "entry_id", "config_hash", "status"])


def _empty_fired() -> pd.DataFrame:
    return pd.DataFrame(columns=["workflow", "entity_id", "timer_step"])


def _report(
    rows_flagged: pd.DataFrame,
    entity_flagged: pd.DataFrame,
    counts: dict[tuple[str, str], int],
    index: ConfigIndex,
    about: tuple[datetime, str, tuple[str, ...]],
) -> ConformanceReport:
    """The report a full run builds, from kept verdicts and counts."""
    deviations = pd.concat(
        [d for d in (rows_flagged[DEVIATION_COLUMNS], entity_flagged) if not d.empty]
        or [pd.DataFrame(columns=DEVIATION_COLUMNS)],
        ignore_index=True,
    )
    deviations["kind"] = deviations["kind"].astype(str)
    deviations = deviations.sort_values(
        ["workflow", "entity_id", "history_id", "kind"], ignore_index=True
    )
    total = sum(counts.values())
    row_bad = deviations[deviations["kind"].isin(list(ROW_KINDS))]["history_id"].nunique()
    keys = ["workflow", "config_hash"]
    rows = pd.Series(counts, name="rows", dtype="int64")
    rows.index = (
        rows.index.set_names(keys) if len(rows) else pd.MultiIndex.from_tuples([], names=keys)
    )
    bad = rows_flagged.drop_duplicates("history_id").groupby(keys).size().rename("deviations")
    out = pd.concat([rows, bad], axis=1).fillna({"deviations": 0}).sort_index().reset_index()
    out["deviations"] = out["deviations"].astype(int)
    out["fitness"] = 1.0 - out["deviations"] / out["rows"]
    out["config_rev"] = out["config_hash"].map(index.revs.get)
    moment, why, names = about
    return ConformanceReport(
        fitness=1.0 - row_bad / total if total else 1.0,
        rows=total,
        deviations=deviation_table(deviations),
        by_config=out[["workflow", "config_hash", "config_rev", "rows", "deviations", "fitness"]],
        now=moment,
        workflows=names,
        now_source=why,
    )
