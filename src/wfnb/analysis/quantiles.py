"""Percentiles of grouped durations: rows of ``(group..., seconds, count)``, vectorised.

The store collapses equal durations into one row with their ``count`` (fewer rows cross
the wire); these are the linear-interpolated quantiles ``percentile_cont`` and
``numpy.quantile`` compute over the expanded values, without expanding them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["grouped_quantiles"]


def grouped_quantiles(
    rows: pd.DataFrame, by: Sequence[str], qs: Sequence[float] = (0.5, 0.9)
) -> pd.DataFrame:
    """Per group of ``by``: ``n`` (values) and one column per quantile (``q50``, ``q90``).

    Args:
        rows: columns ``by``, ``seconds`` (NULL rows are left out) and ``count``.
        by: the grouping columns.
        qs: quantiles in [0, 1].

    Returns:
        One row per group (indexed by ``by``), seconds as floats.
    """
    keys = list(by)
    kept = rows[rows["seconds"].notna()]
    if kept.empty:
        return pd.DataFrame(columns=["n", *(_name(q) for q in qs)], index=_empty_index(keys))
    kept = kept.assign(seconds=kept["seconds"].astype("float64"))
    kept = kept.sort_values([*keys, "seconds"], kind="stable", ignore_index=True)
    counts = kept["count"].to_numpy(dtype="int64")
    values = kept["seconds"].to_numpy()
    ends = np.cumsum(counts)  # exclusive end rank of each row, over every group
    group = kept.groupby(keys, sort=False).ngroup().to_numpy()
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    offset = ends[first] - counts[first]  # rank of each group's first value
    n = np.add.reduceat(counts, first)
    out = {"n": n}
    for q in qs:
        pos = (n - 1) * q
        low = np.floor(pos).astype("int64")
        high = np.minimum(low + 1, n - 1)
        at_low = values[np.searchsorted(ends, offset + low, side="right")]
        at_high = values[np.searchsorted(ends, offset + high, side="right")]
        out[_name(q)] = at_low + (at_high - at_low) * (pos - low)
    index = pd.MultiIndex.from_frame(kept.loc[first, keys]) if len(keys) > 1 else None
    return pd.DataFrame(out, index=index if index is not None else kept.loc[first, keys[0]])


def _name(q: float) -> str:
    return f"q{round(q * 100):02d}"


def _empty_index(keys: list[str]) -> pd.Index:
    if len(keys) > 1:
        return pd.MultiIndex.from_arrays([[] for _ in keys], names=keys)
    return pd.Index([], name=keys[0])
