"""The reviewers' report opened in a real headless Chromium (Debian's ``/usr/bin/chromium``).

Chromium's own flags drive it: ``--dump-dom`` gives the DOM after load, ``--screenshot``
a picture (kept under ``test-artifacts/``), and ``--enable-logging=stderr`` writes every
console message to stderr as a ``CONSOLE`` line. The report's only script is the
diagrams' pan and zoom, which logs nothing, so any console line is an error (a blocked
resource, a parse problem). Playwright (on the same Chromium) measures the page at
1,400 px: no horizontal overflow, every diagram label at least 11 px, large diagrams
panned inside their box rather than scrolled. Without Chromium the tests skip, except
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
            before = boxes[-1]["scrollLeft"]
            view = tab.query_selector_all(".wfnb-view")[-1]
            view.scroll_into_view_if_needed()
            box = view.bounding_box()
            assert box is not None
            tab.mouse.move(box["x"] + 100, box["y"] + 200)
            tab.mouse.down()
            tab.mouse.move(box["x"] + 300, box["y"] + 200, steps=5)
            tab.mouse.up()
            after = tab.evaluate(
                "Array.from(document.querySelectorAll('.wfnb-view')).pop().scrollLeft"
            )
        finally:
            browser.close()
    assert overflow == 0, "the page scrolls sideways at 1,400 px"
    assert len(boxes) == len(load_workflows(WORKFLOWS))
    for b in boxes:
        assert b["smallest_label_px"] >= 11, b
        assert b["overflow"] == "hidden", b  # panned by dragging: no scrollbar on a diagram
    wide = [b for b in boxes if b["drawing"] > b["view"]]
    assert wide, "user_registration is wider than the column at a legible size"
    assert before >= 200  # opened on the initial status, which sits right of the left edge
    assert after == before - 200  # dragging right pans the widest diagram to its left
    assert errors == []


MEASURE = """() => Array.from(document.querySelectorAll('.wfnb-diagram')).map(box => {
  const view = box.querySelector('.wfnb-view'), svg = box.querySelector('svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = Array.from(svg.querySelectorAll('text')).map(
      t => parseFloat(t.getAttribute('font-size')) * scale);
  return {view: view.clientWidth, drawing: svg.getBoundingClientRect().width,
          overflow: getComputedStyle(view).overflowX, scrollLeft: view.scrollLeft,
          smallest_label_px: Math.min(...sizes)};
})"""


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
