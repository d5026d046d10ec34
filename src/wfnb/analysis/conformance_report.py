"""``ConformanceReport`` and ``DeviationKind``: what a conformance check found, displayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import TYPE_CHECKING, Any

from wfnb._html import table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BY_HAND_COLUMNS",
    "DEVIATION_COLUMNS",
    "MANUAL_RECORDED",
    "ROW_KINDS",
    "UNEXPLAINED",
    "UNEXPLAINED_KINDS",
    "ConformanceReport",
    "DeviationKind",
    "deviation_table",
    "shown_of",
]

DEVIATION_COLUMNS = [
    "workflow",
    "entity_id",
    "history_id",
    "kind",
    "detail",
    "config_hash",
    "changed_at",
]
"""The columns of ``ConformanceReport.deviations``."""


_TEXT_COLUMNS = ("workflow", "entity_id", "kind", "detail", "config_hash")


def deviation_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the report's column types: text columns as Python strings (object).

    Every way of building a report (full, paged, incremental, parallel) ends here, so
    the same history gives the same frame, dtypes included, whichever way it was judged.
    """
    out = frame.copy()
    for column in _TEXT_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype(object)
    if "history_id" in out.columns:  # whole numbers; nullable only where one is missing
        ids = out["history_id"]
        out["history_id"] = ids.astype("Int64" if ids.isna().any() else "int64")
    return out


class DeviationKind(StrEnum):
    """How history (or an entity) departs from the config in force."""

    UNKNOWN_CONFIG = "unknown_config"
    """The row's ``config_hash`` is neither loaded nor in the git history of the folder."""
    UNDECLARED_TRANSITION = "undeclared_transition"
    """The row's (kind, step, from, to, source) is no move its config allows."""
    REQUESTER_NOT_ALLOWED = "requester_not_allowed"
    """The row's requester type may not run its step at its from-status (overrides counted)."""
    HISTORY_GAP = "history_gap"
    """The row starts elsewhere than the entity's previous row ended: a manual UPDATE."""
    STATUS_MISMATCH = "status_mismatch"
    """The entity's status in its table differs from its last history row's ``to_status``."""
    TIMER_OVERDUE = "timer_overdue"
    """The entity sits at a timed status past the timer's delay plus grace; it never fired."""
    STALE_CLAIM = "stale_claim"
    """The entity sits in a claim status past the claim's ``stale_after``."""
    NON_IDEMPOTENT_RERUN = "non_idempotent_rerun"
    """A step with an action and no claim ran twice at a status without the entity leaving."""
    MANUAL = "manual"
    """A ``manual`` history row: a status change by hand, recorded by the audit trigger."""


ROW_KINDS = frozenset(
    {
        DeviationKind.UNKNOWN_CONFIG,
        DeviationKind.UNDECLARED_TRANSITION,
        DeviationKind.REQUESTER_NOT_ALLOWED,
        DeviationKind.HISTORY_GAP,
        DeviationKind.NON_IDEMPOTENT_RERUN,
        DeviationKind.MANUAL,
    }
)
"""Kinds that judge one history row (``fitness`` counts them); the others judge entities."""

UNEXPLAINED_KINDS = frozenset({DeviationKind.HISTORY_GAP, DeviationKind.STATUS_MISMATCH})
"""Kinds that show a status change with no history row at all (made by hand, unrecorded)."""
MANUAL_RECORDED = "manual, recorded"
"""``by_hand()``'s category of a change by hand the audit trigger recorded."""
UNEXPLAINED = "unexplained"
"""``by_hand()``'s category of a status change no history row records."""
BY_HAND_COLUMNS = [
    "workflow",
    "entity_id",
    "history_id",
    "category",
    "kind",
    "detail",
    "changed_at",
]
"""The columns of ``ConformanceReport.by_hand()``."""

NO_ROWS = "no history rows to judge (fitness is undefined)"
"""What the text says instead of a fitness number when no history row was replayed."""


_FINDING = {
    "timer_overdue": ("timer overdue", "timers overdue"),
    "stale_claim": ("stale claim", "stale claims"),
    "status_mismatch": ("status unlike its history", "statuses unlike their history"),
}


def shown_of(total: int, limit: int, noun: str = "deviation") -> str:
    """``"all 5 deviations"``, ``"1 deviation"``, ``"20 of 57 deviations"``."""
    plural = noun + "s"
    if total <= limit:
        return f"1 {noun}" if total == 1 else f"all {total:,} {plural}"
    return f"{limit:,} of {total:,} {plural}"


