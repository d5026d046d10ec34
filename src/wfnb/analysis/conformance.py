"""``conformance()``: replay ``workflow_history`` against the config in force at each row.

Every row is checked against the config whose ``config_hash`` it carries (found among the
loaded workflows or in the git history of their folder, see
:mod:`wfnb.analysis.conformance_rules`), and every entity's current status against its
last row. The work is one ``SELECT`` of the history in replay order, one per workflow for
the entities' statuses, and one for the timestamps of the few rows a deviation or a
deadline needs; the checks are vectorised: history rows are factorised into the few
distinct (config, kind, from, to, step, requester, source) combinations, those are merged
against each config's allowed tuples, and per-entity order checks use shifted arrays.
No Python loop runs per history row; the entity-level checks live in
:mod:`wfnb.analysis.conformance_entities`. See docs/adr/0070 and 0071.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfnb.analysis import conformance_entities as entity_checks
from wfnb.analysis.conformance_report import (
    DEVIATION_COLUMNS,
    ROW_KINDS,
    ConformanceReport,
    DeviationKind,
)
from wfnb.analysis.conformance_rules import ConfigIndex, Rules, rules_of
from wfnb.engine.clock import Clock
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow, Workflows
from wfnb.store import Store, audit
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

_KEYS = ["config_hash", "kind", "from_status", "to_status", "step_key", "requester_type", "source"]
_OK, _UNKNOWN, _UNDECLARED, _REQUESTER, _MANUAL = 0, 1, 2, 3, 4
_VERDICT_KIND = {
    _UNKNOWN: DeviationKind.UNKNOWN_CONFIG,
    _UNDECLARED: DeviationKind.UNDECLARED_TRANSITION,
    _REQUESTER: DeviationKind.REQUESTER_NOT_ALLOWED,
    _MANUAL: DeviationKind.MANUAL,
}

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


def _frame(columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _rules_frames(index: ConfigIndex, hashes: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Each rule table of the known configs as one frame with a ``config_hash`` column."""
    columns = {
        "allowed": ["kind", "from_status", "to_status", "step_key", "requester_type", "source"],
        "may_run": ["step_key", "from_status", "requester_type"],
        "reruns": ["step_key", "requester_type"],
        "timers": ["status", "timer", "after", "timer_step"],
        "claims": ["step_key", "requester_type", "status", "stale_after"],
    }
    rules: dict[str, Rules] = {h: rules_of(index.configs[h]) for h in hashes}
    return {
        name: pd.DataFrame(
            [(h, *t) for h, r in rules.items() for t in getattr(r, name)],
            columns=["config_hash", *cols],
        )
        for name, cols in columns.items()
    }


