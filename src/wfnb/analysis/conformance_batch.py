"""Judging one batch of whole entities' history rows: the unit conformance runs page by page.

:class:`Judge` holds what every batch shares (the config index, the moment and grace
timers and claims are judged at, the entity tables' statuses); :meth:`Judge.judge` takes
one frame of history rows in replay order (``REPLAY_COLUMNS``; every entity in it whole,
or at least from its first row on) and returns its :class:`Verdicts`: the deviation rows
and the per-config counts. Verdicts of disjoint batches add up (:meth:`Verdicts.combine`)
to exactly what one pass over all the rows finds, which is how :func:`wfnb.conformance`
keeps its memory bounded (ADR 0111) and how an incremental check can reuse it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from wfnb.analysis import conformance_entities as entity_checks
from wfnb.analysis import conformance_rows as row_checks
from wfnb.analysis.conformance_report import DEVIATION_COLUMNS
from wfnb.analysis.conformance_rules import ConfigIndex
from wfnb.spec import Workflow
from wfnb.store import audit, replay
from wfnb.store.queries import reflect_entity_table

__all__ = ["Judge", "Statuses", "Verdicts", "page_frame"]

_COUNT_COLUMNS = ["workflow", "config_hash", "rows", "deviations"]


def page_frame(page: replay.Page) -> pd.DataFrame:
    """A page of :func:`wfnb.store.replay.replay_pages` (Arrow or tuples) as a frame."""
    if hasattr(page, "num_rows"):
        frame: pd.DataFrame = page.to_pandas(split_blocks=True)
        return frame
    columns, rows = page
    return pd.DataFrame(rows, columns=columns)


class Statuses(dict[str, Any]):
    """Workflow → its entities' statuses (a Series indexed by entity id as text).

    Each is read on first use, so a workflow with no history never has its table read.
    """

    def __init__(self, conn: sa.Connection, adbc: Any, wfs: Mapping[str, Workflow]) -> None:
        super().__init__()
        self._conn, self._adbc, self._wfs = conn, adbc, wfs

    def __missing__(self, name: str) -> Any:
        wf = self._wfs[name]
        table = reflect_entity_table(self._conn, wf.entity.table)
        frame = page_frame(replay.read_statuses(self._conn, self._adbc, wf.entity, table))
        statuses = pd.Series(frame["status"].to_numpy(), index=frame["entity_id"].to_numpy())
        self[name] = statuses
        return statuses


@dataclass
class Verdicts:
    """What judging some history rows found.

    Attributes:
        rows: history rows judged.
        deviations: one row per deviation (``DEVIATION_COLUMNS``), unsorted.
        counts: per (workflow, config hash): ``rows`` and ``deviations`` (rows with a row
            deviation).
    """

    rows: int = 0
    deviations: list[pd.DataFrame] = field(default_factory=list)
    counts: list[pd.DataFrame] = field(default_factory=list)

    @classmethod
    def combine(cls, parts: Iterable[Verdicts]) -> Verdicts:
        """The verdicts of disjoint batches, as one."""
        out = cls()
        for part in parts:
            out.add(part)
        return out

    def add(self, other: Verdicts) -> None:
        """Add ``other``'s rows, deviations and counts to these."""
        self.rows += other.rows
        self.deviations += other.deviations
        self.counts += other.counts

    def deviation_frame(self) -> pd.DataFrame:
        """Every deviation, sorted by workflow, entity, history id and kind."""
        found = [d for d in self.deviations if not d.empty]
        out = (
            pd.concat(found, ignore_index=True)
            if found
            else pd.DataFrame(columns=DEVIATION_COLUMNS)
        )
        out["kind"] = out["kind"].astype(str)
        return out.sort_values(["workflow", "entity_id", "history_id", "kind"], ignore_index=True)

    def count_frame(self) -> pd.DataFrame:
        """The per-config counts of every batch, one row per batch and config."""
        found = [c for c in self.counts if not c.empty]
        if not found:
            return pd.DataFrame(columns=_COUNT_COLUMNS)
        return pd.concat(found, ignore_index=True)


@dataclass
class Judge:
    """What judging a batch needs besides its rows.

    Attributes:
        index: configs by hash (grows as batches name older configs found in git).
        now: the moment overdue timers and stale claims are judged at.
        grace: how late a timer may be.
        statuses: workflow → entity status by entity id (see :class:`Statuses`).
    """

    index: ConfigIndex
    now: pd.Timestamp
    grace: timedelta
    statuses: Mapping[str, Any]
    unknown: set[str] = field(default_factory=set)

    def judge(self, conn: sa.Connection, batch: pd.DataFrame) -> Verdicts:
        """The verdicts on ``batch``: history rows of whole entities, in replay order.

        ``conn`` reads the ``changed_at`` of the few rows a deviation or a deadline needs.
        """
        if batch.empty:
            return Verdicts()
        hashes = set(batch["config_hash"].unique())
        self.unknown |= self.index.find(hashes - set(self.index.configs) - self.unknown)
        frames = row_checks.rules_frames(self.index, hashes - self.unknown)
        rows_flagged = row_checks.row_deviations(batch, self.index, frames)
        states = entity_checks.states_of(batch, self.statuses)
        entries, fired = entity_checks.entries_and_fired(batch)
        wanted = rows_flagged["history_id"].tolist()
        stamps = audit.select_changed_at(
            conn, wanted + entity_checks.stamped_ids(states, entries, frames["timers"])
        )
        rows_flagged["changed_at"] = pd.to_datetime(
            rows_flagged["history_id"].map(stamps), utc=True
        )
        entries["entered_at"] = pd.to_datetime(entries["entry_id"].map(stamps), utc=True)
        states["changed_at"] = pd.to_datetime(states["history_id"].map(stamps), utc=True)
        entity_flagged = entity_checks.entity_deviations(
            states, frames, self.now, self.grace, (entries, fired)
        )
        return Verdicts(
            rows=len(batch),
            deviations=[rows_flagged[DEVIATION_COLUMNS], entity_flagged],
            counts=[row_checks.count_by_config(batch, rows_flagged)],
        )