@dataclass(frozen=True, eq=False)
class ConformanceReport:
    """What ``wfnb.conformance`` found.

    Attributes:
        fitness: the share of history rows with no row deviation (1.0 with no rows).
        rows: how many history rows were replayed.
        deviations: one row per deviation, columns ``DEVIATION_COLUMNS``; entity-level
            kinds (mismatch, overdue, stale) point at the entity's last history row.
        by_config: per (workflow, config hash): ``config_rev``, ``rows``, ``deviations``
            (rows with a row deviation) and ``fitness``.
        now: the moment overdue timers and stale claims were judged at.
        workflows: the workflows whose history was read.
        now_source: why that moment (``"as asked"``, ``"the last history row, ..."``,
            ``"the wall clock"``).
    """

    fitness: float
    rows: int
    deviations: pd.DataFrame
    by_config: pd.DataFrame
    now: datetime
    workflows: tuple[str, ...]
    now_source: str = ""

    @property
    def ok(self) -> bool:
        """No deviation of any kind."""
        return self.deviations.empty

    def counts(self) -> dict[str, int]:
        """Deviations per kind (kinds with none left out)."""
        return {str(k): int(n) for k, n in self.deviations["kind"].value_counts().items()}

    def to_frame(self) -> pd.DataFrame:
        """The deviations (a copy)."""
        return self.deviations.copy()

    def by_hand(self) -> pd.DataFrame:
        """Status changes made outside the engine, each in its category (ADR 0104).

        ``"manual, recorded"``: a ``manual`` history row the audit trigger wrote (who and
        when are known); ``"unexplained"``: a change no history row records (a gap in the
        history, or a status unlike the last row). Columns ``BY_HAND_COLUMNS``.
        """
        devs = self.deviations
        kinds = devs["kind"].astype(str)
        unexplained = [str(k) for k in UNEXPLAINED_KINDS]
        picked = devs[(kinds == DeviationKind.MANUAL) | kinds.isin(unexplained)]
        category = (
            picked["kind"]
            .astype(str)
            .map(lambda k: MANUAL_RECORDED if k == DeviationKind.MANUAL else UNEXPLAINED)
        )
        return picked.assign(category=category)[BY_HAND_COLUMNS].reset_index(drop=True)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``wfnb conformance --format json`` prints)."""
        records = self.deviations.astype({"changed_at": str}).to_dict(orient="records")
        return {
            "ok": self.ok,
            "fitness": self.fitness,
            "rows": self.rows,
            "row_deviations": self.row_deviations,
            "entity_deviations": self.entity_deviations,
            "judged_at": self.now.isoformat(),
            "judged_at_source": self.now_source,
            "counts": self.counts(),
            "deviations": records,
            "by_config": self.by_config.to_dict(orient="records"),
        }

    @property
    def row_deviations(self) -> int:
        """History rows with a row deviation (what ``fitness`` counts)."""
        rows = self.deviations[self.deviations["kind"].isin([str(k) for k in ROW_KINDS])]
        return int(rows["history_id"].nunique())

    @property
    def entity_deviations(self) -> int:
        """Entities with an entity deviation (overdue timer, stale claim, status mismatch)."""
        ents = self.deviations[~self.deviations["kind"].isin([str(k) for k in ROW_KINDS])]
        return int(ents[["workflow", "entity_id"]].drop_duplicates().shape[0])

    def _entity_findings(self) -> int:
        return int((~self.deviations["kind"].isin([str(k) for k in ROW_KINDS])).sum())

    def judged_at(self) -> str:
        """``"2026-11-01 00:00 UTC, the moment you asked for"``, ``"... UTC (the wall clock)"``."""
        stamp = f"{self.now:%Y-%m-%d %H:%M} UTC" if self.now.tzinfo else str(self.now)
        if self.now_source == "as asked":
            return f"{stamp}, the moment you asked for"
        return f"{stamp} ({self.now_source})" if self.now_source else stamp

    def headline(self) -> str:
        """What was found, rows and entities apart.

        E.g. ``"35 history rows deviate (fitness 0.9992 of 41,951 rows); 12 entities have
        findings: 7 timers overdue, 5 stale claims"``.
        """
        n, rows = self.row_deviations, self.rows
        deviate = (
            "no history row deviates"
            if n == 0
            else f"{n:,} history row{'s' * (n != 1)} deviate{'s' * (n == 1)}"
        )
        head = (
            f"{deviate} (fitness {self.fitness:.4f} of {rows:,} row{'s' * (rows != 1)})"
            if rows
            else NO_ROWS
        )
        ents = self.entity_deviations
        if ents == 0:
            return head + "; no entity has findings"
        kinds = self.deviations[~self.deviations["kind"].isin([str(k) for k in ROW_KINDS])]
        found = ", ".join(
            f"{c:,} {_FINDING.get(str(k), (str(k).replace('_', ' '),) * 2)[c != 1]}"
            for k, c in sorted(kinds["kind"].value_counts().items())
        )
        return head + f"; {ents:,} entit{'ies have' if ents != 1 else 'y has'} findings: {found}"

    def explained(self) -> list[str]:
        """What the numbers count, in words: fitness counts rows, the rest entities."""
        good, bad = self.rows - self.row_deviations, self.row_deviations
        found, ents = self._entity_findings(), self.entity_deviations
        return [
            f"fitness {self.fitness:.4f}: {good:,} of {self.rows:,} history "
            f"row{'s' * (self.rows != 1)} follow{'s' * (self.rows == 1)} the "
            f"config in force when {'it was' if self.rows == 1 else 'they were'} written "
            f"({bad:,} row{'s do' if bad != 1 else ' does'} not: "
            "undeclared moves, requesters not allowed, gaps, reruns, unknown configs)"
            if self.rows
            else NO_ROWS,
            f"{found:,} finding{'s' * (found != 1)} concern{'s' * (found == 1)} {ents:,} "
            f"entit{'ies that are' if ents != 1 else 'y that is'} where the config says "
            f"{'they' if ents != 1 else 'it'} should not be at the moment judged "
            "(a timer past due, a stale claim, a status that differs from its history); these "
            "count entities, not rows, and do not lower fitness",
            f"timers and claims judged at {self.judged_at()}",
            *self._by_hand_line(),
        ]

    def _by_hand_line(self) -> list[str]:
        """Said only when the audit trigger recorded a change by hand (ADR 0104)."""
        kinds = self.deviations["kind"].astype(str)
        manual = int((kinds == DeviationKind.MANUAL).sum())
        if not manual:
            return []
        unexplained = int(kinds.isin([str(k) for k in UNEXPLAINED_KINDS]).sum())
        return [
            f"{manual:,} status change{'s' * (manual != 1)} by hand recorded by the audit "
            f"trigger (manual); {unexplained:,} finding{'s' * (unexplained != 1)} of a change "
            "no history row records (unexplained)"
        ]

    def __repr__(self) -> str:
        return (
            f"<ConformanceReport fitness={self.fitness:.4f}: {self.rows} rows, "
            f"{len(self.deviations)} deviations>"
        )

    def __str__(self) -> str:
        lines = [f"conformance of {', '.join(self.workflows) or 'no workflow'}: {self.headline()}"]
        lines += [f"  {line}" for line in self.explained()]
        lines += [f"  {kind}: {n}" for kind, n in sorted(self.counts().items())]
        for d in self.deviations.head(50).itertuples(index=False):
            lines.append(f"  {d.workflow}/{d.entity_id} #{d.history_id} {d.kind}: {d.detail}")
        if len(self.deviations) > 50:
            lines.append(f"  ... and {len(self.deviations) - 50} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (
            f"<b>conformance</b>: {escape(self.headline())}; judged at {escape(self.judged_at())}"
        )
        words = "".join(f"<li>{escape(line)}</li>" for line in self.explained())
        counts = table(["kind", "deviations"], sorted(self.counts().items()))
        configs = table(
            ["workflow", "config", "rev", "rows", "deviations", "fitness"],
            [
                (w, h[:12], r, f"{n:,}", f"{d:,}", f"{f:.4f}")
                for w, h, r, n, d, f in self.by_config.itertuples(index=False)
            ],
        )
        top = table(
            ["workflow", "entity", "history id", "kind", "detail", "changed at"],
            [
                (d.workflow, d.entity_id, d.history_id, d.kind, d.detail, d.changed_at)
                for d in self.deviations.head(20).itertuples(index=False)
            ],
            caption=shown_of(len(self.deviations), 20),
        )
        return f"<div>{head}<ul>{words}</ul>{counts}<br>{configs}<br>{top}</div>"