def _member(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> np.ndarray[Any, Any]:
    """Whether each row of ``left`` has a match in ``right`` on ``on`` (left order kept)."""
    marks = right[on].drop_duplicates().assign(_hit=True)
    hit = left[on].merge(marks, on=on, how="left")["_hit"]
    return hit.fillna(False).to_numpy(dtype=bool)


def _combinations(df: pd.DataFrame) -> tuple[np.ndarray[Any, Any], pd.DataFrame]:
    """Factorise rows into their distinct ``_KEYS`` combinations: (code per row, combos)."""
    key = np.zeros(len(df), dtype=np.int64)
    for col in _KEYS:
        codes, values = pd.factorize(df[col], use_na_sentinel=False)
        key = key * (len(values) + 1) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    combos = df.iloc[first][_KEYS].reset_index(drop=True).fillna("").astype(object)
    return inverse.reshape(-1), combos


def _judge(combos: pd.DataFrame, known: set[str], frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per combination: a verdict code, its detail, and whether it may be a rerun."""
    unknown = ~combos["config_hash"].isin(known).to_numpy()
    allowed = _member(combos, frames["allowed"], ["config_hash", *frames["allowed"].columns[1:]])
    may_run = _member(
        combos, frames["may_run"], ["config_hash", "step_key", "from_status", "requester_type"]
    )
    step_at = _member(combos, frames["may_run"], ["config_hash", "step_key", "from_status"])
    stepped = (combos["kind"] != "observed").to_numpy()
    by_hand = (combos["kind"] == "manual").to_numpy()  # no config wrote it (ADR 0104)
    verdict = np.select(
        [by_hand, unknown, allowed, stepped & step_at & ~may_run],
        [_MANUAL, _UNKNOWN, _OK, _REQUESTER],
        default=_UNDECLARED,
    )
    rerun = _member(combos, frames["reruns"], ["config_hash", "step_key", "requester_type"])
    details = [
        _detail(int(v), row) for v, row in zip(verdict, combos.itertuples(index=False), strict=True)
    ]
    return combos.assign(
        verdict=verdict,
        detail=details,
        rerun=rerun & (combos["kind"] == "initiated").to_numpy() & (verdict == _OK),
    )


def _detail(verdict: int, row: Any) -> str:
    """The text of one combination's verdict (a handful of combinations, not rows)."""
    if verdict == _MANUAL:
        who = f"database role {row.source}" if row.source else "a role SQLite does not record"
        return (
            f"changed by hand {row.from_status} → {row.to_status} outside the engine, "
            f"by {who}; recorded by the audit trigger"
        )
    if verdict == _UNKNOWN:
        return f"config {row.config_hash[:12]} is neither loaded nor in the git history"
    if verdict == _REQUESTER:
        who = row.requester_type or "no requester type"
        return f"{who} may not run {row.step_key} at {row.from_status}"
    where = (
        f"moved it {row.from_status} → {row.to_status}"
        if row.from_status
        else f"created it at {row.to_status}"
    )
    by = f" for {row.requester_type}" if row.requester_type else ""
    return f"{_mover(row)} {where}, a move not declared{by}"


_MOVERS = {
    "initiated": ("step {}", "an undeclared step"),
    "rejected": ("the rejection of {}", "an undeclared rejection"),
    "claimed": ("the claim of {}", "an undeclared claim"),
    "released": ("the claim release of {}", "an undeclared claim release"),
    "timer": ("the timer running {}", "an undeclared timer"),
    "janitor": ("the janitor (for {})", "the janitor"),
}


def _mover(row: Any) -> str:
    """Who wrote a history row, in words, never an empty name."""
    if row.kind == "observed":
        return f"an observation by {row.source}" if row.source else "an observation with no source"
    named, unnamed = _MOVERS.get(row.kind, (f"a {row.kind} row of {{}}", f"a {row.kind} row"))
    return named.format(row.step_key) if row.step_key else unnamed


def _order_checks(df: pd.DataFrame, rerun: np.ndarray[Any, Any]) -> tuple[Any, Any, Any]:
    """History gaps and non-idempotent reruns, from arrays shifted by one row.

    Returns:
        (gap mask, rerun mask, the previous row's to_status).
    """
    frm, to = df["from_status"].to_numpy(), df["to_status"].to_numpy()
    same = entity_checks.continues(df)
    prev_to = np.empty(len(df), dtype=object)
    prev_to[1:] = to[:-1]
    gap = same & (frm != prev_to)
    moved = np.zeros(len(df), dtype=bool)
    moved[1:] = frm[:-1] != to[:-1]
    # A stay in one status ends when the entity moves, is moved behind the engine's back
    # (a gap), or is another entity; the same request committing a rerun-prone step twice
    # in one stay ran its non-idempotent action twice (a retry that was not idempotent).
    stay = np.cumsum(~same | gap | moved)
    candidates = pd.DataFrame(
        {"stay": stay, "step": df["step_key"], "from": frm, "request": df["correlation_id"]}
    )[rerun]
    again = np.zeros(len(df), dtype=bool)
    again[np.flatnonzero(rerun)[candidates.duplicated().to_numpy()]] = True
    return gap, again, prev_to


def _row_deviations(
    df: pd.DataFrame, index: ConfigIndex, frames: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Deviations of single history rows (without ``changed_at``), one frame."""
    codes, combos = _combinations(df)
    judged = _judge(combos, set(index.configs), frames)
    verdict = judged["verdict"].to_numpy()[codes]
    gap, rerun, prev_to = _order_checks(df, judged["rerun"].to_numpy()[codes])
    parts = []
    flagged = verdict != _OK
    if flagged.any():
        kinds = pd.Series(verdict[flagged]).map(_VERDICT_KIND).to_numpy()
        parts.append(
            df[flagged].assign(kind=kinds, detail=judged["detail"].to_numpy()[codes][flagged])
        )
    if gap.any():
        detail = "from " + df["from_status"][gap].astype(str) + ", but the previous row left it at "
        parts.append(
            df[gap].assign(kind=DeviationKind.HISTORY_GAP, detail=detail + prev_to[gap].astype(str))
        )
    if rerun.any():
        detail = (
            df["step_key"][rerun].astype(str)
            + " ran again at "
            + df["from_status"][rerun].astype(str)
        )
        parts.append(
            df[rerun].assign(
                kind=DeviationKind.NON_IDEMPOTENT_RERUN, detail=detail + " without leaving it"
            )
        )
    columns = ["workflow", "entity_id", "id", "kind", "detail", "config_hash"]
    found = pd.concat([p[columns] for p in parts], ignore_index=True) if parts else None
    if found is None:
        found = pd.DataFrame(columns=columns)
    return found.rename(columns={"id": "history_id"})


def _by_config(df: pd.DataFrame, rows_flagged: pd.DataFrame, index: ConfigIndex) -> pd.DataFrame:
    keys = ["workflow", "config_hash"]
    rows = df.groupby(keys, sort=True).size().rename("rows")
    bad = rows_flagged.drop_duplicates("history_id").groupby(keys).size().rename("deviations")
    out = pd.concat([rows, bad], axis=1).fillna({"deviations": 0}).reset_index()
    out["deviations"] = out["deviations"].astype(int)
    out["fitness"] = 1.0 - out["deviations"] / out["rows"]
    out["config_rev"] = out["config_hash"].map(index.revs.get)
    return out[["workflow", "config_hash", "config_rev", "rows", "deviations", "fitness"]]


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
    store = Store(db)
    try:
        with store.transaction(readonly=True) as conn:
            df = _frame(*audit.select_replay_rows(conn, list(workflows)))
            unknown = index.find(df["config_hash"].unique().tolist())
            frames = _rules_frames(index, set(df["config_hash"].unique()) - unknown)
            rows_flagged = _row_deviations(df, index, frames)
            states = entity_checks.entity_states(conn, workflows, df)
            entries, fired = entity_checks.entries_and_fired(df)
            wanted = rows_flagged["history_id"].tolist()
            stamps = audit.select_changed_at(
                conn, wanted + entity_checks.stamped_ids(states, entries, frames["timers"])
            )
    finally:
        store.dispose()
    rows_flagged["changed_at"] = pd.to_datetime(rows_flagged["history_id"].map(stamps), utc=True)
    entries["entered_at"] = pd.to_datetime(entries["entry_id"].map(stamps), utc=True)
    states["changed_at"] = pd.to_datetime(states["history_id"].map(stamps), utc=True)
    entity_flagged = entity_checks.entity_deviations(
        states, frames, pd.Timestamp(moment), grace, (entries, fired)
    )
    deviations = pd.concat(
        [d for d in (rows_flagged[DEVIATION_COLUMNS], entity_flagged) if not d.empty]
        or [pd.DataFrame(columns=DEVIATION_COLUMNS)],
        ignore_index=True,
    )
    deviations["kind"] = deviations["kind"].astype(str)
    deviations = deviations.sort_values(
        ["workflow", "entity_id", "history_id", "kind"], ignore_index=True
    )
    row_bad = deviations[deviations["kind"].isin(list(ROW_KINDS))]["history_id"].nunique()
    return ConformanceReport(
        fitness=1.0 - row_bad / len(df) if len(df) else 1.0,
        rows=len(df),
        deviations=deviations,
        by_config=_by_config(df, rows_flagged, index),
        now=moment,
        workflows=tuple(sorted(workflows)),
        now_source=why,
    )
