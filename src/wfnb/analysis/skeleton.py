"""``skeleton()``: a workflow config that validates, written from what a history shows.

To start a model from reality: every status entered becomes a status, every
directly-follows edge a step (or an observed transition where the history recorded an
observation), every use case a placeholder (``use_cases`` is :data:`wfnb.placeholders.MODULE`).
Which statuses are terminal, where entities start, who ran what: all read from the
history. What a history cannot show (claims, timers' delays, validations, rejections as
such) is left for the modeller; docs/discovery.md says what to edit first.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Any

import pandas as pd

from wfnb.analysis.discovery import DirectlyFollows, discover, filters
from wfnb.analysis.discovery_diagram import duration_words
from wfnb.exceptions import WfnbUsageError
from wfnb.placeholders import MODULE
from wfnb.store import discovery as sql

__all__ = ["PLACEHOLDER_SOURCE", "skeleton"]

PLACEHOLDER_SOURCE = "placeholder_start"
"""Source of the observed transition that lets entities start mid-process (see below)."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")
When = str | datetime | date | None


def _identifier(text: str, prefix: str) -> str:
    """``text`` as a lower-case Python identifier (a placeholder use case's name)."""
    slug = re.sub(r"\W+", "_", text.lower(), flags=re.ASCII).strip("_")
    return slug if slug and slug[0].isalpha() else f"{prefix}_{slug}".rstrip("_")


def _step_key(preferred: str | None, u: str, v: str, used: set[str]) -> str:
    base = preferred or f"{u}_to_{v}"
    key = base if base not in used else f"{base}_to_{v}"
    n = 2
    while key in used:
        key, n = f"{base}_to_{v}_{n}", n + 1
    used.add(key)
    return key


def _plain(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _steps(dfg: DirectlyFollows) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Steps and observed transitions, one step per pair taken by anything but observation."""
    timing = {(r["from_status"], r["to_status"]): r for r in dfg.edges.to_dict("records")}
    steps: list[dict[str, Any]] = []
    observed: list[dict[str, Any]] = []
    used: set[str] = set()
    for (u, v), rows in dfg.details.groupby(["from_status", "to_status"], sort=False):
        looked = rows[rows["kind"] == "observed"]
        for source, n in looked.groupby(looked["source"].fillna(PLACEHOLDER_SOURCE))["count"]:
            del n
            observed.append({"from": str(u), "to": str(v), "source": str(source)})
        ran = rows[rows["kind"] != "observed"]
        if ran.empty:
            continue
        keys = Counter(
            {_plain(k): int(n) for k, n in zip(ran["step_key"], ran["count"], strict=True)}
        )
        keys.pop(None, None)
        key = _step_key(keys.most_common(1)[0][0] if keys else None, str(u), str(v), used)
        who = sorted({str(r) for r in ran["requester_type"] if _plain(r) is not None})
        kinds = ran.groupby("kind")["count"].sum()
        t = timing[(str(u), str(v))]
        said = ", ".join(f"{k} {int(n):,}" for k, n in kinds.items())
        step: dict[str, Any] = {
            "key": key,
            "status": str(u),
            "description": (
                f"placeholder: {int(kinds.sum()):,} recorded ({said}); median "
                f"{duration_words(t['median'])} after entering {u}"
            ),
        }
        if who:
            step["requester_types"] = who
        step["action"] = _identifier(key, "step")
        step["successful_state"] = str(v)
        steps.append(step)
    return steps, observed


def _reachable(initial: str, edges: list[tuple[str, str]]) -> set[str]:
    seen, todo = {initial}, [initial]
    while todo:
        here = todo.pop()
        for u, v in edges:
            if u == here and v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


def skeleton(
    source: sql.Source,
    workflow_name: str,
    *,
    since: When = None,
    until: When = None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """A workflow config (a dict, ready for ``json.dumps``) of what ``workflow_name`` did.

    It validates with :func:`wfnb.validate`: every status seen, the status most entities
    start at as ``initial_status``, the statuses never left as terminal, one step per
    edge taken (a placeholder action named after its key; the requester types recorded
    on it) and one observed transition per recorded observation source. Entities that
    started elsewhere reach their first status by an observed transition from the initial
    status with source :data:`PLACEHOLDER_SOURCE`.

    Raises:
        WfnbUsageError: the history holds no row of ``workflow_name`` in the window.
        UnknownWorkflowError: no row of ``workflow_name`` at all (WF200, did-you-mean).
        StoreError: not a wfnb database, or it cannot be read (WF300).
    """
    dfg = discover(source, workflow=workflow_name, since=since, until=until, tenant_id=tenant_id)
    if not dfg.entities:
        raise WfnbUsageError(f"no history of workflow {workflow_name!r} to build a skeleton from")
    f = filters(workflow_name, since, until, tenant_id)
    ((tables, _),) = sql.read(source, (sql.select_entity_tables,), f, tenant_id=tenant_id)
    steps, observed = _steps(dfg)
    starts = dfg.starts.sort_values(ascending=False, kind="stable")
    initial = str(starts.index[0])
    edges = [(s["status"], s["successful_state"]) for s in steps]
    edges += [(o["from"], o["to"]) for o in observed]
    for status in starts.index[1:]:
        if str(status) not in _reachable(initial, edges):
            observed.append({"from": initial, "to": str(status), "source": PLACEHOLDER_SOURCE})
            edges.append((initial, str(status)))
    statuses = [initial, *(s for s in dfg.statuses if s != initial)]
    leaving = {u for u, v in edges if u != v}
    # A status left only by self-loops (``active`` with ``update_profile``) has no way out:
    # it is terminal, and a terminal status has no steps; its loops are named instead.
    kept = [x for x in steps if x["status"] in leaving]
    loops = {x["status"]: x["key"] for x in steps if x["status"] not in leaving}
    observed = [o for o in observed if o["from"] in leaving]
    requesters = sorted({r for s in steps for r in s.get("requester_types", ())}) or ["system"]
    name = workflow_name if _NAME.fullmatch(workflow_name) else _identifier(workflow_name, "w")
    return {
        "name": name,
        "description": (
            f"Skeleton of {workflow_name!r} discovered from {dfg.entities:,} entities and "
            f"{dfg.events:,} history rows; every use case is a placeholder ({MODULE})."
        ),
        "owning_module": "placeholder",
        "entity": {"table": str(tables[0][0]) if tables else name},
        "use_cases": MODULE,
        "requester_types": requesters,
        "status_types": statuses,
        "initial_status": initial,
        "terminal_statuses": [s for s in statuses if s not in leaving],
        "status_descriptions": _described(dfg, statuses, loops),
        "steps": kept,
        "observed_transitions": observed,
    }


def _described(dfg: DirectlyFollows, statuses: list[str], loops: dict[str, str]) -> dict[str, str]:
    """One line per status: entities there now, how long stays last, loops left out."""
    out: dict[str, str] = {}
    dwell = dfg.dwell.set_index("status").reindex(statuses).fillna({"count": 0})
    for status, row in zip(statuses, dwell.to_dict("records"), strict=True):
        now = 0 if pd.isna(row["current"]) else int(row["current"])
        line = f"{now:,} entities here at the end of the history"
        if row["count"]:
            line += f"; stays: median {duration_words(row['median'])}"
            line += f", p90 {duration_words(row['p90'])}"
        if status in loops:
            line += (
                f"; placeholder: step {loops[status]!r} stayed here (left out: a status "
                "with no way out is terminal; give it one to keep the step)"
            )
        out[status] = line
    return out
