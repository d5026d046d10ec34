"""JupyterLab in headless Chromium: open 00_tour, run every cell, see a diagram and a widget.

Starts a JupyterLab server (``lab_server``) over a copy of notebooks/, drives Debian's
Chromium with Playwright (no browser download: ``executable_path``), and saves a screenshot
under test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    FLAGS,
    LabServer,
    lab_server,
    wait_for_a_connected_idle_kernel,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with lab_server(tmp_path_factory.mktemp("lab")) as server:
        yield server


def test_the_tour_runs_in_jupyterlab_and_shows_the_diagram_and_a_widget(
    lab: LabServer, chromium: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(lab.url("00_tour.ipynb"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        wait_for_a_connected_idle_kernel(lab, "00_tour.ipynb")
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        try:  # a first run in a fresh venv compiles and caches a lot: be patient
            svg = page.wait_for_selector(".jp-OutputArea-output svg .node", timeout=300_000)
            widget = page.wait_for_selector(
                ".jp-OutputArea-output .widget-dropdown select", timeout=300_000
            )
        except Exception:  # keep what the user would have seen, then fail
            page.screenshot(path=str(ARTIFACTS / "jupyterlab-00_tour-failed.png"))
            raise
        assert svg is not None
        assert widget is not None
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert tracebacks == []
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-00_tour.png"), full_page=True)
        browser.close()
