"""Conformance's row checks: each history row against the config it was written under.

Rows are factorised into their few distinct (config, kind, from, to, step, requester,
source) combinations; those are merged against each config's allowed tuples
(:mod:`wfnb.analysis.conformance_rules`) and the verdicts map back to rows by integer
codes. Gaps and non-idempotent reruns compare arrays shifted by one row. Everything here
works on one frame of whole entities in replay order, so it serves a page of the history
as well as the whole of it (ADR 0070, 0111).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from wfnb.analysis import conformance_entities as entity_checks
from wfnb.analysis.conformance_report import DeviationKind
from wfnb.analysis.conformance_rules import ConfigIndex, Rules, rules_of

__all__ = ["by_config", "count_by_config", "row_deviations", "rules_frames"]

_KEYS = ["config_hash", "kind", "from_status", "to_status", "step_key", "requester_type", "source"]
_OK, _UNKNOWN, _UNDECLARED, _REQUESTER, _MANUAL = 0, 1, 2, 3, 4
_VERDICT_KIND = {
    _UNKNOWN: DeviationKind.UNKNOWN_CONFIG,
    _UNDECLARED: DeviationKind.UNDECLARED_TRANSITION,
    _REQUESTER: DeviationKind.REQUESTER_NOT_ALLOWED,
    _MANUAL: DeviationKind.MANUAL,
}


def rules_frames(index: ConfigIndex, hashes: Iterable[str]) -> dict[str, pd.DataFrame]:
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


def row_deviations(
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
        moves = zip(df["from_status"][gap], df["to_status"][gap], prev_to[gap], strict=True)
        gap_details = [
            f"{f'from {frm}' if isinstance(frm, str) and frm else f'created again at {to}'}, "
            f"but the previous row left it at {prev}"
            for frm, to, prev in moves
        ]
        parts.append(df[gap].assign(kind=DeviationKind.HISTORY_GAP, detail=gap_details))
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


def count_by_config(df: pd.DataFrame, rows_flagged: pd.DataFrame) -> pd.DataFrame:
    """Rows and rows with a row deviation per (workflow, config hash): sums over pages."""
    keys = ["workflow", "config_hash"]
    rows = df.groupby(keys, sort=True).size().rename("rows")
    bad = rows_flagged.drop_duplicates("history_id").groupby(keys).size().rename("deviations")
    out = pd.concat([rows, bad], axis=1).fillna({"deviations": 0}).reset_index()
    out["deviations"] = out["deviations"].astype(int)
    return out[[*keys, "rows", "deviations"]]


def by_config(counts: pd.DataFrame, index: ConfigIndex) -> pd.DataFrame:
    """``ConformanceReport.by_config`` from the counts of every page."""
    keys = ["workflow", "config_hash"]
    if counts.empty:
        out = pd.DataFrame(columns=[*keys, "rows", "deviations"])
    else:
        out = counts.groupby(keys, sort=True)[["rows", "deviations"]].sum().reset_index()
    out["rows"] = out["rows"].astype(int)
    out["deviations"] = out["deviations"].astype(int)
    out["fitness"] = 1.0 - out["deviations"] / out["rows"]
    out["config_rev"] = out["config_hash"].map(index.revs.get)
    return out[["workflow", "config_hash", "config_rev", "rows", "deviations", "fitness"]]
