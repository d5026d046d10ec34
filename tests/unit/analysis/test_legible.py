"""Diagrams fit the column down to 11 px labels, and pan and zoom beyond (ADR 0034)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import WORKFLOWS
from wfnb._html import PT_TO_PX, SMALLEST_LABEL_PX, diagram_viewer
from wfnb.analysis import diagram
from wfnb.analysis.render import LABEL_PT
from wfnb.validation import load_workflows


def _sizes(html: str) -> tuple[float, float]:
    found = re.search(r"max-width:(\d+)px;min-width:(\d+)px", html)
    assert found is not None
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("name", ["invoice", "user_registration", "billing_period"])
def test_the_viewer_never_shrinks_a_label_under_11_px(name: str) -> None:
    drawn = diagram(load_workflows([WORKFLOWS])[name])
    html = drawn._repr_html_()
    natural, least = _sizes(html)
    width_pt = float(re.search(r'width="([\d.]+)pt"', drawn.svg()).group(1))  # type: ignore[union-attr]
    assert natural == pytest.approx(width_pt * PT_TO_PX, abs=1)
    smallest_font = min(float(f) for f in re.findall(r'font-size="([\d.]+)"', drawn.svg()))
    assert smallest_font == float(LABEL_PT)
    assert smallest_font * least / width_pt >= SMALLEST_LABEL_PX  # px per pt at the floor
    assert "<script>" in html  # pan and zoom where scripts run
    assert "overflow:auto" in html  # and a scrolling box where they do not


def test_the_svg_scales_with_its_viewbox() -> None:
    html = diagram_viewer('<svg width="300pt" height="100pt" viewBox="0 0 300 100"></svg>')
    assert 'width="300pt"' not in html
    assert "viewBox" in html
    assert "width:100%" in html


def test_auto_direction_keeps_the_narrower_layout() -> None:
    wf = load_workflows([WORKFLOWS])["invoice"]
    widths = {
        d: float(re.search(r'width="([\d.]+)pt"', diagram(wf, direction=d).svg()).group(1))  # type: ignore[union-attr]
        for d in ("LR", "TB")
    }
    auto = diagram(wf, direction="auto")
    assert auto.ir.direction == min(widths, key=lambda d: widths[d])


def test_several_self_loops_of_a_status_are_one_loop_listing_each_edge() -> None:
    wf = load_workflows([WORKFLOWS])["user_registration"]
    drawn = diagram(wf)
    loops = [e for e in drawn.ir.edges if e.source == e.target == "pending_email_verification"]
    assert len(loops) >= 3  # the IR keeps every edge
    dot = drawn.dot
    loop = r"pending_email_verification(?::\w)? -> pending_email_verification"
    assert len(re.findall(loop, dot)) == 1
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", drawn.svg())
    for edge in loops:
        assert edge.label in texts  # each on its own line, in its own colour
