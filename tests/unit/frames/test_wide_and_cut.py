"""Wide tables scroll in their own box, cut cells hover their whole text, messages wrap.

The notebook's plain pandas frames (a crosstab, a slice) after ``%load_ext wfnb``, and the
failure log's ``error_message`` (a use case by its function name, the path on hover).
"""

from __future__ import annotations

import html

import pandas as pd

from wfnb.frames.display import Frame, cell_html, html_cells, message_html, pandas_html

MESSAGE = (
    "use case 'wfnb.examples.energy.datahub:register_user_at_hub' failed: hub_refused: "
    "the data hub refused the registration"
)
PENDING = "table says active, last history row says pending_hub_registration"


def test_a_plain_frame_scrolls_in_its_own_box() -> None:
    wide = pd.DataFrame({f"a_rather_long_step_key_{i}": [i] for i in range(30)})
    out = pandas_html(wide)
    assert out.startswith("<div class='wfnb-frame' style='overflow-x:auto")
    assert "a_rather_long_step_key_29" in out  # every column is there, none dropped


def test_a_cut_cell_ends_with_an_ellipsis_and_hovers_its_whole_text() -> None:
    frame = pd.DataFrame({"workflow": ["user_registration"], "detail": [PENDING]})
    with pd.option_context("display.max_colwidth", 50):
        out = pandas_html(frame)
    assert f"title='{html.escape(PENDING)}'" in out
    assert f"{PENDING[:49]}…</span>" in out
    assert "pendi..." not in out  # pandas' silent cut is gone


def test_a_plain_frame_escapes_its_text_and_labels() -> None:
    frame = pd.DataFrame({"<b>x</b>": ["<script>"]}, index=pd.Index(["a<b"], name="<i>"))
    out = pandas_html(frame)
    assert "<script>" not in out
    assert "<b>x</b>" not in out
    assert "&lt;script&gt;" in out
    assert "a&lt;b" in out


def test_a_crosstab_keeps_its_labels_and_totals() -> None:
    users = pd.Series(["admin:alice", "admin:bob", "admin:alice"], name="user_id")
    steps = pd.Series(["approve", "reject", "approve"], name="step_key")
    out = pandas_html(pd.crosstab(users, steps, margins=True, margins_name="total"))
    for word in ("user_id", "step_key", "admin:alice", "total", "approve"):
        assert word in out


def test_a_wfnb_frame_keeps_its_own_display() -> None:
    frame = Frame(pd.DataFrame({"workflow": ["invoice"]}))
    assert pandas_html(frame) == frame._repr_html_()


def test_an_error_message_names_the_use_case_by_function_and_hovers_the_path() -> None:
    out = message_html(MESSAGE)
    shown = out.split(">", 1)[1]
    assert "use case 'register_user_at_hub' failed: hub_refused" in html.unescape(shown)
    assert "wfnb.examples.energy.datahub" not in shown
    assert html.escape(MESSAGE) in out  # the whole message on hover
    assert "white-space:normal" in out  # it wraps
    assert cell_html(MESSAGE, "error_message") == out


def test_the_failure_cells_carry_the_wrapping_message() -> None:
    frame = pd.DataFrame({"workflow": ["user_registration"], "error_message": [MESSAGE]})
    (cell,) = html_cells(frame)["error_message"]
    assert cell == message_html(MESSAGE)
