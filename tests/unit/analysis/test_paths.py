"""paths(): known answers on hand-built workflows (see builders.maze for the derivation)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.unit.analysis.builders import build, maze, registration, step
from wfnb.analysis import PathReport, paths
from wfnb.exceptions import WfnbUsageError


def _cycle_sets(report: PathReport) -> set[frozenset[str]]:
    return {frozenset(c) for c in report.cycles}


def test_unreachable_and_dead_ends():
    report = paths(maze())
    assert report.unreachable == ("orphan",)
    assert report.dead_ends == ("stuck",)
    assert "orphan" not in report.reachable
    assert report.reachable == {"start", "a", "b", "c", "done", "failed", "stuck"}
    assert not report.ok


def test_cycles_include_a_rejection_back_to_the_same_status():
    report = paths(maze())
    assert _cycle_sets(report) == {frozenset({"a", "c"}), frozenset({"b"})}
    assert not report.cycles_truncated


def test_all_simple_paths_to_each_terminal_and_their_counts():
    report = paths(maze())
    assert set(report.paths_to_terminal["done"]) == {
        ("start", "a", "done"),
        ("start", "a", "c", "done"),
        ("start", "b", "c", "done"),
        ("start", "b", "c", "a", "done"),
    }
    assert report.paths_to_terminal["failed"] == (("start", "b", "failed"),)
    assert dict(report.path_counts) == {"done": 4, "failed": 1}
    assert report.truncated == frozenset()


def test_shortest_path_to_each_terminal():
    report = paths(maze())
    assert report.shortest == {"done": ("start", "a", "done"), "failed": ("start", "b", "failed")}


def test_enumeration_is_bounded_and_says_there_were_more():
    report = paths(maze(), max_paths=2)
    assert len(report.paths_to_terminal["done"]) == 2
    assert report.path_counts["done"] == 2
    assert report.truncated == {"done"}
    assert report.count_text("done") == "more than 2"
    assert report.count_text("failed") == "1"
    one = paths(maze(), max_paths=1)
    assert len(one.cycles) == 1
    assert one.cycles_truncated
    assert "more than 1" in str(one)


def test_a_requester_alone_reaches_only_what_its_own_edges_reach():
    user = paths(maze(), "user")
    # the observed c -> done is the outside world's, not the user's
    assert user.reachable == {"start", "a", "c", "stuck"}
    assert user.unreachable == ("b", "done", "failed", "orphan")
    assert user.dead_ends == ("stuck",)
    assert user.shortest == {"done": None, "failed": None}
    assert dict(user.path_counts) == {"done": 0, "failed": 0}
    admin = paths(maze(), "admin")  # admin's override of s1 leads to b, never to a
    assert admin.reachable == {"start", "b", "c", "done", "failed"}
    assert admin.dead_ends == ()
    assert admin.shortest["done"] == ("start", "b", "c", "done")
    system = paths(maze(), "system")
    assert system.reachable == {"start"}
    assert system.dead_ends == ("start",)


def test_an_unknown_requester_is_a_usage_error():
    with pytest.raises(WfnbUsageError, match="nobody"):
        paths(maze(), "nobody")


def test_the_claim_detour_is_on_the_way_to_the_status_after_it():
    report = paths(registration())
    assert report.unreachable == ()
    assert report.dead_ends == ()
    assert report.shortest["active"] == (
        "pending_email_verification",
        "pending_documents",
        "pending_admin_approval",
        "registering_at_hub",
        "pending_hub_registration",
        "active",
    )
    # via documents_uploaded, or straight on with admin's override
    assert report.path_counts["active"] == 2
    assert report.ok


def test_a_self_loop_is_not_a_way_out():
    wf = build(
        ["a", "b", "end"],
        [step("go", "a", "b"), step("remind", "b", "b")],
        initial="a",
        terminal=["end"],
    )
    report = paths(wf)
    assert report.dead_ends == ("b",)
    assert report.unreachable == ("end",)
    assert report.shortest == {"end": None}


def test_the_report_is_frozen_and_displays_itself():
    report = paths(maze())
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.workflow = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.shortest["done"] = ()  # type: ignore[index]
    assert repr(report) == "<PathReport 'flow': 1 unreachable, 1 dead ends, 2 cycles>"
    text = str(report)
    assert "unreachable: orphan" in text
    assert "to done: 4 paths, the shortest start -> a -> done" in text
    html = report._repr_html_()
    assert "<table" in html
    assert "orphan" in html
    assert "start → b → failed" in html


def test_a_requester_who_cannot_start_is_told_so_not_a_dead_end() -> None:
    """QA: ``wfnb paths user_registration --requester admin`` called the initial status a
    dead end, printed "0 paths; shortest unreachable" and edge kinds as identifiers."""
    from tests.conftest import WORKFLOWS
    from wfnb.validation import load_workflows

    wf = load_workflows([WORKFLOWS])["user_registration"]
    admin = paths(wf, "admin")
    text = str(admin)
    said = (
        "admin cannot act at the initial status pending_email_verification: "
        "no path starts there for admin alone"
    )
    assert f"  dead ends:   {said}" in text
    assert said in admin._repr_html_()
    assert "shortest unreachable" not in text
    assert "<td>not reachable from pending_email_verification by admin alone</td>" in (
        admin._repr_html_()
    )
    assert "  to deactivated: not reachable from pending_email_verification by admin alone" in text
    assert "entered from deregistering_at_hub: close_account done (a claim released)" in text
    assert "(claim_release)" not in text
    assert "(step)" not in text
    everyone = str(paths(wf))
    assert "(a claim released)" in everyone
    assert "dead ends:   -" in everyone
