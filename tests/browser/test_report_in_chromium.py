"""The reviewers' report opened in a real headless Chromium (Debian's ``/usr/bin/chromium``).

Chromium's own flags drive it: ``--dump-dom`` gives the DOM after load, ``--screenshot``
a picture (kept under ``test-artifacts/``), and ``--enable-logging=stderr`` writes every
console message to stderr as a ``CONSOLE`` line. The report has no script, so any
console line is an error (a blocked resource, a parse problem). Without Chromium the
tests skip, except under CI, where they fail.
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
