"""The explorer driven in a page (JupyterLab or the dashboard): the steps both tests take.

Each step asserts on what appears and leaves a screenshot under test-artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import ARTIFACTS

OLD_REV = "c8898d9"
"""A revision of workflows/invoice.json before the approved → cancelled edge (README)."""
UNREADABLE = re.compile(r"\bnan\b|\bNaN\b|\bNaT\b|\bNone\b|<NA>|undefined")


def _shot(page: Any, root: Any, name: str) -> None:
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(ARTIFACTS / f"explorer-{name}.png"))


def _zoom(root: Any) -> float:
    return float(root.get_attribute("data-zoom"))


def drive(page: Any, prefix: str, status: str, at_status: int) -> None:  # noqa: PLR0915
    """Pan, zoom, click a status and an entity, hover an edge, toggle every overlay.

    ``at_status``: how many entities SQL counts at ``status`` (the panel must say so).
    """
    root = page.wait_for_selector(".wfnb-explorer g.wfnb-status", timeout=300_000)
    root = page.locator(".wfnb-explorer").first
    stage = root.locator(".wfnb-stage")
    assert int(root.get_attribute("data-statuses")) >= 8
    _shot(page, root, f"{prefix}-opened")
    # zoom with the buttons and the wheel, then fit
    before = _zoom(root)
    root.locator("button.wfnb-zoom-in").click()
    root.locator("button.wfnb-zoom-in").click()
    assert _zoom(root) > before * 1.5
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(200)
    zoomed = _zoom(root)
    assert zoomed > before * 1.5
    # pan: drag the drawing; the viewBox moves, the zoom stays
    svg = root.locator(".wfnb-stage svg")
    vb = svg.get_attribute("viewBox")
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 240, box["y"] + 140, steps=8)
    page.mouse.up()
    assert svg.get_attribute("viewBox") != vb
    assert abs(_zoom(root) - zoomed) < 1e-6
    _shot(page, root, f"{prefix}-zoomed-panned")
    root.locator("button.wfnb-fit").click()
    assert abs(_zoom(root) - 1.0) < 1e-6
    # click a status: its entities, counted as SQL counts them, and their dwell
    root.locator(f"g.wfnb-status[data-status='{status}']").first.click()
    title = root.locator(".wfnb-panel .wfnb-panel-title")
    title.wait_for(timeout=60_000)
    assert title.inner_text() == f"{status}: {at_status:,} entities now"
    panel = root.locator(".wfnb-panel")
    text = panel.inner_text()
    assert f"1\u2013{min(20, at_status)} of {at_status:,}" in text
    assert "Time at this status so far" in text
    assert UNREADABLE.search(text) is None, UNREADABLE.search(text)
    assert at_status > 20  # so that the page turns
    root.locator("button.wfnb-next").click()
    page.wait_for_function(
        "() => document.querySelector('.wfnb-panel caption')?.textContent.includes('21\u2013')"
    )
    _shot(page, root, f"{prefix}-status")
    # filter the ids
    root.locator("input.wfnb-search").fill("zzz-no-such")
    root.locator("button.wfnb-filter").click()
    page.wait_for_function(
        "() => document.querySelector('.wfnb-panel')?.textContent.includes('0 of 0')"
    )
    root.locator("input.wfnb-search").fill("")
    root.locator("button.wfnb-filter").click()
    first = root.locator("td.wfnb-entity").first
    first.wait_for(timeout=60_000)
    entity = first.inner_text().strip()
    # click an entity: its timeline, with configs and deviations
    first.click()
    heading = root.locator(".wfnb-panel .wfnb-panel-title")
    page.wait_for_function(
        f"() => document.querySelector('.wfnb-panel .wfnb-panel-title')?.textContent"
        f".endsWith({entity!r})",
        timeout=120_000,
    )
    timeline = panel.inner_text()
    assert "history rows" in timeline
    assert "config" in timeline
    assert UNREADABLE.search(timeline) is None
    assert heading.count() == 1
    _shot(page, root, f"{prefix}-entity")
    # hover an edge: count, median, p90, use cases, requester types
    edge = root.locator("g.wfnb-edge[data-edge='draft→approved'] text").first
    edge.hover()
    tip = root.locator(".wfnb-tip")
    tip.wait_for(state="visible", timeout=10_000)
    said = tip.inner_text()
    assert "draft → approved" in said
    assert re.search(r"taken [\d,]+ times · median \d", said), said
    assert "use cases: " in said
    assert "requester types: " in said
    _shot(page, root, f"{prefix}-edge")
    page.mouse.move(1, 1)
    # overlays, toggled in place
    for overlay, words in (
        ("heat", "history heat"),
        ("deviations", "deviations"),
        ("requester", "alone can trigger"),
        ("diff", "added"),
        ("none", "every declared edge"),
    ):
        root.locator(f"button.wfnb-overlay[data-overlay='{overlay}']").click()
        page.wait_for_function(
            f"() => document.querySelector('.wfnb-explorer .wfnb-note')?.textContent"
            f".includes({words!r})",
            timeout=120_000,
        )
        assert root.get_attribute("data-overlay") == overlay
        assert root.locator(".wfnb-message").inner_text() == ""
        assert root.locator("g.wfnb-status").count() >= 4
        if overlay == "diff":  # the README's pair: approve_cancel was added in between
            root.locator("input.wfnb-rev-old").fill(OLD_REV)
            root.locator("button.wfnb-compare").click()
            page.wait_for_function(
                "() => document.querySelector('.wfnb-explorer .wfnb-note')?.textContent"
                ".includes('1 added, 0 removed, 0 changed')",
                timeout=120_000,
            )
            added = root.locator("g.wfnb-diff-added")
            assert added.count() == 1
            assert added.get_attribute("data-edge") == "approved\u2192cancelled"
        _shot(page, root, f"{prefix}-overlay-{overlay}")
    # one tenant
    tenants = root.locator("select.wfnb-tenant option")
    if tenants.count() > 1:
        value = tenants.nth(1).get_attribute("value")
        root.locator("select.wfnb-tenant").select_option(value)
        page.wait_for_function(
            "() => document.querySelector('.wfnb-explorer select.wfnb-tenant')?.value !== ''"
        )
        root.locator(f"g.wfnb-status[data-status='{status}']").first.click()
        page.wait_for_timeout(500)
        title.wait_for(timeout=60_000)
        assert "entities now" in title.inner_text()
