"""diagram(): IR styles, history overlays, regions, Mermaid, and drawing without a system dot."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.analysis.builders import registration
from wfnb.analysis import diagram
from wfnb.analysis import render as render_mod
from wfnb.analysis.ir import RED, EdgeIR
from wfnb.analysis.overlay import GREY
from wfnb.exceptions import WfnbUsageError

PURE = Path(sys.executable).parent / "graphviz-pure"


def _edge(d, key: str) -> EdgeIR:  # type: ignore[no-untyped-def]
    return next(e for e in d.ir.edges if e.key == key)


def test_statuses_are_styled_by_role():
    d = diagram(registration())
    nodes = {n.label: n for n in d.ir.nodes}
    assert nodes["active"].peripheries == 2
    assert nodes["rejected"].peripheries == 2
    assert nodes["rejected"].color == RED
    assert nodes["registering_at_hub"].shape == "hexagon"
    assert nodes["pending_documents"].shape == "box"
    assert "filled" in nodes["pending_email_verification"].style
    assert d.ir.direction == "LR"


def test_rejections_are_dashed_and_do_not_constrain_the_ranking():
    d = diagram(registration())
    rejection = _edge(d, "rejection:upload_documents")
    assert (rejection.style, rejection.constraint) == ("dashed", False)
    assert _edge(d, "claim_release:approve:back").constraint is False
    assert _edge(d, "step:verify_email").constraint is True
    assert _edge(d, "auto_advance:upload_documents").style == "bold"


def test_dot_source_carries_the_layout_and_styles():
    dot = diagram(registration(), direction="tb").dot
    assert "rankdir=TB" in dot
    assert "pending_documents -> documents_uploaded" in dot
    assert "shape=hexagon" in dot
    assert "peripheries=2" in dot
    assert "constraint=false" in dot


def test_highlight_scales_width_labels_counts_and_greys_unused_edges():
    counts = {
        ("pending_email_verification", "pending_documents"): 40,
        ("pending_documents", "pending_admin_approval", "upload_documents"): 10,
    }
    d = diagram(registration(), highlight=counts)
    busy = _edge(d, "step:verify_email")
    some = _edge(d, "override:upload_documents:admin")
    idle = _edge(d, "step:queue_for_review")
    assert busy.count == 40
    assert some.count == 10
    assert busy.penwidth > some.penwidth > idle.penwidth == 1.0
    assert "(40)" in busy.label
    assert "(10)" in some.label
    assert idle.color == GREY
    assert busy.color not in {GREY, RED}
    assert f"penwidth={busy.penwidth:g}" in d.dot
    plain = _edge(diagram(registration()), "step:verify_email")
    assert plain.count is None
    assert plain.penwidth == 1.0


def test_history_edges_never_declared_are_drawn_red_and_dashed():
    taken = {
        ("pending_documents", "active"): 3,  # a manual UPDATE
        ("pending_email_verification", "pending_documents"): 9,  # declared: nothing added
        ("legacy_review", "pending_admin_approval"): 2,  # a status of an old config
    }
    d = diagram(registration(), history_edges=taken)
    stray = [e for e in d.ir.edges if not e.declared]
    assert {(e.source, e.target, e.count) for e in stray} == {
        ("pending_documents", "active", 3),
        ("legacy_review", "pending_admin_approval", 2),
    }
    assert all((e.color, e.style) == (RED, "dashed") for e in stray)
    assert d.ir.node("legacy_review") is not None
    assert len(d.ir.edges) == len(diagram(registration()).ir.edges) + 2
    assert 'pending_documents -> active [label="undeclared (3)" color="#d62728"' in d.dot


def test_focus_keeps_only_the_region_within_depth():
    wf = registration()
    near = diagram(wf, focus="pending_admin_approval", depth=1)
    assert {n.label for n in near.ir.nodes} == {
        "pending_admin_approval",
        "pending_documents",
        "documents_uploaded",
        "registering_at_hub",
        "rejected",
    }
    alone = diagram(wf, focus="pending_admin_approval", depth=0)
    assert [n.label for n in alone.ir.nodes] == ["pending_admin_approval"]
    assert alone.ir.edges == ()
    two = diagram(wf, focus="pending_admin_approval", depth=2)
    assert "pending_hub_registration" in {n.label for n in two.ir.nodes}
    assert "active" not in {n.label for n in two.ir.nodes}
    assert near.ir.node("pending_admin_approval").penwidth > 1  # type: ignore[union-attr]


def test_focus_leaves_out_taken_edges_that_leave_the_region():
    taken = {("pending_admin_approval", "active"): 1}
    d = diagram(registration(), focus="pending_admin_approval", depth=1, history_edges=taken)
    assert all(e.declared for e in d.ir.edges)


def test_a_requester_sees_only_its_own_edges():
    d = diagram(registration(), requester_type="admin")
    assert {e.key for e in d.ir.edges} == {
        "override:upload_documents:admin",
        "rejection:upload_documents",
        "claim:approve",
        "claim_release:approve",
        "claim_release:approve:back",
        "step:reject",
        "failure:pending_documents",  # admin's own use cases failing permanently
        "failure:registering_at_hub",
    }  # the janitor's edges are the owning module's, not admin's
    assert "the edges admin can trigger" in d.ir.title


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"focus": "nowhere"}, "nowhere"),
        ({"focus": "active", "depth": -1}, "depth"),
        ({"direction": "diagonal"}, "diagonal"),
        ({"requester_type": "robot"}, "robot"),
    ],
)
def test_bad_arguments_are_usage_errors(kwargs, match):  # type: ignore[no-untyped-def]
    with pytest.raises(WfnbUsageError, match=match):
        diagram(registration(), **kwargs)


def test_mermaid_text_has_every_edge():
    d = diagram(registration(), highlight={("pending_documents", "active"): 2})
    text = d.mermaid()
    assert text.startswith("flowchart LR\n")
    assert '    s0("pending_email_verification"):::initial' in text
    assert '    s4{{"registering_at_hub"}}:::claim' in text
    assert '    s6((("active"))):::terminal' in text
    assert '    s0 -->|"verify_email (0)"| s1' in text
    assert '    s1 ==>|"upload_documents (0)"| s2' in text
    assert '    s1 -.->|"undeclared (2)"| s6' in text
    arrows = [line for line in text.splitlines() if "|" in line and "linkStyle" not in line]
    assert len(arrows) == len(d.ir.edges)
    assert f"linkStyle {len(d.ir.edges) - 1} stroke:{RED}" in text


def test_repr_is_cheap_and_renders_nothing():
    d = diagram(registration())
    # 'rejected' is entered from 5 statuses (permanent failures included): drawn beside each
    assert repr(d) == "<Diagram 'user_registration': 12 statuses, 19 edges>"
    assert "dot" not in d.__dict__


def test_svg_and_saving_in_every_format(tmp_path: Path):
    d = diagram(registration(), highlight={("pending_documents", "documents_uploaded"): 5})
    svg = d.svg()
    assert "<svg" in svg
    assert "pending_hub_registration" in svg
    assert d._repr_svg_() == svg
    assert d.save(tmp_path / "a.svg").read_text().startswith("<?xml")
    assert d.save(tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert d.save(tmp_path / "a.dot").read_text() == d.dot
    assert d.save(tmp_path / "a.mmd").read_text() == d.mermaid()
    with pytest.raises(WfnbUsageError, match=r"\.pdf"):
        d.save(tmp_path / "a.pdf")


def test_svg_renders_with_no_system_dot_on_path(tmp_path: Path):
    """A bare PATH (like a Jupyter kernel's without the venv): graphviz-pure is found anyway."""
    code = textwrap.dedent(
        """
        import shutil
        assert shutil.which("dot") is None, "this test needs a PATH without dot"
        from tests.unit.analysis.builders import registration
        from wfnb.analysis import diagram
        print(diagram(registration()).svg())
        """
    )
    env = {k: v for k, v in os.environ.items() if k != render_mod.DOT_ENV}
    env["PATH"] = str(tmp_path)  # an empty folder: neither dot nor graphviz-pure
    repo = Path(__file__).resolve().parents[3]
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "src")])
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout
    assert "(graphviz-pure)" in done.stdout  # the generator comment names the binary


