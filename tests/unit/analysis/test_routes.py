"""Every route the engine can take is an edge, a drawn arrow and a way to a final status.

A claimed step's permanent failure (``sending → undeliverable``), a janitor's outcomes
(on to the target, back to the step's status), a rejection inside the claim, a permanent
failure of any use case, a timer of a claimed step; and what a requester type can do
"alone", asked and answered in words.
"""

from __future__ import annotations

import pytest

from tests.conftest import WORKFLOWS
from tests.unit.analysis.builders import registration
from wfnb.analysis import alone, diagram, graph, paths
from wfnb.spec import Workflow
from wfnb.validation import load_workflows


@pytest.fixture(scope="module")
def invoice() -> Workflow:
    return load_workflows([WORKFLOWS])["invoice"]


def _kinds(wf: Workflow, u: str, v: str) -> dict[str, str]:
    return {k: str(d["kind"]) for a, b, k, d in graph(wf).edges(keys=True, data=True)
            if (a, b) == (u, v)}  # fmt: skip


def test_the_claim_failure_route_is_an_edge_a_path_and_a_way_in(invoice: Workflow) -> None:
    assert _kinds(invoice, "sending", "undeliverable") == {"failure:sending": "failure"}
    report = paths(invoice)
    assert ("draft", "approved", "sending", "undeliverable") in report.paths_to_terminal[
        "undeliverable"
    ]
    assert ("sending", "failure", "fails permanently") in report.ways_in["undeliverable"]
    assert "entered from sending: fails permanently (a permanent failure)" in str(report)
    drawn = diagram(invoice, split_terminals=None)
    assert any(
        (e.source, e.target, e.kind) == ("sending", "undeliverable", "failure")
        for e in drawn.ir.edges
    )


def test_janitor_outcomes_go_on_to_the_target_and_back_to_the_steps_status(
    invoice: Workflow,
) -> None:
    assert _kinds(invoice, "sending", "sent")["janitor:send"] == "janitor"
    assert _kinds(invoice, "sending", "approved")["janitor:send:back"] == "janitor"
    svg = diagram(invoice).svg()
    assert "send: janitor on" in svg
    assert "send: janitor back" in svg
    report = paths(invoice)
    assert ("approved", "sending", "approved") in report.cycles or any(
        set(c) == {"approved", "sending"} for c in report.cycles
    )


def test_a_permanent_failure_reaches_the_failure_status_from_every_status_a_use_case_runs_at(
    invoice: Workflow,
) -> None:
    into = {u for u, kind, _ in paths(invoice).ways_in["undeliverable"] if kind == "failure"}
    # draft: approve / cancel; approved: send's validation; sending: send's action;
    # sent: record_payment, mark_overdue; overdue: reminders, payments, write-off
    assert into == {"draft", "approved", "sending", "sent", "overdue"}
    # mark_undeliverable's own rows (sent → undeliverable) stay on its step edge
    failure = graph(invoice).edges["sent", "undeliverable", "failure:sent"]
    assert ("initiated", "sent", "undeliverable", "mark_undeliverable", None) not in failure[
        "moves"
    ]


def test_a_rejection_inside_the_claim_is_drawn_from_the_claim_status(invoice: Workflow) -> None:
    assert _kinds(invoice, "sending", "draft") == {"rejection:send:claim": "rejection"}


def test_a_timer_of_a_claimed_step_is_drawn_where_its_row_is_written() -> None:
    billing = load_workflows([WORKFLOWS])["billing_period"]
    assert _kinds(billing, "closing", "closed")["timer:close_on_schedule"] == "timer"
    assert "timer:close_on_schedule" not in _kinds(billing, "open", "closed")
    assert _kinds(billing, "open", "closing") == {"claim:close": "claim"}


def test_a_workflow_without_a_failure_status_has_no_failure_edges() -> None:
    billing = load_workflows([WORKFLOWS])["billing_period"]
    assert not [k for _, _, k in graph(billing).edges(keys=True) if k.startswith("failure:")]


def test_what_a_requester_can_do_alone_is_asked_and_answered_in_words() -> None:
    wf = load_workflows([WORKFLOWS])["user_registration"]
    admin = paths(wf, "admin")
    assert admin.reachable == {"pending_email_verification"}
    assert "nobody else acting" in admin.question()
    answer = admin.answer()
    assert answer.startswith("Alone, admin cannot move an entity out of pending_email_verification")
    assert "also acts at pending_documents" in answer
    assert "pending_admin_approval" in admin.acts_at
    text = str(admin)
    assert "question:" in text
    assert "answer:" in text
    html = admin._repr_html_()
    assert "Question:" in html
    assert "Answer:" in html


def test_alone_puts_each_requesters_reach_beside_where_it_acts() -> None:
    wf = load_workflows([WORKFLOWS])["user_registration"]
    report = alone(wf)
    rows = {r[0]: r for r in report.rows()}
    assert rows["admin"][1:3] == ("none: cannot act at pending_email_verification", "-")
    assert "pending_admin_approval" in rows["admin"][3]
    assert rows["user"][1].startswith("pending_email_verification, pending_documents")
    html = report._repr_html_()
    assert "nobody else acting" in html
    assert "also acts at (after others)" in html
    assert "admin: Alone, admin cannot move" in str(report)


def test_a_requester_diagram_says_what_it_shows() -> None:
    d = diagram(registration(), requester_type="admin")
    assert d.ir.title == "user_registration: the edges admin can trigger (at any status)"


def test_a_janitor_moving_a_claim_on_is_a_way_into_a_final_status() -> None:
    wf = load_workflows([WORKFLOWS])["user_registration"]
    report = paths(wf)
    ways = report.ways_in["deactivated"]
    assert ("deregistering_at_hub", "janitor", "close_account: janitor on") in ways
    assert ("deregistering_at_hub", "claim_release", "close_account done") in ways
    assert "entered from deregistering_at_hub: close_account: janitor on (the janitor)" in str(
        report
    )
    # the janitor is the owning module's, not a requester's: not in anyone's view alone
    user = paths(wf, "user")
    assert all(kind != "janitor" for _, kind, _ in user.ways_in["deactivated"])
