"""``wfnb dashboard`` in headless Chromium: the explorer with no code cells, behind its token,
never writing to the database (checksummed around the whole browsing session)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, FLAGS, free_port
from tests.browser.explorer_steps import drive
from tests.browser.test_explorer_in_jupyterlab import busiest
from tests.conftest import WORKFLOWS
from wfnb.simulation.demo import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]
TOKEN = "t0k3n-for-the-test"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _status(url: str) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:  # not listening yet
        return 0


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("dashboard")
    db = folder / "demo.db"
    build_demo(f"sqlite:///{db}", users=60, months=3, progress=False)
    port = free_port()
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_RUNTIME_DIR": str(folder / "rt")}
    cmd = [
        sys.executable, "-m", "wfnb", "dashboard", str(WORKFLOWS), "--db", f"sqlite:///{db}",
        "--port", str(port), "--token", TOKEN, "--workflow", "invoice",
    ]  # fmt: skip
    log = (folder / "voila.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while _status(f"{base}/?token={TOKEN}") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the dashboard did not start:\n" + (folder / "voila.log").read_text())
            time.sleep(0.5)
        yield base, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_without_its_token_the_dashboard_refuses(dashboard: tuple[str, Path]) -> None:
    base, _ = dashboard
    assert _status(f"{base}/") in {302, 401, 403}
    assert _status(f"{base}/?token=wrong") in {302, 401, 403}
    assert _status(f"{base}/api/kernels") in {302, 401, 403}
    assert _status(f"{base}/?token={TOKEN}") == 200


def test_the_dashboard_answers_clicks_and_never_writes(
    dashboard: tuple[str, Path], chromium: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, db = dashboard
    before = _sha(db)
    status, count = busiest(db)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{base}/?token={TOKEN}")
        try:
            drive(page, "dashboard", status, count)
            assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
            page.screenshot(path=str(ARTIFACTS / "explorer-dashboard-page.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "explorer-dashboard-failed.png"))
            raise
        finally:
            browser.close()
    assert _sha(db) == before
