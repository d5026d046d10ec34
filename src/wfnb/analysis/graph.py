"""The workflow as a networkx graph: statuses are nodes, every way a status can change an edge.

Each edge carries the same attribute keys, so analyses and renderers never guess:

``kind``
    an :class:`EdgeKind` value.
``step``
    the step key (``None`` for an observed transition).
``requester_types``
    who can trigger the edge; ``()`` for an observed transition (the outside world, not a
    requester), the timer's requester type for a timer.
``use_cases``
    the validation / action names that run on the edge.
``source`` / ``timer`` / ``after``
    the observed transition's source; the timer's key and ISO-8601 delay.
``auto_advance``
    whether the engine continues with the next step after this edge in the same call.
``label``
    a short human label.
``steps``
    the step keys whose use cases the edge follows (several for a ``failure`` edge).
``moves``
    the ``workflow_history`` rows the edge stands for, as ``(kind, from, to, step, source)``
    patterns (a row's requester type picks among edges with the same pattern): what the
    history heat counts on it, see :mod:`wfnb.analysis.overlay`.

Edge keys are stable strings (``"step:approve"``, ``"override:approve:admin"``,
``"timer:hub_deadline"``), so the same declared edge has the same key in every graph.

Besides what steps declare, the graph holds every route the engine itself can take: a
claimed step's janitor outcomes (``janitor:send`` on, ``janitor:send:back``), a rejection
out of the claim status (``rejection:send:claim``), and a permanent failure
(``Result.fail(permanent=True)``) to the first failure status from every status where a
use case runs (``failure:sending``). See docs/adr/0034 and 0032.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import networkx as nx

from wfnb.durations import duration_words
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Step, Timer, Workflow

__all__ = ["SUCCESS_KINDS", "EdgeKind", "graph", "requester_view", "status_graph"]


class EdgeKind(StrEnum):
    """How an edge of the workflow graph is traversed."""

    STEP = "step"
    """A step's success, as every requester without a target-changing override sees it."""
    AUTO_ADVANCE = "auto_advance"
    """A step's success when the step auto-advances: the engine goes on from the target."""
    OVERRIDE = "override"
    """A step's success for the requester types whose override changes the target."""
    REJECTION = "rejection"
    """Where a validation that rejects sends the entity."""
    CLAIM = "claim"
    """Into a step's claim status, committed before its non-idempotent action runs."""
    CLAIM_RELEASE = "claim_release"
    """Out of a claim status: to the step's target on success, back to its status otherwise."""
    OBSERVED = "observed"
    """A declared observed transition: it happened outside and is only recorded."""
    TIMER = "timer"
    """A timer running its step after a delay (the target is the step's, as the timer's
    requester type sees it). A timer whose step claims is drawn where its history row is
    written: out of the claim status (the claim itself is the step's ``claim`` edge)."""
    JANITOR = "janitor"
    """The owning module's janitor resolving a stale claim: on to the target, or back."""
    FAILURE = "failure"
    """A use case failing permanently: the engine moves the entity to the first failure
    status (one edge per status where a use case of some step runs)."""


SUCCESS_KINDS = frozenset({EdgeKind.STEP, EdgeKind.AUTO_ADVANCE, EdgeKind.OVERRIDE})
"""Kinds of a step succeeding straight from its status. A claimed step succeeds out of its
claim status instead: the ``claim_release`` edge whose key has no ``:back``."""


Move = tuple[str, str, str, str | None, str | None]
"""A history row's pattern: ``(kind, from_status, to_status, step_key, source)``."""


def _edge(kind: EdgeKind, step: str | None = None, **attrs: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": kind,
        "step": step,
        "requester_types": (),
        "use_cases": (),
        "source": None,
        "timer": None,
        "after": None,
        "auto_advance": False,
        "label": step or "",
        "moves": (),
        "steps": (step,) if step else (),
    }
    base.update(attrs)
    return base


def _moves(kind: str, u: str, v: str, step: str) -> tuple[Move, ...]:
    return ((kind, u, v, step, None),)


