"""A frame's display in headless Chromium, with no network: DataTables pages it, and what a
person reads has no nan/None/NaT. Screenshots land in test-artifacts/ for review."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.browser.conftest import ARTIFACTS, FLAGS
from wfnb.frames import pager
from wfnb.frames.display import Frame

pytestmark = pytest.mark.browser
UNREADABLE = re.compile(r"\bnan\b|\bNaN\b|\bNaT\b|\bNone\b|<NA>")


def _history(rows: int) -> Frame:
    at = pd.Timestamp(datetime(2026, 10, 1, tzinfo=UTC))
    frame = pd.DataFrame(
        {
            "id": range(rows, 0, -1),
            "workflow": "invoice",
            "entity_id": [f"inv_{i:06d}" for i in range(rows)],
            "kind": "initiated",
            "from_status": [None if i % 3 == 0 else "draft" for i in range(rows)],
            "to_status": ["draft" if i % 3 == 0 else "approved" for i in range(rows)],
            "user_id": [None if i % 2 else "adm-1" for i in range(rows)],
            "config_hash": "0123456789abcdef" * 4,
            "metadata": [{} if i % 2 else {"reason": "late"} for i in range(rows)],
            "duration_ms": [float("nan") if i % 4 == 0 else 12.5 * i for i in range(rows)],
            "changed_at": [at - pd.Timedelta(hours=i) for i in range(rows)],
        }
    )
    out = Frame(frame)
    out.attrs.update(wfnb_total=8560, wfnb_returned=rows)
    return out


def test_a_cut_history_pages_offline_and_reads_as_words(chromium: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    pager._STATE["bundled"] = False  # this page is a fresh "kernel": it carries the bundle
    frame = _history(40)
    page_file = tmp_path / "table.html"
    page_file.write_text(
        f"<!doctype html><meta charset='utf-8'><body>{frame._repr_html_()}</body>",
        encoding="utf-8",
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        outside: list[str] = []
        page.on(
            "request",
            lambda r: (
                outside.append(r.url) if not r.url.startswith(("file:", "blob:", "data:")) else None
            ),
        )
        page.goto(page_file.as_uri())
        page.wait_for_selector("table.dataTable tbody tr", timeout=30_000)
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "frame-display.png"), full_page=True)
        page.click("button.dt-paging-button:has-text('2')")
        second = page.inner_text("table.dataTable tbody")
        browser.close()
    assert outside == []  # offline: nothing fetched
    assert "40 of 8,560 rows" in text
    assert "Showing 1 to 10 of 40 entries" in text
    assert "created → draft" in text
    assert "—" in text
    assert UNREADABLE.search(text) is None, UNREADABLE.search(text)
    assert "0123456789ab" in text
    assert "0123456789abcdef0123" not in text  # 12 characters, the rest on hover
    assert "inv_000010" in second


def test_without_the_bundle_a_table_keeps_its_readable_preview(
    chromium: Path, tmp_path: Path
) -> None:
    """The bundle's output cleared from a saved notebook: rows stay readable, no spinner."""
    from playwright.sync_api import sync_playwright

    pager._STATE["bundled"] = True  # as if an earlier (now cleared) output carried it
    page_file = tmp_path / "alone.html"
    page_file.write_text(
        f"<!doctype html><meta charset='utf-8'><body>{_history(40)._repr_html_()}</body>",
        encoding="utf-8",
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(page_file.as_uri())
        page.wait_for_timeout(1500)
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "frame-display-no-bundle.png"), full_page=True)
        browser.close()
    assert "Loading ITables" not in text
    assert "inv_000000" in text
    assert "created → draft" in text
    assert UNREADABLE.search(text) is None


def _analyst_frames() -> tuple[pd.DataFrame, pd.DataFrame, Frame]:
    """Notebook 01's crosstab (wide), its deviations slice (long text), a failure log."""
    steps = [
        "approve", "close_after_hub_rejection", "reactivate", "reject", "request_more_info",
        "resubmit_to_hub", "suspend", "upload_documents_for_review", "verify_email_again",
        "confirm_hub_registration", "abandon_registration",
    ]  # fmt: skip
    users = pd.Series(
        [f"admin:{n}" for n in ("alice", "bob", "carol", "dave")] * 11, name="user_id"
    )
    keys = pd.Series([steps[i % len(steps)] for i in range(44)], name="step_key")
    crosstab = pd.crosstab(users, keys, margins=True, margins_name="total")
    long = "table says active, last history row says pending_hub_registration"
    slice_ = pd.DataFrame(
        {"workflow": ["invoice", "user_registration"], "entity_id": ["inv_1", "usr_2"],
         "detail": ["table says paid, last history row says overdue", long]}
    )  # fmt: skip
    message = (
        "use case 'wfnb.examples.energy.datahub:register_user_at_hub' failed: hub_refused: "
        "the data hub refused the registration: the supply point is registered elsewhere"
    )
    failures = Frame(
        pd.DataFrame(
            {
                "workflow": ["user_registration"],
                "entity_id": ["usr_2"],
                "status": ["hub_registration_failed"],
                "error_code": ["hub_refused"],
                "error_message": [message],
            }
        )
    )
    return crosstab, slice_, failures


def test_wide_frames_scroll_in_their_box_and_cut_cells_hover(
    chromium: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from wfnb.frames.display import pandas_html

    crosstab, slice_, failures = _analyst_frames()
    with pd.option_context("display.max_colwidth", 50):
        body = (
            f"<div id='wide'>{pandas_html(crosstab)}</div>"
            f"<div id='cut'>{pandas_html(slice_)}</div>"
            f"<div id='failures'>{failures._repr_html_()}</div>"
        )
    page_file = tmp_path / "analyst.html"
    page_file.write_text(  # an output area as narrow as a notebook's, clipping what spills
        "<!doctype html><meta charset='utf-8'><body style='margin:0'>"
        f"<div style='width:700px;overflow:hidden;font-family:sans-serif'>{body}</div></body>",
        encoding="utf-8",
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 760, "height": 700})
        page.goto(page_file.as_uri())
        page.locator("#wide").screenshot(path=str(ARTIFACTS / "wide-crosstab.png"))
        page.locator("#cut").screenshot(path=str(ARTIFACTS / "cut-cells.png"))
        page.locator("#failures").screenshot(path=str(ARTIFACTS / "failure-messages.png"))
        box = page.eval_on_selector(
            "#wide .wfnb-frame",
            "b => [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right]",
        )
        reached = page.eval_on_selector(
            "#wide .wfnb-frame",
            "b => { b.scrollLeft = b.scrollWidth; const ths = b.querySelectorAll('thead th');"
            " const last = ths[ths.length - 1].getBoundingClientRect();"
            " return last.right <= b.getBoundingClientRect().right + 1; }",
        )
        titles = page.eval_on_selector_all("#cut span[title]", "s => s.map(x => x.title)")
        cut_text = page.inner_text("#cut")
        message = page.eval_on_selector(
            "#failures span[title]", "s => [s.title, s.innerText, s.getBoundingClientRect().height]"
        )
        browser.close()
    scroll_width, client_width, right = box
    assert scroll_width > client_width  # wider than the output: it scrolls, inside its box
    assert right <= 700  # the box stays inside the output area, nothing is cut by it
    assert reached  # the last column can be scrolled into view
    assert titles == ["table says active, last history row says pending_hub_registration"]
    assert "pending_…" in cut_text
    full, shown, height = message
    assert full.startswith("use case 'wfnb.examples.energy.datahub:register_user_at_hub'")
    assert shown.startswith("use case 'register_user_at_hub' failed")
    assert height > 30  # the message wraps onto several lines
