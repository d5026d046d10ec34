"""Event-log formats: schema validity of exports, foreign logs through a mapping, and a
malformed file as one WF401 line with its position and nothing written."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
import xmlschema

from tests.conftest import WORKFLOWS
from wfnb import frames
from wfnb.eventlog import LogMapping, export_log, import_log
from wfnb.exceptions import EventLogError, WfnbUsageError
from wfnb.simulation.demo import build_demo
from wfnb.spec import Workflow
from wfnb.validation import load_workflows

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fmt') / 'demo.db'}"
    build_demo(url, users=30, months=2, progress=False)
    return url


@pytest.fixture(scope="module")
def invoice() -> Workflow:
    return load_workflows([WORKFLOWS])["invoice"]


@pytest.mark.parametrize("activity", ["status", "step"])
def test_exported_xes_validates_against_the_xes_schema(
    demo: str, tmp_path: Path, activity: str
) -> None:
    schema = xmlschema.XMLSchema(HERE / "xes-ieee-1849-2016.xsd")
    path = tmp_path / "demo.xes"
    report = export_log(demo, path, activity=activity)
    assert report.events == len(frames.history(demo, limit=None)) > 0
    schema.validate(str(path))
    text = path.read_text(encoding="utf-8")
    assert text.count("<event>") == report.events
    assert text.count("<trace>") == report.cases
    broken = tmp_path / "broken.xes"
    broken.write_text(
        text.replace('<int key="wfnb:entity_version" value="1"/>', '<int key="x" value="one"/>', 1)
    )
    assert not schema.is_valid(str(broken))  # the schema does check values


def test_exported_ocel_validates_against_the_ocel2_schema(demo: str, tmp_path: Path) -> None:
    schema = json.loads((HERE / "ocel20-schema.json").read_text(encoding="utf-8"))
    path = tmp_path / "demo.json"
    report = export_log(demo, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
    assert len(document["events"]) == report.events
    assert len(document["objects"]) == report.cases
    tables = {t.entity.table for t in load_workflows([WORKFLOWS]).values()}
    assert {t["name"] for t in document["objectTypes"]} == tables
    ids = {o["id"] for o in document["objects"]}
    assert all(r["objectId"] in ids for e in document["events"] for r in e["relationships"])


def _xes(traces: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'
        '<string key="concept:name" value="foreign"/>\n' + traces + "</log>\n"
    )


def _event(name: str, stamp: str, resource: str = "ann") -> str:
    return (
        f'<event><string key="concept:name" value="{name}"/>'
        f'<date key="time:timestamp" value="{stamp}"/>'
        f'<string key="org:resource" value="{resource}"/></event>\n'
    )


RENAMES = {"Entwurf / ✎ draft": "draft", "Approve & sign ✓": "approved", "Sent out": "sent",
           "Paid in full €": "paid"}  # fmt: skip


def test_a_foreign_xes_loads_through_a_mapping(
    db_url: str, tmp_path: Path, invoice: Workflow
) -> None:
    long_trace = _event("Entwurf / ✎ draft", "2026-03-01T08:00:00+02:00")
    for i in range(1500):  # a very long trace: approved and back to draft, again and again
        long_trace += _event(
            "Approve &amp; sign ✓", f"2026-03-02T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
        )
        long_trace += _event("Entwurf / ✎ draft", f"2026-03-02T{i // 60 % 24:02d}:{i % 60:02d}:00Z")
    traces = (
        '<trace><string key="concept:name" value="inv 1/λ"/>\n'
        + _event("Entwurf / ✎ draft", "2026-03-01T10:00:00+02:00")
        + _event("Approve &amp; sign ✓", "2026-03-01T09:00:00.5Z")
        + _event("Sent out", "2026-03-01T09:00:00.5Z")  # the same moment: file order kept
        + "</trace>\n"
        '<trace><string key="concept:name" value="late-starter"/>\n'  # starts mid-process
        + _event("Sent out", "2026-03-05T12:00:00-05:00")
        + _event("Paid in full €", "2026-03-06T00:00:00")  # no offset: UTC
        + "</trace>\n"
        '<trace><string key="concept:name" value="long"/>\n' + long_trace + "</trace>\n"
    )
    path = tmp_path / "foreign.xes.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(_xes(traces))
    report = import_log(
        path, db_url, workflow=invoice, mapping={"renames": RENAMES, "requester": "admin"}
    )
    assert (report.events, report.cases) == (3 + 2 + 3001, 3)

    rows = frames.history(db_url, entity_id="inv 1/λ", limit=None).sort_values("id")
    assert rows["to_status"].tolist() == ["draft", "approved", "sent"]
    assert rows["from_status"].tolist()[1:] == ["draft", "approved"]
    assert rows["from_status"].isna().tolist()[0]
    assert rows["step_key"].tolist()[1:] == ["approve", "send"]
    assert rows["step_key"].isna().tolist() == [True, False, False]
    assert rows["kind"].tolist() == ["observed", "initiated", "initiated"]
    assert rows["requester_type"].tolist()[1:] == ["admin", "admin"]
    assert rows["user_id"].tolist() == ["ann"] * 3
    assert rows["config_hash"].unique().tolist() == [invoice.config_hash]
    stamps = [t.to_pydatetime() for t in rows["changed_at"]]
    assert stamps == [
        datetime(2026, 3, 1, 8, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=UTC),
    ]
    late = frames.history(db_url, entity_id="late-starter", limit=None).sort_values("id")
    assert [t.to_pydatetime() for t in late["changed_at"]] == [
        datetime(2026, 3, 5, 17, tzinfo=UTC),
        datetime(2026, 3, 6, tzinfo=UTC),
    ]
    assert late["step_key"].tolist()[1:] == ["record_payment"]
    entities = frames.entities(db_url, invoice).set_index("id")["status"].astype(str).to_dict()
    assert entities == {"inv 1/λ": "sent", "late-starter": "paid", "long": "draft"}


def test_steps_as_activities_and_tables_with_their_own_columns(
    db_url: str, tmp_path: Path, invoice: Workflow
) -> None:
    path = tmp_path / "steps.csv"
    path.write_text(
        "ticket,what,when,who\n"
        "A-1,approve,2026-01-01 10:00:00+01:00,bob\n"
        "A-1,send,2026-01-01T10:05:00+01:00,bob\n"
        "B/2,send,2026-01-02T00:00:00Z,\n",
        encoding="utf-8",
    )
    mapping = LogMapping(case="ticket", activity="what", activity_is="step", timestamp="when",
                         resource="who")  # fmt: skip
    report = import_log(
        path, db_url, workflow="invoice", wfs=load_workflows([WORKFLOWS]), mapping=mapping
    )
    assert (report.events, report.cases) == (3, 2)
    rows = frames.history(db_url, limit=None).sort_values("id")
    assert rows["entity_id"].tolist() == ["A-1", "A-1", "B/2"]
    assert rows["to_status"].tolist() == ["approved", "sent", "sent"]
    assert rows["step_key"].tolist() == ["approve", "send", "send"]
    assert rows["changed_at"].iloc[0].to_pydatetime() == datetime(2026, 1, 1, 9, tzinfo=UTC)

    parquet = tmp_path / "steps.parquet"
    export_log(db_url, parquet, activity="step")
    again = import_log(parquet, f"sqlite:///{tmp_path / 'again.db'}", workflow=invoice)
    assert again.events == 3
    assert frames.history(f"sqlite:///{tmp_path / 'again.db'}", limit=None).sort_values("id")[
        "step_key"
    ].tolist() == ["approve", "send", "send"]


_ONE = '<trace><string key="concept:name" value="x"/>\n'
_HEAD = "case:concept:name,concept:name,time:timestamp\nx,draft,2026-01-01T00:00:00Z\n"
_OCEL = '{"events": [\n  {"id": "e1", "type": "draft", "time": "2026-01-01T00:00:00Z"},\n  oops\n]}'
MALFORMED = {
    "broken.xes": (_xes(_ONE + "<event>\n</trace>"), "line 6, column 3"),
    "baddate.xes": (_xes(_ONE + _event("draft", "yesterday") + "</trace>"), "line 5, column 50"),
    "nocase.xes": (
        _xes("<trace>\n" + _event("draft", "2026-01-01T00:00:00Z") + "</trace>"),
        "line 5, column 1: no case id",
    ),
    "notxes.xes": ("<html><body/></html>", "line 1, column 1"),
    "wide.csv": (_HEAD + "y,draft,2026-01-01T00:00:00Z,extra\n", "row 2"),
    "badtime.csv": (_HEAD + "x,approved,soon\n", "row 2"),
    "bad.json": (_OCEL, "line 3, column 3"),
    "bad.parquet": ("PAR1 this is not parquet", "row 1"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_file_is_one_coded_line_with_its_position_and_nothing_is_written(
    db_url: str, tmp_path: Path, invoice: Workflow, name: str
) -> None:
    text, position = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EventLogError) as caught:
        import_log(path, db_url, workflow=invoice)
    line = caught.value.one_line()
    assert line.startswith(f"WF401: {name}: {position}"), line
    assert "\n" not in line
    engine = sa.create_engine(db_url)
    try:
        tables = sa.inspect(engine).get_table_names()
        assert "workflow_history" not in tables  # the fresh database stays empty
        assert invoice.entity.table not in tables
    finally:
        engine.dispose()


def test_bad_arguments_are_usage_errors(tmp_path: Path, invoice: Workflow) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(WfnbUsageError, match="cannot tell the format"):
        export_log(db, tmp_path / "log.txt")
    with pytest.raises(WfnbUsageError, match="activity must be"):
        export_log(db, tmp_path / "log.xes", activity="verb")
    with pytest.raises(WfnbUsageError, match="no such file"):
        import_log(tmp_path / "missing.xes", db, workflow=invoice)
    with pytest.raises(WfnbUsageError, match="unknown key 'cse'"):
        LogMapping.of({"cse": "id"})
    (tmp_path / "a.xes").write_text(_xes(""), encoding="utf-8")
    with pytest.raises(WfnbUsageError, match="unknown workflow 'nope'"):
        import_log(tmp_path / "a.xes", db, workflow="nope")
    assert not (tmp_path / "log.xes").exists()


def test_export_windows_filter_in_sql(db_url: str, tmp_path: Path) -> None:
    wf = load_workflows([WORKFLOWS])["invoice"]
    path = tmp_path / "in.csv"
    path.write_text(
        "case:concept:name,concept:name,time:timestamp\n"
        "a,draft,2026-01-01T10:00:00+02:00\n"
        "a,approved,2026-01-02T10:00:00Z\n"
        "b,draft,2026-01-03T10:00:00Z\n",
        encoding="utf-8",
    )
    import_log(path, db_url, workflow=wf)
    out = tmp_path / "out.csv"
    since = datetime(2026, 1, 1, 9)  # naive: UTC, so a's 08:00 UTC row is left out
    report = export_log(db_url, out, since=since, until=datetime(2026, 1, 3, tzinfo=UTC))
    assert (report.cases, report.events) == (1, 1)
    assert "2026-01-02T10:00:00.000000+00:00" in out.read_text(encoding="utf-8")


def test_case_ids_an_integer_id_column_cannot_hold_are_refused_whole(
    db_url: str, tmp_path: Path
) -> None:
    from wfnb import testing
    from wfnb.exceptions import StoreError

    wf = testing.make_workflow()
    engine = sa.create_engine(db_url)
    testing.create_entity_table(engine, wf, id_type=sa.Integer())
    path = tmp_path / "ids.csv"
    path.write_text(
        "case:concept:name,concept:name,time:timestamp\n"
        f"7,{wf.initial_status},2026-01-01T00:00:00Z\n"
        f"x7,{wf.initial_status},2026-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    with pytest.raises(StoreError, match="integer ids; case 'x7'"):
        import_log(path, db_url, workflow=wf)
    try:
        assert "workflow_history" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
