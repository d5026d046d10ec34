"""Counts from history laid over a workflow graph: which declared edge a count belongs to.

Keys are ``(from_status, to_status)`` or ``(from, to, step_key)``; the ones that match no
declared edge are edges taken outside the workflow (a manual UPDATE, an old config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["GREY", "HEAT", "EdgeCounts", "EdgeKey", "heat", "match_counts"]

EdgeKey = tuple[str, str] | tuple[str, str, str | None]
"""A history count's key: ``(from_status, to_status)`` or ``(from, to, step_key)``."""

EdgeCounts = (
    Mapping[tuple[str, str], int]
    | Mapping[tuple[str, str, str | None], int]
    | Mapping[tuple[str, ...], int]
    | Mapping[EdgeKey, int]
)
"""Counts per edge, keyed by pairs, by triples, or by both (a union: ``Mapping`` keys are
invariant, so a ``dict[tuple[str, str], int]`` must type-check as it is)."""

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
        u, v, n = key[0], key[1], int(many)  # numpy / pandas integers become plain ints
        declared = index.get((u, v), [])
        pick = [e for e in declared if e[1] == key[2]] if len(key) == 3 else declared[:1]
        keys = [k for k, _ in pick]
        for k in keys:
            by_edge[(u, v, k)] = by_edge.get((u, v, k), 0) + n
        if not keys:
            unmatched[(u, v)] = unmatched.get((u, v), 0) + n
    return by_edge, unmatched


def heat(count: int, top: int) -> tuple[str, float]:
    """Colour and pen width of an edge taken ``count`` times when the busiest took ``top``."""
    share = (count / top) ** 0.5 if top else 0.0  # sqrt: rare edges stay visible
    return HEAT[min(int(share * len(HEAT)), len(HEAT) - 1)], round(1.0 + 5.0 * share, 2)
