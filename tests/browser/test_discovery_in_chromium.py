"""A discovered graph over its config, opened in headless Chromium: the drawing is there,
its labels say counts and durations in days and hours, no ``nan``/``None``, a legend, and a
screenshot is kept under ``test-artifacts/discovery.png`` for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_report_in_chromium import console_lines, run
from tests.conftest import WORKFLOWS
from wfnb import discover
from wfnb.simulation.demo import build_demo
from wfnb.validation import load_workflows

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("discovery")
    url = f"sqlite:///{folder / 'demo.db'}"
    build_demo(url, users=60, months=3, progress=False)
    drawn = discover(url, workflow="invoice").diagram(load_workflows(WORKFLOWS)["invoice"])
    target = folder / "discovery.html"
    target.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{drawn.html()}</body>"
        "</html>",
        encoding="utf-8",
    )
    return target


def test_the_overlay_reads_in_chromium(chromium: Path, page: Path, tmp_path: Path) -> None:
    done = run(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    dom = done.stdout
    assert dom.count("<svg") == 1
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", dom)
    timed = [t for t in labels if re.search(r"\d times? · median ", t)]
    assert timed
    assert all(re.search(r"\d+ (d|h|min|s|ms)\b", t) for t in timed)
    for word in ("nan", "None", "NaT", "days"):
        assert not any(word in t for t in labels), word
    for key in ("legend", "taken but not allowed", "allowed but never taken"):
        assert any(key in t for t in labels), key
    assert console_lines(done.stderr) == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "discovery.png"
    shot.unlink(missing_ok=True)
    run(
        chromium,
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1400,900",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
