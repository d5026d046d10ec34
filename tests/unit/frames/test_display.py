"""A frame's notebook display reads as words: no nan/None/NaT, plain durations, short hashes,
``created → draft``; the frame itself keeps its full types."""

from __future__ import annotations

import html
import re
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from wfnb import frames, testing
from wfnb.engine import Engine
from wfnb.frames import display
from wfnb.frames.display import Frame, cell_text, display_frame, duration_text, frame_html

START = datetime(2026, 1, 1, tzinfo=UTC)
UNREADABLE = re.compile(r"\bnan\b|\bNaN\b|\bNaT\b|\bNone\b|<NA>|Timedelta\(|\d+ days \d\d:")


def assert_readable(html: str) -> None:
    """What a person must never be shown."""
    found = UNREADABLE.search(html)
    assert found is None, html[max(0, found.start() - 80) : found.end() + 80]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=19, hours=17, minutes=3), "19 d 17 h"),
        (pd.Timedelta(hours=3, minutes=5, seconds=9), "3 h 5 min"),
        (pd.Timedelta(minutes=4, seconds=10), "4 min 10 s"),
        (pd.Timedelta(seconds=12), "12 s"),
        (pd.Timedelta(milliseconds=340), "340 ms"),
        (pd.Timedelta(days=2), "2 d"),
        (pd.NaT, "—"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_durations_read_in_days_and_hours(value: object, text: str) -> None:
    assert duration_text(value) == text  # type: ignore[arg-type]


def test_cells_read_as_words() -> None:
    assert cell_text(None, "from_status") == "created"
    assert cell_text(None, "error_code") == "—"
    assert cell_text(pd.NA) == "—"
    assert cell_text({}) == "—"
    assert cell_text(1500.0, "duration_ms") == "1.5 s"
    assert cell_text(41916, "id") == "41916"
    assert cell_text(41916, "count") == "41,916"
    assert cell_text(0.4328, "share") == "43.3%"
    assert cell_text(("draft", "approved"), "trace") == "draft → approved"
    stamp = pd.Timestamp("2026-10-01 14:03:12.5", tz="UTC")
    assert cell_text(stamp) == "2026-10-01 14:03:12"


@pytest.fixture
def history(sqlite_url: str) -> Frame:
    """A real history: creations (no from_status), steps, a rejection, no user ids."""
    wf = testing.make_workflow()
    engine = Engine([wf], sqlite_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(3):
        testing.insert_entity(engine.db, wf, f"t{i}")
        engine.created("ticket", f"t{i}")
        engine.execute_step("ticket", f"t{i}", "user", data={"validation": "reject"} if i else {})
    engine.dispose()
    h = frames.history(sqlite_url, progress=False)
    assert h["from_status"].isna().any()  # what used to read "None → submitted"
    return h


def test_the_history_display_reads_created_arrow_and_dashes(history: Frame) -> None:
    assert isinstance(history, pd.DataFrame)
    assert isinstance(history["changed_at"].dtype, pd.DatetimeTZDtype)  # full types for code
    assert history["user_id"].isna().all()
    html = history._repr_html_()
    assert_readable(html)
    first = history.iloc[-1]  # the oldest row: the creation
    assert f"created → {first['to_status']}" in html.replace("\\u2192", "→")
    assert "—" in html.replace("\\u2014", "—")


def test_a_hash_shows_twelve_characters_and_the_whole_on_hover(history: Frame) -> None:
    full = "0123456789abcdef" * 4
    frame = Frame(history.assign(config_hash=full))
    cells = display.html_cells(frame)
    assert set(cells["config_hash"]) == {f"<span title='{full}'><code>{full[:12]}</code></span>"}
    assert frame["config_hash"].iloc[0] == full  # the column keeps the whole value


def test_durations_in_a_frame_display_read_in_days(sqlite_url: str) -> None:
    frame = Frame(
        pd.DataFrame(
            {
                "status": ["draft", "sent"],
                "mean": [pd.Timedelta(days=19, hours=17), pd.NaT],
                "duration_ms": [12.0, float("nan")],
            }
        )
    )
    html = frame._repr_html_()
    assert_readable(html)
    assert "19 d 17 h" in html
    assert "12 ms" in html


def test_derived_frames_keep_the_readable_display(history: Frame) -> None:
    part = history[history["kind"] == "rejected"]
    assert isinstance(part, Frame)
    assert_readable(part[["changed_at", "from_status", "to_status", "user_id"]]._repr_html_())


def test_the_display_pages_the_first_rows_and_says_so(history: Frame) -> None:
    many = Frame(pd.concat([history] * 40, ignore_index=True))
    html = frame_html(many, limit=30)
    assert f"this table shows the first 30 (all {len(many):,} are in the frame)" in html
    assert "pageLength" in html  # itables' pager
    assert html.count("wfnb_") >= 1


def test_without_itables_the_display_is_a_static_readable_table(
    history: Frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "itables", None)
    monkeypatch.delitem(sys.modules, "wfnb.frames.pager", raising=False)
    html = history._repr_html_()
    assert "<table" in html
    assert "DataTable" not in html
    assert_readable(html)
    assert "created → " in html


def test_an_empty_frame_says_zero_rows(history: Frame) -> None:
    assert "0 rows" in history.head(0)._repr_html_()


def test_display_frame_puts_the_transition_where_from_and_to_were(history: Frame) -> None:
    shown = display_frame(history)
    assert "from_status" not in shown.columns
    assert list(shown.columns[:4]) == ["changed_at", "workflow", "entity_id", "transition"]


def test_long_metadata_shows_its_start_and_the_whole_on_hover() -> None:
    meta = {"request": {"values": {f"k{i}": "v" * 10 for i in range(10)}}}
    cell = display.cell_html(meta, "metadata")
    assert cell.startswith("<span title='{&quot;request&quot;")
    assert cell.endswith("…</span>")
    assert len(html.unescape(re.sub(r"<[^>]+>", "", cell))) <= 80
    assert (
        display.cell_html({"reason": "late"}, "metadata")
        == "{&quot;reason&quot;: &quot;late&quot;}"
    )


def test_a_short_frame_is_a_static_table_without_script(history: Frame) -> None:
    html = history._repr_html_()
    assert "<script" not in html
    assert "<table" in html
    assert "also in the frame: id, entity_table, correlation_id" in html
    assert_readable(html)
    longer = Frame(pd.concat([history] * 10, ignore_index=True))
    assert len(longer) > display.STATIC_ROWS
    assert "<script" in longer._repr_html_()
