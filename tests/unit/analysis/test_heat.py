"""The history heat on the demo data: every drawn edge carries exactly its own kind of rows.

For every example workflow, on SQLite and on PostgreSQL, each edge's drawn count (in the
IR and as the number in the rendered SVG's label) equals a ``GROUP BY`` over
``workflow_history`` written here, with the predicate each edge kind stands for spelled out
by the test, not taken from the graph's ``moves``. Two stale claims are planted through
the real engine (the action dies after the claim commits) and resolved by a janitor, so
the janitor edges are checked on rows too.
"""

from __future__ import annotations

import re
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.analysis import diagram, graph
from wfnb.analysis.heat import edge_heat, history_counts
from wfnb.plots import edge_counts
from wfnb.spec import Workflow
from wfnb.validation import load_workflows

GROUPS = sa.text(
    "SELECT kind, from_status, to_status, step_key, source, count(*) AS n "
    "FROM workflow_history WHERE workflow = :w AND from_status IS NOT NULL "
    "GROUP BY kind, from_status, to_status, step_key, source"
)

Group = tuple[str, str, str, str | None, str | None]


def _groups(url: str, workflow: str) -> dict[Group, int]:
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            rows = conn.execute(GROUPS, {"w": workflow}).all()
    finally:
        db.dispose()
    return {(k, f, t, s, src): int(n) for k, f, t, s, src, n in rows}


def _expected(  # noqa: PLR0911  # one return per edge kind reads best
    wf: Workflow, u: str, v: str, key: str, d: dict[str, Any]
) -> set[Group]:
    """The history groups an edge stands for, from the edge's kind, ends and step."""
    step, kind = d["step"], str(d["kind"])
    if kind in {"step", "auto_advance", "override"}:
        return {("initiated", u, v, step, None)}
    if kind == "rejection":
        return {("rejected", u, v, step, None)}
    if kind == "claim":
        return {("claimed", u, v, step, None)}
    if kind == "claim_release":
        return {("released" if key.endswith(":back") else "initiated", u, v, step, None)}
    if kind == "janitor":
        return {("janitor", u, v, step, None)}
    if kind == "observed":
        return {("observed", u, v, None, d["source"])}
    if kind == "timer":
        return {("timer", u, v, step, None)}
    assert kind == "failure", kind
    assert v == wf.failure_statuses[0]
    own = {  # a step whose own target is the failure status keeps its rows
        s.key for s in wf.steps if s.status == u and s.successful_state == v
    }
    return {(k, u, v, s, None) for s in d["steps"] if s not in own for k in ("initiated", "timer")}


def _svg_labels(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


EXAMPLES = ["invoice", "user_registration", "sharing_group", "billing_period"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_drawn_edge_counts_exactly_the_history_rows_of_its_kind(
    demo_url: str, name: str
) -> None:
    wf = load_workflows([WORKFLOWS])[name]
    groups = _groups(demo_url, name)
    drawn = diagram(wf, highlight=edge_counts(demo_url, wf), split_terminals=None)
    by_key = {(e.source, e.target, e.key): e for e in drawn.ir.edges if e.declared}
    labels = _svg_labels(drawn.svg())
    claimed: set[Group] = set()
    for u, v, key, d in graph(wf).edges(keys=True, data=True):
        mine = _expected(wf, u, v, key, d)
        assert not mine & claimed, f"{key}: two edges claim the same rows"
        claimed |= mine
        want = sum(groups.get(g, 0) for g in mine)
        edge = by_key[(u, v, key)]
        assert edge.count == want, f"{name} {u} → {v} {key}: drawn {edge.count}, history {want}"
        assert f"{d['label']} ({want:,})" in labels, f"{key}: the SVG does not say {want:,}"
    stray = sum(n for g, n in groups.items() if g not in claimed)
    undeclared = sum(e.count or 0 for e in drawn.ir.edges if not e.declared)
    assert undeclared == stray
    assert sum(e.count or 0 for e in drawn.ir.edges) == sum(groups.values())


def test_the_demo_covers_every_edge_kind(demo_url: str) -> None:
    wfs = load_workflows([WORKFLOWS])
    taken: set[str] = set()
    for wf in wfs.values():
        heat = edge_heat(history_counts(demo_url, wf), wf)
        kinds = {k: d["kind"] for _, _, k, d in graph(wf).edges(keys=True, data=True)}
        taken |= {str(kinds[k]) for (_, _, k), n in heat.edges.items() if n}
    assert taken >= {
        "step", "override", "rejection", "claim", "claim_release", "janitor", "observed",
        "timer", "failure",
    }  # fmt: skip


def test_bank_feed_observations_and_claim_failures_sit_on_their_own_edges(demo_url: str) -> None:
    wf = load_workflows([WORKFLOWS])["invoice"]
    groups = _groups(demo_url, "invoice")
    heat = edge_heat(history_counts(demo_url, wf), wf)
    observed = groups[("observed", "sent", "paid", None, "bank_feed")]
    assert heat.edges[("sent", "paid", "observed:bank_feed")] == observed
    assert (
        heat.edges[("sent", "paid", "step:record_payment")]
        == groups[("initiated", "sent", "paid", "record_payment", None)]
    )
    failed = groups[("initiated", "sending", "undeliverable", "send", None)]
    assert failed > 0
    assert heat.edges[("sending", "undeliverable", "failure:sending")] == failed
    assert heat.undeclared == {}


def test_the_magic_the_explorer_the_report_and_edge_counts_draw_the_same_numbers(
    demo_url: str, tmp_path: Path
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from wfnb.analysis.report import report
    from wfnb.jupyter.explorer import WorkflowExplorer

    wfs = load_workflows([WORKFLOWS])
    wf = wfs["invoice"]
    reference = diagram(wf, highlight=edge_counts(demo_url, wf))
    counted = sorted(
        (e.source, e.target, e.key, e.count) for e in reference.ir.edges if e.count is not None
    )
    labels = [t for t in _svg_labels(reference.svg()) if t.endswith(")")]
    assert len(labels) >= len(counted) - 2  # self-loops share one label of several lines
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("%load_ext wfnb", store_history=False)
        shell.run_cell(f"%wfnb connect {demo_url}", store_history=False)
        shell.run_cell(f"%wfnb load {WORKFLOWS}", store_history=False)
        drawn = shell.run_cell("%wfnb graph invoice --heat", store_history=False).result
    finally:
        shell.run_cell("%reset -f", store_history=False)
        InteractiveShell.clear_instance()
    assert sorted((e.source, e.target, e.key, e.count) for e in drawn.ir.edges) == counted
    explorer = WorkflowExplorer(wfs, counts=lambda w: edge_counts(demo_url, w))
    explorer.workflow.value = "invoice"
    explorer.heat.value = True
    shown = _svg_labels(explorer.diagram.value)
    page = report(wfs, tmp_path / "r.html", db=demo_url).read_text(encoding="utf-8")
    for label in labels:
        assert label in shown, label
        assert f">{escape(label, quote=False)}</text>" in page, label