_Ident = tuple[Any, ...]
"""What makes two requesters' views of a step the same edge: its role and its ends."""


def _edges_of(s: Step) -> list[tuple[_Ident, str, str, dict[str, Any]]]:
    """The edges one view of a step produces, each with its identity (requesters not set)."""
    cases = tuple(c for c in (s.validation, s.action) if c)
    out: list[tuple[_Ident, str, str, dict[str, Any]]] = []
    target = s.successful_state
    if s.claim is None:
        kind = EdgeKind.AUTO_ADVANCE if s.auto_advance else EdgeKind.STEP
        attrs = {"use_cases": cases, "auto_advance": s.auto_advance}
        attrs["moves"] = _moves("initiated", s.status, target, s.key)
        out.append(((kind,), s.status, target, _edge(kind, s.key, **attrs)))
    else:
        c = s.claim.status
        release = _edge(
            EdgeKind.CLAIM_RELEASE,
            s.key,
            auto_advance=s.auto_advance,
            label=f"{s.key} done",
            moves=_moves("initiated", c, target, s.key),
        )
        back = _edge(
            EdgeKind.CLAIM_RELEASE,
            s.key,
            label=f"{s.key} released",
            moves=_moves("released", c, s.status, s.key),
        )
        claim = _edge(
            EdgeKind.CLAIM, s.key, use_cases=cases, label=f"{s.key} (claims {c})",
            moves=_moves("claimed", s.status, c, s.key),
        )  # fmt: skip
        on = _edge(
            EdgeKind.JANITOR, s.key, label=f"{s.key}: janitor on",
            moves=_moves("janitor", c, target, s.key),
        )  # fmt: skip
        off = _edge(
            EdgeKind.JANITOR, s.key, label=f"{s.key}: janitor back",
            moves=_moves("janitor", c, s.status, s.key),
        )  # fmt: skip
        out.append(((EdgeKind.CLAIM,), s.status, c, claim))
        out.append(((EdgeKind.CLAIM_RELEASE, s.auto_advance), c, target, release))
        out.append((("back",), c, s.status, back))
        out.append(((EdgeKind.JANITOR,), c, target, on))
        out.append((("janitor_back",), c, s.status, off))
    if s.rejection is not None:
        cases = tuple(c for c in (s.validation, s.rejection.action) if c)
        label = f"{s.key} rejected"
        state = s.rejection.state
        rejection = _edge(
            EdgeKind.REJECTION, s.key, use_cases=cases, label=label,
            moves=_moves("rejected", s.status, state, s.key),
        )  # fmt: skip
        out.append(((EdgeKind.REJECTION,), s.status, state, rejection))
        if s.claim is not None and s.action:  # the action said no inside the claim
            inside = _edge(
                EdgeKind.REJECTION, s.key, use_cases=cases, label=f"{s.key} rejected in claim",
                moves=_moves("rejected", s.claim.status, state, s.key),
            )  # fmt: skip
            out.append((("claim_rejection",), s.claim.status, state, inside))
    return [((*ident, u, v), u, v, attrs) for ident, u, v, attrs in out]


_ROLE = {"back": ("claim_release", ":back"), "janitor_back": ("janitor", ":back"),
         "claim_rejection": ("rejection", ":claim")}  # fmt: skip
"""Identities whose key is another kind's, with a tail."""


def _key(step: str, ident: _Ident, requesters: tuple[str, ...] = ()) -> str:
    role, tail = _ROLE.get(str(ident[0]), (str(ident[0]), ""))
    if requesters and ident[0] in (EdgeKind.STEP, EdgeKind.AUTO_ADVANCE):
        role = EdgeKind.OVERRIDE
    return f"{role}:{step}{tail}" + (f":{'+'.join(requesters)}" if requesters else "")


