"""``discover()``: the directly-follows graph of what actually happened, from a history.

An edge is two consecutive events of one entity: the status the first entered → the
status the second entered; its duration is the time between them (the stay at the first
status). Every history row is an event, whatever its kind (steps, rejections, timers,
observations, claims, janitor rows): the config does not decide what happened. Counts
and grouped durations come from :mod:`wfnb.store.discovery`; percentiles are
linear-interpolated (``percentile_cont``). See docs/adr/0121-discovery.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from wfnb.analysis.quantiles import grouped_quantiles
from wfnb.exceptions import UnknownWorkflowError, WfnbUsageError
from wfnb.spec import Workflow
from wfnb.store import discovery as sql
from wfnb.store.reads import Filters
from wfnb.suggest import did_you_mean

if TYPE_CHECKING:
    from wfnb.analysis.diagram import Diagram

__all__ = [
    "OVERLAY_CATEGORIES",
    "DirectlyFollows",
    "check_workflow",
    "discover",
    "filters",
    "reading",
]

When = str | datetime | date | None

ALLOWED = "taken and allowed"
NOT_ALLOWED = "taken but not allowed"
NEVER_TAKEN = "allowed but never taken"
OVERLAY_CATEGORIES = (ALLOWED, NOT_ALLOWED, NEVER_TAKEN)
"""How an edge of a discovered graph compares with a config, in the legend's order."""


def filters(
    workflow: str | Workflow | None, since: When, until: When, tenant_id: str | None
) -> Filters:
    """The SQL filters of a discovery read (naive moments are UTC)."""
    from wfnb.frames.reading import moment  # noqa: PLC0415  # pandas-only helper, no state

    lower, upper = moment(since), moment(until)
    if lower is not None and upper is not None and lower > upper:
        raise WfnbUsageError(
            f"since {lower.isoformat()} is after until {upper.isoformat()}: no row can match"
        )
    name = workflow.name if isinstance(workflow, Workflow) else workflow
    return Filters(workflow=name, tenant_id=tenant_id, since=lower, until=upper)


def reading(f: Filters, builders: tuple[Any, ...]) -> tuple[Any, ...]:
    """``builders``, plus the workflow-names read when ``f`` names one workflow."""
    return (*builders, sql.select_workflows) if isinstance(f.workflow, str) else builders


def check_workflow(f: Filters, read: list[tuple[Any, list[str]]], builders: int) -> None:
    """WF200 (did-you-mean) when ``f``'s workflow has no history at all (window aside).

    ``read`` is what :func:`reading`'s builders returned; ``builders`` how many came first.
    """
    if not isinstance(f.workflow, str) or len(read) <= builders:
        return
    names = [str(r[0]) for r in read[builders][0]]
    if f.workflow in names:
        return
    hint = did_you_mean(f.workflow, names)
    raise UnknownWorkflowError(
        f"unknown workflow {f.workflow!r}{hint}: it has no history here "
        f"(workflows with history: {', '.join(names) or 'none'})",
        workflow=f.workflow,
    )


