"""Counts from history laid over a workflow graph: which declared edge a count belongs to.

The exact keys are :class:`HistoryKey` ``(kind, from, to, step, requester, source)``, one
per ``GROUP BY`` group of ``workflow_history`` (what :func:`wfnb.plots.edge_counts`
returns): each lands on the one edge whose ``moves`` hold its ``(kind, from, to, step,
source)``, so a bank-feed observation counts on the observed edge, a claim failure on the
failure edge, a timer's run on the timer's edge. Rows no edge stands for, and only those,
are undeclared (a manual UPDATE, an old config). Creations (no ``from``) are no edge.

Older keys, ``(from_status, to_status)`` or ``(from, to, step_key)``, still work the old
way: a pair counts on the first declared edge between the two statuses, a triple on every
edge of that step between them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = [
    "GREY",
    "HEAT",
    "EdgeCounts",
    "EdgeKey",
    "HistoryKey",
    "count_edges",
    "heat",
    "history_key",
    "is_exact",
    "match_counts",
]


class HistoryKey(NamedTuple):
    """One ``GROUP BY kind, from_status, to_status, step_key, requester_type, source`` group."""

    kind: str
    from_status: str | None
    to_status: str
    step_key: str | None
    requester_type: str | None
    source: str | None


def _text(value: Any) -> str | None:
    """``None`` for SQL NULL, pandas NaN/NA and the empty string; else the text."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value)
    return None if text in {"nan", "<NA>", "None"} else text


def history_key(*fields: Any) -> HistoryKey:
    """A :class:`HistoryKey` of ``(kind, from, to, step, requester, source)``.

    NULL-like values (NaN, ``""``) become ``None``.
    """
    kind, from_status, to_status, step_key, requester, source = fields
    return HistoryKey(
        str(kind),
        _text(from_status),
        str(to_status),
        _text(step_key),
        _text(requester),
        _text(source),
    )


EdgeKey = tuple[str, str] | tuple[str, str, str | None]
"""A history count's key: ``(from_status, to_status)`` or ``(from, to, step_key)``."""

EdgeCounts = (
    Mapping[tuple[str, str], int]
    | Mapping[tuple[str, str, str | None], int]
    | Mapping[tuple[str, ...], int]
    | Mapping[EdgeKey, int]
    | Mapping["HistoryKey", int]
)
"""Counts per edge: exact :class:`HistoryKey` groups, or pairs, triples or both (a union:
``Mapping`` keys are invariant, so a ``dict[tuple[str, str], int]`` must type-check as it
is)."""

GREY = "#b8b8b8"
HEAT = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08306b")
"""Sequential blues for counts (low → high), kept clear of the red of undeclared edges."""


def match_counts(
    counts: EdgeCounts, edges: list[tuple[str, str, str, dict[str, Any]]]
) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str], int]]:
    """Counts per declared edge ``(from, to, key)``, and the counts no declared edge matches.

    A ``(from, to, step)`` key counts on every edge of that step between the two statuses;
    a ``(from, to)`` key counts on the first declared edge between them (steps come before
    rejections, observed transitions and timers in graph order).
    """
    by_edge: dict[tuple[str, str, str], int] = {}
    unmatched: dict[tuple[str, str], int] = {}
    index: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for a, b, k, d in edges:
        index.setdefault((a, b), []).append((k, d["step"]))
    for key, many in counts.items():
        u, v, n = str(key[0]), str(key[1]), int(many)  # numpy / pandas ints become plain ints
        declared = index.get((u, v), [])
        pick = [e for e in declared if e[1] == key[2]] if len(key) == 3 else declared[:1]
        keys = [k for k, _ in pick]
        for k in keys:
            by_edge[(u, v, k)] = by_edge.get((u, v, k), 0) + n
        if not keys:
            unmatched[(u, v)] = unmatched.get((u, v), 0) + n
    return by_edge, unmatched


Edge = tuple[str, str, str]
"""A drawn edge: ``(from, to, key)``."""


def count_edges(
    counts: Mapping[HistoryKey, int] | Mapping[tuple[Any, ...], int],
    edges: list[tuple[str, str, str, dict[str, Any]]],
) -> tuple[dict[Edge, int], dict[tuple[str, str], int]]:
    """Exact counts per declared edge, and the rows no declared edge stands for.

    Each key lands on the first edge (in graph order) whose ``moves`` hold its ``(kind,
    from, to, step, source)`` and whose requester types hold its requester, else on the
    first edge with that move at all (a requester who may not run the step still took the
    edge: conformance calls that ``requester_not_allowed``, not undeclared). Creations
    (no ``from_status``) are skipped.

    Returns:
        ``{(from, to, key): rows}`` for every edge with at least one row, and
        ``{(from, to): rows}`` of the undeclared ones.
    """
    index: dict[tuple[Any, ...], list[tuple[Edge, tuple[str, ...]]]] = {}
    for u, v, k, d in edges:
        for move in d.get("moves", ()):
            index.setdefault(tuple(move), []).append(((u, v, k), tuple(d["requester_types"])))
    by_edge: dict[Edge, int] = {}
    stray: dict[tuple[str, str], int] = {}
    for raw, many in counts.items():
        key = history_key(*raw)
        if key.from_status is None:
            continue  # an entity's creation: no edge
        n = int(many)  # numpy / pandas integers become plain ints
        move = (key.kind, key.from_status, key.to_status, key.step_key, key.source)
        candidates = index.get(move)
        if not candidates:
            pair = (key.from_status, key.to_status)
            stray[pair] = stray.get(pair, 0) + n
            continue
        mine = [e for e, who in candidates if key.requester_type in who]
        edge = (mine or [e for e, _ in candidates])[0]
        by_edge[edge] = by_edge.get(edge, 0) + n
    return by_edge, stray


def is_exact(counts: Mapping[Any, int]) -> bool:
    """Whether ``counts`` is keyed by :class:`HistoryKey` (six fields), not pairs/triples."""
    return bool(counts) and all(len(k) == len(HistoryKey._fields) for k in counts)


def heat(count: int, top: int) -> tuple[str, float]:
    """Colour and pen width of an edge taken ``count`` times when the busiest took ``top``."""
    share = (count / top) ** 0.5 if top else 0.0  # sqrt: rare edges stay visible
    return HEAT[min(int(share * len(HEAT)), len(HEAT) - 1)], round(1.0 + 5.0 * share, 2)