def _add_step(g: nx.MultiDiGraph, wf: Workflow, step: Step) -> None:
    """Add a step's edges; a requester whose override changes an edge gets its own edge."""
    allowed = [r for r in wf.requester_types if step.allows(r)]
    base = {ident: (u, v, a) for ident, u, v, a in _edges_of(step)}  # overrides unused there
    who: dict[_Ident, list[str]] = {ident: [] for ident in base}
    own: dict[_Ident, tuple[str, str, dict[str, Any], list[str]]] = {}
    for r in allowed if step.overrides else ():
        for ident, u, v, attrs in _edges_of(step.for_requester(r)):
            if ident in base:
                who[ident].append(r)
            else:
                own.setdefault(ident, (u, v, attrs, []))[3].append(r)
    if not step.overrides:  # everyone allowed sees the same edges
        who = {ident: list(allowed) for ident in base}
    for ident, (u, v, attrs) in base.items():
        if who[ident] or not allowed:  # not allowed to anyone: WF104, drawn all the same
            rs = tuple(who[ident])
            g.add_edge(u, v, key=_key(step.key, ident), **{**attrs, "requester_types": rs})
    for ident, (u, v, attrs, members) in own.items():
        rs = tuple(members)
        kind = attrs["kind"]
        if kind in (EdgeKind.STEP, EdgeKind.AUTO_ADVANCE):
            kind = EdgeKind.OVERRIDE
        label = f"{attrs['label']} [{', '.join(rs)}]"
        changed = {"kind": kind, "label": label, "requester_types": rs}
        g.add_edge(u, v, key=_key(step.key, ident, rs), **{**attrs, **changed})


def graph(wf: Workflow) -> nx.MultiDiGraph:
    """The workflow as a ``networkx.MultiDiGraph``.

    Nodes are the declared statuses (plus any status a step names without declaring it,
    marked ``declared=False``), with boolean attributes ``initial``, ``terminal``,
    ``failure`` and ``claim``. Edges are every way a status can change: each step's success
    (one edge per group of requester types whose override changes the target), its
    rejection, the claim detour (status → claim status → target, and the release back),
    observed transitions and timers; see the module docstring for edge attributes.

    Args:
        wf: a loaded workflow.

    Returns:
        A new graph; ``g.graph`` holds ``name``, ``initial``, ``requester_types`` and
        ``config_hash``.
    """
    g = nx.MultiDiGraph(
        name=wf.name,
        initial=wf.initial_status,
        requester_types=wf.requester_types,
        config_hash=wf.config_hash,
    )
    for status in wf.status_types:
        g.add_node(status, **_node(wf, status, declared=True))
    for step in wf.steps:
        _add_step(g, wf, step)
    for obs in wf.observed_transitions:
        g.add_edge(
            obs.from_,
            obs.to,
            key=f"observed:{obs.source}",
            **_edge(
                EdgeKind.OBSERVED,
                source=obs.source,
                label=f"observed: {obs.source}",
                moves=(("observed", obs.from_, obs.to, None, obs.source),),
            ),
        )
    for timer in wf.timers:
        _add_timer(g, wf, timer)
    _add_failures(g, wf)
    for status in list(g.nodes):
        if "declared" not in g.nodes[status]:
            g.nodes[status].update(_node(wf, status, declared=False))
    return g


def _add_timer(g: nx.MultiDiGraph, wf: Workflow, timer: Timer) -> None:
    """A timer's edge, where its history row (kind ``timer``) is written."""
    timed = wf.step(timer.step)
    if timed is None:
        return  # a timer naming no step is WF109; there is no edge to draw
    seen = timed.for_requester(timer.requester_type)
    delay = duration_words(timer.after)
    start, label = timer.status, f"{timer.step} after {delay}"
    if seen.claim is not None:  # the timer's step claims first: its row leaves the claim
        start, label = seen.claim.status, f"{timer.step} (timer, {delay} after {timer.status})"
    target = seen.successful_state
    g.add_edge(
        start,
        target,
        key=f"timer:{timer.key}",
        **_edge(
            EdgeKind.TIMER,
            timer.step,
            requester_types=(timer.requester_type,),
            use_cases=tuple(c for c in (seen.validation, seen.action) if c),
            timer=timer.key,
            after=timer.after,
            auto_advance=seen.auto_advance,
            label=label,
            moves=_moves("timer", start, target, timer.step),
        ),
    )


