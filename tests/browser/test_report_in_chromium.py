"""The reviewers' report opened in a real headless Chromium (Debian's ``/usr/bin/chromium``).

Chromium's own flags drive it: ``--dump-dom`` gives the DOM after load, ``--screenshot``
a picture (kept under ``test-artifacts/``), and ``--enable-logging=stderr`` writes every
console message to stderr as a ``CONSOLE`` line. The report's only script is the
diagrams' pan and zoom, which logs nothing, so any console line is an error (a blocked
resource, a parse problem). Playwright (on the same Chromium) measures the page at
1,400 px: no horizontal overflow, every diagram label at least 11 px, large diagrams
opened on their top left (title in view) in a box with scrollbars that also pans by
dragging; "fit" shows each whole drawing. Without Chromium the tests skip, except
under CI, where they fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, FLAGS
from tests.conftest import WORKFLOWS
from wfnb.analysis.report import report
from wfnb.validation import load_workflows

pytestmark = pytest.mark.browser

REPORT_FLAGS = ["--headless", *FLAGS, "--enable-logging=stderr", "--v=0"]


def run(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run with a fresh profile folder."""
    profile.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(chromium), *REPORT_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    return report(load_workflows(WORKFLOWS), folder / "report.html")


def test_report_renders_diagrams_and_tables_without_console_errors(
    chromium: Path, page: Path, tmp_path: Path
) -> None:
    done = run(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    dom = done.stdout
    assert dom.count("<svg") == len(load_workflows(WORKFLOWS))
    assert 'class="node"' in dom
    assert 'class="edge"' in dom
    assert dom.count("<table") >= 20
    assert console_lines(done.stderr) == []


def test_report_screenshot_is_saved(chromium: Path, page: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    done = run(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1400,2400",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    assert console_lines(done.stderr) == []


def test_console_errors_are_seen(chromium: Path, tmp_path: Path) -> None:
    """The check above can fail: a page that logs an error shows a CONSOLE line."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('planted-error')</script>")
    done = run(chromium, tmp_path / "profile", "--dump-dom", bad.as_uri())
    assert any("planted-error" in line for line in console_lines(done.stderr))


def test_report_at_1400_px_keeps_labels_legible_and_pans_large_diagrams(
    chromium: Path, page: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            tab.on("console", lambda m: errors.append(m.text))
            tab.goto(page.as_uri())
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            boxes = tab.evaluate(MEASURE)
            for i, element in enumerate(tab.query_selector_all(".wfnb-diagram")):
                element.screenshot(path=str(ARTIFACTS / f"report-diagram-{i}.png"))
            tab.screenshot(path=str(ARTIFACTS / "report-1400.png"), full_page=True)
            widest = max(range(len(boxes)), key=lambda i: boxes[i]["drawing"])
            view = tab.query_selector_all(".wfnb-view")[widest]
            tab.evaluate(f"document.querySelectorAll('.wfnb-view')[{widest}].scrollLeft = 300")
            view.scroll_into_view_if_needed()
            box = view.bounding_box()
            assert box is not None
            tab.mouse.move(box["x"] + 100, box["y"] + 200)
            tab.mouse.down()
            tab.mouse.move(box["x"] + 300, box["y"] + 200, steps=5)
            tab.mouse.up()
            after = tab.evaluate(f"document.querySelectorAll('.wfnb-view')[{widest}].scrollLeft")
        finally:
            browser.close()
    assert overflow == 0, "the page scrolls sideways at 1,400 px"
    assert len(boxes) == len(load_workflows(WORKFLOWS))
    for b in boxes:
        assert b["smallest_label_px"] >= 11, b
    wide = [b for b in boxes if b["drawing"] > b["view"]]
    assert wide, "user_registration is wider than the column at a legible size"
    assert after == 100  # dragging right by 200 px pans the widest diagram to its left
    assert errors == []


MEASURE = """() => Array.from(document.querySelectorAll('.wfnb-diagram')).map(box => {
  const view = box.querySelector('.wfnb-view'), svg = box.querySelector('svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = Array.from(svg.querySelectorAll('text')).map(
      t => parseFloat(t.getAttribute('font-size')) * scale);
  const seen = view.getBoundingClientRect(), s = getComputedStyle(view);
  const left = seen.left + view.clientLeft, top = seen.top + view.clientTop;
  const inside = r => r.left >= left - 0.5 && r.right <= left + view.clientWidth + 0.5
      && r.top >= top - 0.5 && r.bottom <= top + view.clientHeight + 0.5;
  const title = svg.querySelector('g.graph > text');
  return {view: view.clientWidth, drawing: svg.getBoundingClientRect().width,
          scroll_width: view.scrollWidth, scroll_height: view.scrollHeight,
          view_height: view.clientHeight, overflow_x: s.overflowX, overflow_y: s.overflowY,
          scrollLeft: view.scrollLeft, title: title ? title.textContent : null,
          title_visible: title ? inside(title.getBoundingClientRect()) : false,
          svg_visible: inside(svg.getBoundingClientRect()),
          smallest_label_px: Math.min(...sizes)};
})"""


@pytest.mark.parametrize("width", [1400, 968])
def test_each_diagram_opens_with_its_title_in_view_scrolls_and_fits(
    chromium: Path, page: Path, width: int
) -> None:
    """QA: user_registration opened panned ("stration"), cut with no scrollbar, unfittable."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": width, "height": 900})
            tab.goto(page.as_uri())
            opened = tab.evaluate(MEASURE)
            diagrams = tab.query_selector_all(".wfnb-diagram")
            for i, element in enumerate(diagrams):
                element.scroll_into_view_if_needed()
                element.screenshot(path=str(ARTIFACTS / f"report-{width}-diagram-{i}.png"))
                element.query_selector("button[data-zoom='fit']").click()  # type: ignore[union-attr]
            fitted = tab.evaluate(MEASURE)
            for i, element in enumerate(diagrams):
                element.screenshot(path=str(ARTIFACTS / f"report-{width}-fitted-{i}.png"))
                element.query_selector("button[data-zoom='100']").click()  # type: ignore[union-attr]
            back = tab.evaluate(MEASURE)
        finally:
            browser.close()
    assert len(opened) == len(load_workflows(WORKFLOWS))
    assert any(b["scroll_width"] > b["view"] for b in opened), "nothing needs panning?"
    for b in opened:
        assert b["title"], b
        assert b["title_visible"], b
        if b["scroll_width"] > b["view"] or b["scroll_height"] > b["view_height"]:
            # the script pans by dragging (tested above) instead of a scrollbar over the drawing
            assert (b["overflow_x"], b["overflow_y"]) == ("hidden", "hidden"), b
        assert b["smallest_label_px"] >= 11, b
    for b in fitted:
        assert b["svg_visible"], b
        assert b["scroll_height"] <= b["view_height"] + 8, b  # at most an inline gap
        assert b["scroll_width"] <= b["view"], b
    assert [round(b["drawing"]) for b in back] == [round(b["drawing"]) for b in opened]


def test_no_table_of_the_report_is_wider_than_the_page_at_1400_px(
    chromium: Path, page: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.goto(page.as_uri())
            wide = tab.evaluate(
                "Array.from(document.querySelectorAll('.scroll'))"
                ".filter(d => d.scrollWidth > d.clientWidth).length"
            )
        finally:
            browser.close()
    assert wide == 0


LABELS = """() => Array.from(document.querySelectorAll('.wfnb-diagram svg')).map(svg => {
  const edges = Array.from(svg.querySelectorAll('g.edge'));
  const boxes = edges.map(g => Array.from(g.querySelectorAll('text')).map(
      t => ({b: t.getBBox(), s: t.textContent})));
  const inside = (q, b) => q.x > b.x + 1 && q.x < b.x + b.width - 1
      && q.y > b.y + 2 && q.y < b.y + b.height - 2;
  const crossed = new Set();
  edges.forEach((g, i) => boxes.forEach((texts, j) => {
    if (i === j) { return; }
    texts.forEach(({b, s}) => g.querySelectorAll('path').forEach(p => {
      for (let l = 0; l < p.getTotalLength(); l += 2) {
        if (inside(p.getPointAtLength(l), b)) { crossed.add(s); return; }
      }
    }));
  }));
  const all = boxes.flat(), overlapping = [];
  for (let a = 0; a < all.length; a++) {
    for (let c = a + 1; c < all.length; c++) {
      const x = all[a].b, y = all[c].b;
      if (x.x < y.x + y.width - 1 && y.x < x.x + x.width - 1
          && x.y < y.y + y.height - 2 && y.y < x.y + x.height - 2) {
        overlapping.push(all[a].s + ' / ' + all[c].s);
      }
    }
  }
  const nodes = Array.from(svg.querySelectorAll('g.node')).map(n => n.getBBox());
  const on_node = all.filter(({b: x}) => nodes.some(y => x.x < y.x + y.width - 1
      && y.x < x.x + x.width - 1 && x.y < y.y + y.height - 2 && y.y < x.y + x.height - 2));
  return {name: svg.querySelector('g.graph > title').textContent,
          crossed: Array.from(crossed), overlapping: overlapping,
          on_node: on_node.map(t => t.s)};
})"""
"""Per diagram: edge labels another edge's line runs through, labels on each other, on a
status."""


@pytest.fixture(scope="module")
def heat_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wfnb.simulation.demo import build_demo

    folder = tmp_path_factory.mktemp("heat-report")
    url = f"sqlite:///{folder / 'demo.db'}"
    build_demo(url, users=60, months=3, progress=False)
    return report(load_workflows(WORKFLOWS), folder / "report.html", db=url)


def test_edge_labels_are_not_drawn_over_each_other_or_crossed_at_the_start(
    chromium: Path, heat_page: Path
) -> None:
    """QA: "close rejected (0)" beside billing_period's initial status was run through by
    the arrows coming back to it (dot draws a loop's label where back edges arrive)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.goto(heat_page.as_uri())
            found = {d["name"]: d for d in tab.evaluate(LABELS)}
            for i, element in enumerate(tab.query_selector_all(".wfnb-diagram")):
                element.screenshot(path=str(ARTIFACTS / f"report-heat-diagram-{i}.png"))
        finally:
            browser.close()
    assert set(found) == set(load_workflows(WORKFLOWS))
    for d in found.values():
        assert d["overlapping"] == [], d
        assert d["on_node"] == [], d
    assert found["billing_period"]["crossed"] == []
    assert found["invoice"]["crossed"] == []