def _seconds(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for name in columns:
        frame[name] = pd.to_timedelta(frame[name].astype("float64"), unit="s").dt.round("ms")
    return frame


@dataclass(frozen=True)
class DirectlyFollows:
    """A directly-follows graph: what happened, counted and timed.

    Attributes:
        workflow: the workflow read (None: every workflow of the history).
        edges: ``from_status, to_status, count, median, p90`` (timedeltas), busiest first;
            like ``dwell``, a frame that displays durations in days and hours.
        dwell: per status left at least once or held now: ``status, count`` (completed
            stays), ``current`` (entities whose last event entered it), ``median, p90``.
        starts: entities per status their first event entered.
        details: what took each edge: ``from_status, to_status, kind, step_key,
            requester_type, source, count``.
        entities: entities read; ``events``: history rows read.
    """

    workflow: str | None
    edges: pd.DataFrame
    dwell: pd.DataFrame
    starts: pd.Series
    details: pd.DataFrame
    entities: int
    events: int
    window: dict[str, Any] = field(default_factory=dict)

    @property
    def statuses(self) -> list[str]:
        """Every status seen, most entered first (ties by name)."""
        entered = self.details.groupby("to_status", observed=True)["count"].sum()
        seen = entered.add(self.starts, fill_value=0).sort_index()
        return [str(s) for s in seen.sort_values(ascending=False, kind="stable").index]

    def overlay(self, config: Workflow) -> pd.DataFrame:
        """Every edge taken or allowed, with its category (see :data:`OVERLAY_CATEGORIES`).

        Allowed means some edge of :func:`wfnb.analysis.graph` (a step, rejection, claim,
        timer, observed transition, janitor or failure route) joins the two statuses.
        """
        from wfnb.analysis.graph import graph  # noqa: PLC0415

        declared = {(str(u), str(v)) for u, v in graph(config).edges()}
        taken = self.edges.assign(
            category=[
                ALLOWED if (u, v) in declared else NOT_ALLOWED
                for u, v in zip(self.edges["from_status"], self.edges["to_status"], strict=True)
            ]
        )
        pairs = set(zip(taken["from_status"], taken["to_status"], strict=True))
        never = sorted(declared - pairs)
        idle = pd.DataFrame(
            {
                "from_status": [u for u, _ in never],
                "to_status": [v for _, v in never],
                "count": 0,
                "median": pd.NaT,
                "p90": pd.NaT,
                "category": NEVER_TAKEN,
            }
        )
        whole = pd.concat([taken, idle], ignore_index=True) if never else taken
        whole["median"] = pd.to_timedelta(whole["median"])
        whole["p90"] = pd.to_timedelta(whole["p90"])
        whole["count"] = whole["count"].astype("int64")
        from wfnb.frames.display import as_frame  # noqa: PLC0415

        columns = ["from_status", "to_status", "category", "count", "median", "p90"]
        return as_frame(whole[columns], {"wfnb_unit": "edges"})

    def diagram(
        self, config: Workflow | None = None, *, direction: str = "LR", min_count: int = 1
    ) -> Diagram:
        """The graph drawn with the toolkit's diagram code; over ``config``, the overlay.

        Args:
            config: draw over this workflow: edges taken but not allowed, and allowed but
                never taken, styled and in the legend.
            direction: ``LR``, ``TB``, ``RL`` or ``BT``.
            min_count: leave out taken edges rarer than this (noise); the title says how
                many were left out. Never-taken edges of ``config`` are always drawn.
        """
        from wfnb.analysis.discovery_diagram import draw  # noqa: PLC0415  # graphviz on use

        return draw(self, config, direction=direction, min_count=min_count)

    def _repr_html_(self) -> str:
        return self.diagram().html()

    def __repr__(self) -> str:
        name = self.workflow or "every workflow"
        return (
            f"<DirectlyFollows {name}: {len(self.edges)} edges, {self.entities:,} entities, "
            f"{self.events:,} events>"
        )


def discover(
    source: sql.Source,
    *,
    workflow: str | Workflow | None = None,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> DirectlyFollows:
    """The directly-follows graph of a history: frequencies, durations, dwell per status.

    Args:
        source: a wfnb database (SQLAlchemy URL or engine); nothing is written.
        workflow: one workflow's history (None: every workflow's, each entity apart).
        since: events at or after this moment (ISO text or datetime; naive means UTC).
        until: events before this moment.
        tenant_id: one tenant's events.

    Raises:
        StoreError: not a wfnb database, or it cannot be read (WF300).
        WfnbUsageError: a bad URL or moment, or ``since`` after ``until`` (WF400).
        UnknownWorkflowError: a workflow name with no history at all (WF200).
    """
    f = filters(workflow, since, until, tenant_id)
    builders = (sql.select_follows, sql.select_follow_details)
    read = sql.read(source, reading(f, builders), f, tenant_id=tenant_id)
    check_workflow(f, read, len(builders))
    (grouped, columns), (detail, detail_columns) = read[:2]
    rows = pd.DataFrame.from_records(grouped, columns=columns, nrows=len(grouped))
    rows["count"] = rows["count"].astype("int64")
    rows["last"] = rows["last"].astype("int64")
    moves = rows[rows["from_status"].notna()]
    edges = _timed(moves, ["from_status", "to_status"])
    edges = edges.sort_values(["count", "from_status", "to_status"], ascending=[False, True, True])
    stays = _timed(moves.rename(columns={"from_status": "status"}), ["status"])
    current = rows[rows["last"] == 1].groupby("to_status")["count"].sum()
    dwell = stays.set_index("status").join(current.rename("current"), how="outer")
    dwell = dwell.fillna({"count": 0, "current": 0}).astype({"count": "int64", "current": "int64"})
    dwell = dwell.rename_axis("status").reset_index()[
        ["status", "count", "current", "median", "p90"]
    ]
    starts = rows[rows["from_status"].isna()].groupby("to_status")["count"].sum().astype("int64")
    details = pd.DataFrame.from_records(detail, columns=detail_columns, nrows=len(detail))
    details["count"] = details["count"].astype("int64")
    window = {"since": f.since, "until": f.until, "tenant_id": tenant_id}
    from wfnb.frames.display import as_frame  # noqa: PLC0415  # readable display (no state)

    return DirectlyFollows(
        workflow=f.workflow if isinstance(f.workflow, str) else None,
        edges=as_frame(edges.reset_index(drop=True), {"wfnb_unit": "edges"}),
        dwell=as_frame(dwell.sort_values("status", ignore_index=True), {"wfnb_unit": "statuses"}),
        starts=starts.rename_axis("status").rename("entities"),
        details=details,
        entities=int(starts.sum()),
        events=int(rows["count"].sum()),
        window=window,
    )


def _timed(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts and median / p90 durations per group of ``by`` (grouped rows in, one per group)."""
    counts = rows.groupby(by)["count"].sum().astype("int64")
    q = grouped_quantiles(rows, by)
    out = pd.DataFrame({"count": counts}).join(
        q[["q50", "q90"]].rename(columns={"q50": "median", "q90": "p90"})
    )
    return _seconds(out.reset_index(), ("median", "p90"))
