"""JupyterLab in headless Chromium: open 00_tour, run every cell, see a diagram and a widget.

Starts a JupyterLab server on a free loopback port over a copy of notebooks/, drives Debian's
Chromium with Playwright (no browser download: ``executable_path``), and saves a screenshot
under test-artifacts/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, FLAGS
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("lab")
    work = root / "notebooks"
    shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns("src", "*.html"))
    port, token = _free_port(), secrets.token_hex(12)
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_DATA_DIR": str(root / "data"),
    }
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--notebook-dir={work}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text())
                time.sleep(0.5)
        yield f"{base}/lab/tree/00_tour.ipynb?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_for_a_connected_idle_kernel(lab_url: str, seconds: float = 240) -> None:
    """Run All before the page's kernel is connected is silently dropped: wait for it."""
    base, _, query = lab_url.partition("/lab/")
    token = query.rsplit("token=", 1)[1]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as resp:
            sessions = json.load(resp)
        kernels = [s["kernel"] for s in sessions if s.get("kernel")]
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            time.sleep(1)  # let the page's kernel connection settle
            return
        time.sleep(0.5)
    pytest.fail(f"no connected idle kernel after {seconds}s: {kernels}")


def test_the_tour_runs_in_jupyterlab_and_shows_the_diagram_and_a_widget(
    lab: str, chromium: Path
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(lab)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        _wait_for_a_connected_idle_kernel(lab)
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