def test_find_dot_prefers_env_then_path_then_the_binary_beside_python(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(render_mod.DOT_ENV, str(PURE))
    assert render_mod.find_dot() == str(PURE)
    monkeypatch.delenv(render_mod.DOT_ENV)
    monkeypatch.setattr(
        render_mod.shutil, "which", lambda name: "/opt/bin/dot" if name == "dot" else None
    )
    assert render_mod.find_dot() == "/opt/bin/dot"
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    assert render_mod.find_dot() == str(PURE)


def test_use_dot_points_the_graphviz_package_at_graphviz_pure(monkeypatch):  # type: ignore[no-untyped-def]
    from graphviz.backend import dot_command

    monkeypatch.delenv(render_mod.DOT_ENV, raising=False)
    monkeypatch.setattr(dot_command, "DOT_BINARY", Path("dot"))
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    assert render_mod.use_dot() == str(PURE)
    assert dot_command.DOT_BINARY == PURE
    monkeypatch.setattr(dot_command, "DOT_BINARY", Path("/custom/dot"))
    assert render_mod.use_dot() == "/custom/dot"  # a user's own choice is kept


def test_no_binary_at_all_is_a_one_line_usage_error(monkeypatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    from graphviz.backend import dot_command

    monkeypatch.delenv(render_mod.DOT_ENV, raising=False)
    monkeypatch.setattr(dot_command, "DOT_BINARY", Path("dot"))
    monkeypatch.setattr(render_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(render_mod.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(WfnbUsageError, match="graphviz-pure") as info:
        diagram(registration()).svg()
    assert "\n" not in info.value.one_line()


def test_missing_graphviz_package_gives_an_install_hint(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "graphviz", None)
    d = diagram(registration())
    assert "s0 -->" in d.mermaid()  # Mermaid needs no drawing package
    with pytest.raises(WfnbUsageError, match=r"pip install 'wfnb\[graph\]'"):
        _ = d.dot


def _cancel_from_everywhere(sources: int):  # type: ignore[no-untyped-def]
    from tests.unit.analysis.builders import build, step

    chain = [f"s{i}" for i in range(sources)]
    steps = [step(f"next_{i}", s, ([*chain, "done"])[i + 1]) for i, s in enumerate(chain)]
    steps += [step(f"cancel_{i}", s, "cancelled") for i, s in enumerate(chain)]
    return build(
        [*chain, "done", "cancelled"],
        steps,
        initial="s0",
        terminal=["done", "cancelled"],
        failure=["cancelled"],
    )


def test_a_terminal_status_entered_from_everywhere_is_drawn_beside_each_source():
    d = diagram(_cancel_from_everywhere(6))
    copies = [n for n in d.ir.nodes if n.label == "cancelled"]
    assert len(copies) == 6
    assert all(n.copy_of == "cancelled" and n.failure for n in copies)
    into = [e for e in d.ir.edges if e.key.startswith("step:cancel_")]
    assert sorted(e.target for e in into) == sorted(n.id for n in copies)
    assert d.ir.node("cancelled") is copies[0]
    once = diagram(_cancel_from_everywhere(6), split_terminals=None)
    assert [n.id for n in once.ir.nodes if n.label == "cancelled"] == ["cancelled"]
    few = diagram(_cancel_from_everywhere(4))  # at the limit: still drawn once
    assert [n.copy_of for n in few.ir.nodes if n.label == "cancelled"] == [None]
