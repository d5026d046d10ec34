"""The explorer widget in JupyterLab (headless Chromium): pan, zoom, click a status and an
entity, hover an edge, toggle each overlay; screenshots under test-artifacts/explorer-lab-*."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    FLAGS,
    LabServer,
    lab_server,
    wait_for_a_connected_idle_kernel,
)
from tests.browser.explorer_steps import drive
from tests.conftest import WORKFLOWS
from wfnb.simulation.demo import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    with lab_server(tmp_path_factory.mktemp("lab")) as server:
        db = server.notebooks / "explorer.db"
        build_demo(f"sqlite:///{db}", users=60, months=3, progress=False)
        cells = [
            "%load_ext wfnb",
            f"wfs = %wfnb load {WORKFLOWS}\n%wfnb connect sqlite:///explorer.db",
            "%wfnb explore invoice",
        ]
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(c) for c in cells],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        )
        nbformat.write(nb, server.notebooks / "explorer.ipynb")
        yield server


def busiest(db: Path) -> tuple[str, int]:
    """The invoice status holding the most entities, and how many (SQL's count)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT status, count(*) FROM invoices GROUP BY status ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    return str(row[0]), int(row[1])


def test_the_explorer_answers_clicks_in_jupyterlab(lab: LabServer, chromium: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(lab.alone("explorer.ipynb"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        wait_for_a_connected_idle_kernel(lab, "explorer.ipynb")
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        try:
            drive(page, "lab", *busiest(lab.notebooks / "explorer.db"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "explorer-lab-failed.png"))
            raise
        finally:
            browser.close()