def _fallible(wf: Workflow, step: Step) -> dict[str, set[str]]:
    """Where a use case of ``step`` runs (status → requester types): where it may fail."""
    at: dict[str, set[str]] = {}
    for r in (r for r in wf.requester_types if step.allows(r)):
        seen = step.for_requester(r)
        rejecting = seen.rejection.action if seen.rejection else None
        if seen.claim is None:
            starts: list[tuple[str, tuple[str | None, ...]]] = [
                (step.status, (seen.validation, seen.action, rejecting))
            ]
        else:
            starts = [
                (step.status, (seen.validation, rejecting)),
                (seen.claim.status, (seen.action, rejecting)),
            ]
        for status, cases in starts:
            if any(cases):
                at.setdefault(status, set()).add(r)
    return at


def _add_failures(g: nx.MultiDiGraph, wf: Workflow) -> None:
    """One edge per status where a use case runs, to the first failure status.

    ``Result.fail(permanent=True)`` moves the entity there from wherever the failing use
    case ran, with the step's key and the call's kind (``initiated``, or ``timer`` for a
    step some timer runs). Rows another edge already stands for (a step whose target is the
    failure status) stay there.
    """
    if not wf.failure_statuses:
        return
    failed = wf.failure_statuses[0]
    taken = {m for _, _, ms in g.edges(data="moves") for m in ms}
    by_status: dict[str, tuple[list[Move], list[str], list[str]]] = {}
    for step in wf.steps:
        for status, who in _fallible(wf, step).items():
            if status == failed:
                continue
            moves, steps, requesters = by_status.setdefault(status, ([], [], []))
            timed = any(t.step == step.key for t in wf.timers)
            for kind in ("initiated", "timer") if timed else ("initiated",):
                move = (kind, status, failed, step.key, None)
                if move not in taken:
                    moves.append(move)
            steps.append(step.key)
            requesters += [r for r in wf.requester_types if r in who and r not in requesters]
    for status, (moves, steps, requesters) in by_status.items():
        if not moves:
            continue
        g.add_edge(
            status,
            failed,
            key=f"failure:{status}",
            **_edge(
                EdgeKind.FAILURE,
                requester_types=tuple(r for r in wf.requester_types if r in requesters),
                label="fails permanently",
                moves=tuple(moves),
                steps=tuple(dict.fromkeys(steps)),
            ),
        )


def _node(wf: Workflow, status: str, *, declared: bool) -> dict[str, Any]:
    return {
        "initial": status == wf.initial_status,
        "terminal": status in wf.terminal_statuses,
        "failure": status in wf.failure_statuses,
        "claim": status in wf.claim_statuses,
        "declared": declared,
    }


def requester_view(g: nx.MultiDiGraph, requester_type: str) -> nx.MultiDiGraph:
    """The edges ``requester_type`` alone can trigger, with every status kept.

    "Alone" means: steps it may run (after its overrides), their rejections, claim
    detours and permanent failures, and timers that run as it. Observed transitions and
    janitor outcomes are excluded: the outside world and the owning module, not a
    requester, trigger them.

    Raises:
        WfnbUsageError: the requester type is not declared by the workflow.
    """
    declared = tuple(g.graph.get("requester_types", ()))
    if requester_type not in declared:
        raise WfnbUsageError(
            f"workflow {g.graph.get('name')!r} declares no requester type {requester_type!r}; "
            f"it declares {', '.join(declared) or 'none'}"
        )
    view = nx.MultiDiGraph()
    view.graph.update(g.graph)
    view.add_nodes_from(g.nodes(data=True))
    view.add_edges_from(
        (u, v, k, d)
        for u, v, k, d in g.edges(keys=True, data=True)
        if requester_type in d["requester_types"] and d["kind"] != EdgeKind.JANITOR
    )
    return view


def status_graph(g: nx.MultiDiGraph) -> nx.DiGraph:
    """The multigraph collapsed to one edge per (from, to) pair, for path algorithms."""
    return nx.DiGraph(g)
