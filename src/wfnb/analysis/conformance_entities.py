"""Conformance's entity-level checks: each entity's state beside its last history row.

Given the history frame :mod:`wfnb.analysis.conformance` read (in replay order), these
find each entity's last row and last entry into a status, read the entity tables'
statuses, and judge what describes an entity rather than a row: a status that disagrees
with the last row, a timer overdue since the entry (ADR 0013: a self-loop is no entry),
a claim past its ``stale_after``. They also name the few history ids whose ``changed_at``
those checks need, so nothing else is read for its time (ADR 0071).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfnb.analysis.conformance_report import DEVIATION_COLUMNS, DeviationKind
from wfnb.durations import duration_words
from wfnb.spec import Workflow, parse_duration
from wfnb.store import audit
from wfnb.store.queries import reflect_entity_table

__all__ = [
    "continues",
    "entity_deviations",
    "entity_states",
    "entries_and_fired",
    "last_rows",
    "stamped_ids",
    "states_of",
]


def continues(df: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Whether each row belongs to the same entity as the row before (``df`` in replay order)."""
    workflow, entity = df["workflow"].to_numpy(), df["entity_id"].to_numpy()
    same = np.zeros(len(df), dtype=bool)
    same[1:] = (workflow[1:] == workflow[:-1]) & (entity[1:] == entity[:-1])
    return same


