"""Out-of-range and deeply nested values in a log are one WF401 line with a position,
the same on both dialects, and nothing is written (no raw OverflowError,
RecursionError or database error)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.eventlog import import_log
from wfnb.exceptions import EventLogError
from wfnb.validation import load_workflows

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0"><trace>'
_CASE = '<string key="concept:name" value="c1"/><event>'
_EVENT = (
    '<string key="concept:name" value="draft"/>'
    '<date key="time:timestamp" value="{stamp}"/>{extra}</event></trace></log>\n'
)
_OURS = '<string key="wfnb:kind" value="observed"/><string key="wfnb:to_status" value="draft"/>'
_DEEP = "[" * 5000 + "]" * 5000


def _xes(stamp: str = "2026-01-01T10:00:00Z", extra: str = "") -> str:
    return _HEAD + _CASE + _EVENT.format(stamp=stamp, extra=extra)


CASES = {
    "bigver": (
        _xes(extra=_OURS + '<int key="wfnb:entity_version" value="99999999999999999999999"/>'),
        "whole number out of range",
    ),
    "nan": (
        _xes(extra=_OURS + '<float key="wfnb:duration_ms" value="NaN"/>'),
        "not a finite number",
    ),
    "year1": (_xes("0001-01-01T00:00:00+14:00"), "0001-01-01T00:00:00+14:00"),
    "year9999": (_xes("9999-12-31T23:59:59-05:00"), "9999-12-31T23:59:59-05:00"),
    "deepmeta": (
        _xes(extra=_OURS + f'<string key="wfnb:metadata" value="{_DEEP}"/>'),
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_values_are_one_wf401_line(db_url: str, tmp_path: Path, name: str) -> None:
    text, why = CASES[name]
    log = tmp_path / f"{name}.xes"
    log.write_text(text)
    wfs = load_workflows([WORKFLOWS])
    with pytest.raises(EventLogError) as caught:
        import_log(log, db_url, workflow="invoice", wfs=wfs)
    assert caught.value.code == "WF401"
    assert str(caught.value).startswith(f"{name}.xes: line 2, column ")
    assert why in str(caught.value)
    db = sa.create_engine(db_url)
    try:
        assert not sa.inspect(db).has_table("workflow_history")  # nothing written
    finally:
        db.dispose()


def test_deep_ocel_is_one_wf401_line(sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "deep.json"
    log.write_text('{"objects":' + _DEEP + "}")
    wfs = load_workflows([WORKFLOWS])
    with pytest.raises(EventLogError, match=r"deep.json: line 1, column 1: JSON nested"):
        import_log(log, sqlite_url, workflow="invoice", wfs=wfs)


def test_export_to_a_missing_folder_is_wf400(sqlite_url: str, tmp_path: Path) -> None:
    from wfnb.eventlog import export_log
    from wfnb.exceptions import WfnbUsageError

    with pytest.raises(WfnbUsageError, match=r"cannot write .*: no folder") as caught:
        export_log(sqlite_url, tmp_path / "nonexist" / "m.xes")
    assert caught.value.code == "WF400"
    assert not (tmp_path / "nonexist").exists()


_OCEL = (
    '{{"objectTypes": [{{"name": "invoices", "attributes": []}}], "objects": '
    '[{{"id": "invoice:o1", "type": "invoices"}}], "events": [{{"id": "e1", "type": "draft", '
    '"time": "2026-01-01T10:00:00Z", "relationships": {rel}}}]}}'
)


@pytest.mark.parametrize(
    ("rel", "why"),
    [
        ('[{"objectId": "missing", "qualifier": "x"}]', "relates to object 'missing'"),
        ("null", "relationships must be a list"),
    ],
)
def test_ocel_events_are_never_dropped_silently(
    sqlite_url: str, tmp_path: Path, rel: str, why: str
) -> None:
    log = tmp_path / "o.json"
    log.write_text(_OCEL.format(rel=rel))
    wfs = load_workflows([WORKFLOWS])
    with pytest.raises(EventLogError, match=f"o.json: event 1: {why}"):
        import_log(log, sqlite_url, workflow="invoice", wfs=wfs)
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # no file created


def test_csv_without_a_case_column_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "noheader.csv"
    log.write_text("c1,draft,2026-01-01T10:00:00Z\nc1,sent,2026-01-02T10:00:00Z\n")
    wfs = load_workflows([WORKFLOWS])
    with pytest.raises(EventLogError, match=r"noheader.csv: header: no column 'case:concept:name'"):
        import_log(log, sqlite_url, workflow="invoice", wfs=wfs)
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # no file created


def test_ocel_bad_time_quotes_the_value_as_written(sqlite_url: str, tmp_path: Path) -> None:
    log = tmp_path / "t.json"
    log.write_text(
        '{"objects": [{"id": "o1", "type": "invoices"}], "events": [{"id": "e1", '
        '"type": "draft", "time": "not a time", "relationships": []}]}'
    )
    wfs = load_workflows([WORKFLOWS])
    with pytest.raises(EventLogError, match=r"t\.json: event 1: .*'not a time'"):
        import_log(log, sqlite_url, workflow="invoice", wfs=wfs)
