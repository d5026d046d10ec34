"""graph(): every way a status can change is an edge with its kind and who triggers it."""

from __future__ import annotations

import networkx as nx
import pytest

from tests.unit.analysis.builders import build, maze, registration, step
from wfnb.analysis import EdgeKind, graph, requester_view
from wfnb.exceptions import WfnbUsageError


def test_registration_has_exactly_the_edges_of_its_steps_claims_timers_and_observations():
    g = graph(registration())
    assert isinstance(g, nx.MultiDiGraph)
    edges = {(u, v, k): d["kind"] for u, v, k, d in g.edges(keys=True, data=True)}
    assert edges == {
        ("pending_email_verification", "pending_documents", "step:verify_email"): "step",
        ("pending_documents", "documents_uploaded", "auto_advance:upload_documents"): (
            "auto_advance"
        ),
        ("pending_documents", "pending_admin_approval", "override:upload_documents:admin"): (
            "override"
        ),
        ("pending_documents", "pending_documents", "rejection:upload_documents"): "rejection",
        ("pending_documents", "pending_documents", "step:send_document_reminder"): "step",
        ("pending_documents", "pending_documents", "timer:remind_documents"): "timer",
        ("documents_uploaded", "pending_admin_approval", "step:queue_for_review"): "step",
        ("pending_admin_approval", "registering_at_hub", "claim:approve"): "claim",
        ("registering_at_hub", "pending_hub_registration", "claim_release:approve"): (
            "claim_release"
        ),
        ("registering_at_hub", "pending_admin_approval", "claim_release:approve:back"): (
            "claim_release"
        ),
        ("pending_admin_approval", "rejected", "step:reject"): "step",
        ("pending_hub_registration", "rejected", "step:expire"): "step",
        ("pending_hub_registration", "rejected", "timer:hub_deadline"): "timer",
        ("pending_hub_registration", "active", "observed:datahub_poller"): "observed",
        # routes the engine takes on its own: a janitor resolving a stale claim, and a use
        # case failing permanently (to the failure status, from wherever it ran)
        ("registering_at_hub", "pending_hub_registration", "janitor:approve"): "janitor",
        ("registering_at_hub", "pending_admin_approval", "janitor:approve:back"): "janitor",
        ("pending_email_verification", "rejected", "failure:pending_email_verification"): (
            "failure"
        ),
        ("pending_documents", "rejected", "failure:pending_documents"): "failure",
        ("registering_at_hub", "rejected", "failure:registering_at_hub"): "failure",
    }


def test_nodes_carry_their_roles():
    g = graph(registration())
    assert g.nodes["pending_email_verification"]["initial"]
    assert g.nodes["active"]["terminal"]
    assert not g.nodes["active"]["failure"]
    assert g.nodes["rejected"]["terminal"]
    assert g.nodes["rejected"]["failure"]
    assert g.nodes["registering_at_hub"]["claim"]
    assert not g.nodes["pending_documents"]["claim"]
    assert g.graph["name"] == "user_registration"


def test_edge_attributes_name_step_requesters_use_cases_source_and_timer():
    g = graph(registration())
    plain = g.edges["pending_documents", "documents_uploaded", "auto_advance:upload_documents"]
    assert plain["step"] == "upload_documents"
    assert plain["requester_types"] == ("user",)  # admin's override changes the target
    assert plain["use_cases"] == ("validate_documents", "store_documents")
    assert plain["auto_advance"] is True
    admin = g.edges[
        "pending_documents", "pending_admin_approval", "override:upload_documents:admin"
    ]
    assert admin["requester_types"] == ("admin",)
    assert admin["use_cases"] == ("validate_documents_admin", "store_documents")
    assert "admin" in admin["label"]
    rejection = g.edges["pending_documents", "pending_documents", "rejection:upload_documents"]
    assert rejection["requester_types"] == ("user", "admin")  # same target for both
    assert rejection["use_cases"] == ("validate_documents", "notify_documents_rejected")
    observed = g.edges["pending_hub_registration", "active", "observed:datahub_poller"]
    assert observed["source"] == "datahub_poller"
    assert observed["requester_types"] == ()
    timer = g.edges["pending_hub_registration", "rejected", "timer:hub_deadline"]
    assert (timer["timer"], timer["after"], timer["step"]) == ("hub_deadline", "P30D", "expire")
    assert timer["requester_types"] == ("system",)


def test_an_override_that_keeps_the_target_adds_no_edge():
    wf = build(
        ["a", "b"],
        [step("go", "a", "b", overrides={"admin": {"validation": "stricter"}})],
        initial="a",
        terminal=["b"],
    )
    edges = list(graph(wf).edges(keys=True, data="requester_types"))
    assert edges == [("a", "b", "step:go", ("user", "admin", "system"))]


def test_an_override_changing_the_rejection_gets_its_own_rejection_edge():
    wf = build(
        ["a", "b", "c"],
        [
            step(
                "go",
                "a",
                "b",
                rejection={"state": "a"},
                overrides={"admin": {"rejection": {"state": "c"}}},
            )
        ],
        initial="a",
        terminal=["b", "c"],
    )
    edges = {(u, v, k): who for u, v, k, who in graph(wf).edges(keys=True, data="requester_types")}
    assert edges == {
        ("a", "b", "step:go"): ("user", "admin", "system"),
        ("a", "a", "rejection:go"): ("user", "system"),
        ("a", "c", "rejection:go:admin"): ("admin",),
    }


def test_a_status_named_but_not_declared_is_a_node_marked_undeclared():
    wf = build(["a"], [step("go", "a", "ghost")], initial="a", terminal=[])
    g = graph(wf)
    assert g.nodes["ghost"]["declared"] is False
    assert g.nodes["a"]["declared"] is True


def test_requester_view_keeps_only_what_that_requester_triggers():
    g = graph(maze())
    user = requester_view(g, "user")
    assert set(user.nodes) == set(g.nodes)
    assert {k for *_, k in user.edges(keys=True)} == {
        "step:s1",
        "step:s3",
        "step:s6",
        "step:s8",
        "step:s9",
    }
    system = requester_view(g, "system")
    assert {k for *_, k in system.edges(keys=True)} == {"step:s9", "timer:escalate", "step:s8"}
    assert not any(d["kind"] == EdgeKind.OBSERVED for *_, d in system.edges(data=True))


def test_requester_view_of_an_unknown_requester_is_a_usage_error():
    with pytest.raises(WfnbUsageError, match="robot"):
        requester_view(graph(maze()), "robot")