def last_rows(df: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Whether each row is its entity's last (``df`` is in replay order)."""
    last = np.ones(len(df), dtype=bool)
    last[:-1] = ~continues(df)[1:]
    return last


def _offset(after: str) -> Any:
    """An ISO-8601 duration as something a datetime Series adds."""
    parsed = parse_duration(after)
    if isinstance(parsed, timedelta):
        return pd.Timedelta(parsed)
    rest = parsed.tdelta  # the day/time part of a calendar duration (P1M2D)
    return pd.DateOffset(
        years=int(parsed.years),
        months=int(parsed.months),
        days=rest.days,
        seconds=rest.seconds,
        microseconds=rest.microseconds,
    )


def _deadlines(stamps: pd.Series, durations: pd.Series) -> pd.Series:
    """``stamp + duration`` per row, one vectorised addition per distinct duration."""
    out = pd.Series(pd.NaT, index=stamps.index, dtype="datetime64[ns, UTC]")
    for after in durations.unique():
        mask = durations == after
        out[mask] = stamps[mask] + _offset(str(after))
    return out


def entries_and_fired(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each entity's last entry into a status, and the timer steps that ran since.

    An entry is a row that changed the status (or created the entity); a self-loop is a
    stay, not an entry (ADR 0013), so a reminder that ran does not restart the clock.

    Returns:
        (entries: workflow, entity_id, entry_id, config_hash, status;
         fired: workflow, entity_id, timer_step — timer rows after the entry).
    """
    keys = ["workflow", "entity_id"]
    entry = df["from_status"].isna() | (df["from_status"] != df["to_status"])
    rows = df[entry]
    entries = rows[last_rows(rows)][[*keys, "id", "config_hash", "to_status"]].rename(
        columns={"id": "entry_id", "to_status": "status"}
    )
    timers = df[df["kind"] == "timer"][[*keys, "id", "step_key"]].merge(entries, on=keys)
    fired = timers[timers["id"] > timers["entry_id"]][[*keys, "step_key"]]
    return entries, fired.rename(columns={"step_key": "timer_step"}).drop_duplicates()


def _overdue(
    states: pd.DataFrame,
    entries: pd.DataFrame,
    fired: pd.DataFrame,
    timers: pd.DataFrame,
    *,
    now: pd.Timestamp,
    grace: timedelta,
) -> pd.DataFrame:
    """Entities still at the status they last entered whose timer's step never ran since."""
    keys = ["workflow", "entity_id"]
    settled = states[states["status"] == states["to_status"]][[*keys, "status"]]
    here = settled.merge(entries, on=[*keys, "status"])
    due = here.merge(timers, on=["config_hash", "status"])
    due = due.merge(fired.assign(_ran=True), on=[*keys, "timer_step"], how="left")
    due = due[due["_ran"].isna()]
    late = due[_deadlines(due["entered_at"], due["after"]) + grace < now]
    return late.assign(
        history_id=late["entry_id"],
        kind=DeviationKind.TIMER_OVERDUE,
        changed_at=late["entered_at"],
        detail="at "
        + late["status"].astype(str)
        + " since "
        + late["entered_at"].astype(str)
        + "; timer "
        + late["timer"].astype(str)
        + " ("
        + late["after"].astype(str).map(duration_words)
        + ") never fired",
    )


def entity_deviations(
    states: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    now: pd.Timestamp,
    grace: timedelta,
    entries: tuple[pd.DataFrame, pd.DataFrame],
) -> pd.DataFrame:
    """Status mismatches, overdue timers and stale claims, from each entity's last row."""
    mismatch = states[states["status"] != states["to_status"]]
    mismatch = mismatch.assign(
        kind=DeviationKind.STATUS_MISMATCH,
        detail="table says "
        + mismatch["status"].astype(str)
        + ", last history row says "
        + mismatch["to_status"].astype(str),
    )
    settled = states[states["status"] == states["to_status"]]
    late = _overdue(states, *entries, frames["timers"], now=now, grace=grace)
    on = ["config_hash", "step_key", "requester_type", "status"]
    claimed = settled[settled["kind"] == "claimed"].merge(frames["claims"], on=on)
    stale = claimed[_deadlines(claimed["changed_at"], claimed["stale_after"]) < now]
    stale = stale.assign(
        kind=DeviationKind.STALE_CLAIM,
        detail="claimed by "
        + stale["step_key"].astype(str)
        + " at "
        + stale["changed_at"].astype(str)
        + ", stale after "
        + stale["stale_after"].astype(str).map(duration_words),
    )
    parts = [p for p in (mismatch, late, stale) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=DEVIATION_COLUMNS)
    return pd.concat([p[DEVIATION_COLUMNS] for p in parts], ignore_index=True)


_STATE_COLUMNS = ["workflow", "entity_id", "id", "to_status", "kind", "step_key",
                  "requester_type", "config_hash"]  # fmt: skip


def states_of(df: pd.DataFrame, statuses: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Every entity of ``df`` with its current status beside its last history row.

    ``statuses`` maps a workflow to its entities' statuses by entity id. Entities without
    history are left out (nothing to compare them with), and so are history rows whose
    entity is gone.
    """
    last = df[last_rows(df)][_STATE_COLUMNS].rename(columns={"id": "history_id"})
    parts = []
    for name in sorted(last["workflow"].unique()):
        mine = last[last["workflow"] == name]
        table = statuses[name]
        at = table.index.get_indexer(mine["entity_id"].to_numpy())
        found = at >= 0
        parts.append(mine[found].assign(status=table.to_numpy()[at[found]]))
    if not parts:
        return pd.DataFrame(columns=[*last.columns, "status"])
    states: pd.DataFrame = pd.concat(parts, ignore_index=True)
    for col in ("step_key", "requester_type", "config_hash", "kind", "status", "to_status"):
        states[col] = states[col].fillna("").astype(object)
    return states


def entity_states(conn: sa.Connection, wfs: dict[str, Workflow], df: pd.DataFrame) -> pd.DataFrame:
    """:func:`states_of` with the statuses read from the entity tables on ``conn``."""
    statuses: dict[str, pd.Series] = {}
    for name in sorted(df["workflow"].unique()):
        wf = wfs[name]
        table = reflect_entity_table(conn, wf.entity.table)
        columns, rows = audit.select_entity_statuses(conn, wf.entity, table)
        frame = pd.DataFrame(rows, columns=columns)
        statuses[name] = pd.Series(frame["status"].to_numpy(), index=frame["entity_id"].to_numpy())
    return states_of(df, statuses)


def stamped_ids(states: pd.DataFrame, entries: pd.DataFrame, timers: pd.DataFrame) -> list[int]:
    """History ids whose ``changed_at`` an entity check needs, and only those.

    The last row of a mismatched or claimed entity, and the entry row of an entity still at
    a status one of its config's timers watches.
    """
    keys = ["workflow", "entity_id"]
    settled = states["status"] == states["to_status"]
    shown = states[~settled | (states["kind"] == "claimed")]["history_id"]
    watched = timers[["config_hash", "status"]].drop_duplicates()
    waiting = (
        states[settled][[*keys, "status"]]
        .merge(entries, on=[*keys, "status"])
        .merge(watched, on=["config_hash", "status"])
    )
    return [int(i) for i in pd.concat([shown, waiting["entry_id"]]).unique()]
