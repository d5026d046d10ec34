"""``frames.variants``: the distinct paths entities took, with how many took each and how long.

A variant is the sequence of statuses an entity's history rows entered, in order (the
trace); its ``duration`` is from the entity's first row to its last. Traces are built and
counted in SQL (:func:`wfnb.store.discovery.select_variants`); the median is
linear-interpolated over the grouped durations. A ``limit`` keeps the most frequent
variants and says so: "20 of 143 variants".
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from wfnb.exceptions import WfnbUsageError
from wfnb.frames.display import Frame, as_frame
from wfnb.spec import Workflow
from wfnb.store import discovery as sql

__all__ = ["ARROW", "variants"]

ARROW = " → "
"""Joins the statuses of a variant as people read it."""

When = str | datetime | date | None


def variants(
    source: sql.Source,
    workflow: str | Workflow | None = None,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
    limit: int | None = None,
) -> Frame:
    """One row per variant, most frequent first: ``variant, count, share, median, steps, trace``.

    Args:
        source: a wfnb database (URL or engine).
        workflow: one workflow's entities (None: every workflow's).
        since: only rows at or after this moment (a trace then starts there).
        until: only rows before this moment.
        tenant_id: one tenant's rows.
        limit: keep the ``limit`` most frequent variants; ``attrs["wfnb_total"]`` then
            holds how many there are and the display says "N of M variants".

    Raises:
        UnknownWorkflowError: a workflow name with no history at all (WF200, did-you-mean).

    ``variant`` is the trace as text (``draft → approved → paid``), ``trace`` the same as a
    tuple, ``steps`` its length, ``share`` the fraction of entities, ``median`` the median
    case duration (a ``Timedelta``).
    """
    from wfnb.analysis.discovery import check_workflow, filters, reading  # noqa: PLC0415  # networkx only when used
    from wfnb.analysis.quantiles import grouped_quantiles  # noqa: PLC0415

    if limit is not None and limit < 1:
        raise WfnbUsageError(
            f"limit must be 1 or more (got {limit}); without a limit, every variant"
        )
    f = filters(workflow, since, until, tenant_id)
    read = sql.read(source, reading(f, (sql.select_variants,)), f, tenant_id=tenant_id)
    check_workflow(f, read, 1)
    rows, columns = read[0]
    grouped = pd.DataFrame.from_records(rows, columns=columns, nrows=len(rows))
    grouped["count"] = grouped["count"].astype("int64")
    counts = grouped.groupby("trace")["count"].sum()
    q = grouped_quantiles(grouped, ["trace"], (0.5,))
    frame = pd.DataFrame({"count": counts}).join(q["q50"].rename("median"))
    frame = frame.rename_axis("key").reset_index()
    total = int(frame["count"].sum())
    frame["trace"] = [tuple(str(k).split(sql.SEPARATOR)) for k in frame["key"]]
    frame["variant"] = [ARROW.join(t) for t in frame["trace"]]
    frame["steps"] = [len(t) for t in frame["trace"]]
    frame["share"] = frame["count"] / total if total else 0.0
    frame["median"] = pd.to_timedelta(frame["median"].astype("float64"), unit="s").dt.round("s")
    frame = frame.sort_values(["count", "variant"], ascending=[False, True], ignore_index=True)
    frame = frame[["variant", "count", "share", "median", "steps", "trace"]]
    attrs = {"wfnb_table": "variants", "wfnb_unit": "variants", "wfnb_entities": total}
    if limit is not None:
        attrs |= {"wfnb_total": len(frame), "wfnb_returned": min(limit, len(frame))}
        frame = frame.head(limit)
    return as_frame(frame, attrs)
