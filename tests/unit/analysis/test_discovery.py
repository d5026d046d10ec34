"""Discovery (issue 18.4) on SQLite and PostgreSQL: the directly-follows graph of the demo
equals a hand-written GROUP BY of consecutive history rows per entity, its durations equal
pandas over the same rows, variants equal SQL counts, the skeleton of every demo workflow
validates, and the overlay on a config sorts a hand-made history's edges correctly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from wfnb import discover, frames, skeleton, validate
from wfnb.analysis.discovery import NEVER_TAKEN, NOT_ALLOWED
from wfnb.exceptions import WfnbUsageError
from wfnb.simulation.demo import build_demo
from wfnb.spec import Workflow
from wfnb.store import Store
from wfnb.store import discovery as store_discovery
from wfnb.store.tables import HISTORY

WORKFLOWS = ("invoice", "user_registration", "sharing_group", "billing_period")

# Each history row's predecessor of the same entity, by a correlated subquery (not LAG):
# the reference the store's window functions are checked against.
PAIRS_SQL = """
SELECT prev AS from_status, to_status, count(*) AS n FROM (
  SELECT h.to_status, (
    SELECT p.to_status FROM workflow_history p
    WHERE p.workflow = h.workflow AND p.entity_id = h.entity_id
      AND (p.changed_at < h.changed_at OR (p.changed_at = h.changed_at AND p.id < h.id))
    ORDER BY p.changed_at DESC, p.id DESC LIMIT 1
  ) AS prev
  FROM workflow_history h WHERE h.workflow = :w
) pairs
WHERE prev IS NOT NULL
GROUP BY prev, to_status
"""
ONE_ROW_SQL = """
SELECT to_status, count(*) FROM workflow_history WHERE workflow = :w AND entity_id IN (
  SELECT entity_id FROM workflow_history WHERE workflow = :w GROUP BY entity_id
  HAVING count(*) = 1
) GROUP BY to_status
"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A small demo (40 members, 2 months) on either dialect, built once per module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('disc') / 'demo.db'}"
        build_demo(url, users=40, months=2, progress=False)
        yield url
        return
    admin = sa.create_engine(request.getfixturevalue("pg_database"), isolation_level="AUTOCOMMIT")
    schema = f"disc_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    text = url.render_as_string(hide_password=False)
    build_demo(text, users=40, months=2, progress=False)
    yield text
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _rows(url: str, workflow: str) -> pd.DataFrame:
    """The workflow's history, ordered per entity as discovery orders it."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = pd.read_sql(
                sa.text(
                    "SELECT entity_id, to_status, changed_at, id FROM workflow_history "
                    "WHERE workflow = :w ORDER BY entity_id, changed_at, id"
                ),
                conn,
                params={"w": workflow},
            )
    finally:
        engine.dispose()
    rows["changed_at"] = pd.to_datetime(rows["changed_at"], utc=True, format="ISO8601")
    return rows


def _sql(url: str, text: str, workflow: str) -> dict[tuple[str, ...], int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(text), {"w": workflow}).all()
    finally:
        engine.dispose()
    return {tuple(map(str, r[:-1])): int(r[-1]) for r in found}


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_edges_equal_a_group_by_of_consecutive_rows(demo_url: str, workflow: str) -> None:
    dfg = discover(demo_url, workflow=workflow)
    found = {(r.from_status, r.to_status): int(r.count) for r in dfg.edges.itertuples()}
    assert found == _sql(demo_url, PAIRS_SQL, workflow)
    assert found  # the demo moves every workflow


@pytest.mark.parametrize("workflow", ["invoice", "user_registration"])
def test_durations_and_dwell_equal_pandas_over_the_rows(demo_url: str, workflow: str) -> None:
    rows = _rows(demo_url, workflow)
    by_entity = rows.groupby("entity_id", sort=False)
    rows["from_status"] = by_entity["to_status"].shift()
    rows["took"] = rows["changed_at"] - by_entity["changed_at"].shift()
    moves = rows.dropna(subset=["from_status"])
    expected = moves.groupby(["from_status", "to_status"])["took"]
    dfg = discover(demo_url, workflow=workflow)
    edges = dfg.edges.set_index(["from_status", "to_status"])
    tolerance = pd.Timedelta(milliseconds=2)
    for pair, took in expected:
        seconds = took.dt.total_seconds()
        assert abs(edges.loc[pair, "median"] - pd.Timedelta(seconds=seconds.median())) < tolerance
        p90 = pd.Timedelta(seconds=seconds.quantile(0.9))
        assert abs(edges.loc[pair, "p90"] - p90) < tolerance
    dwell = dfg.dwell.set_index("status")
    stays = moves.groupby("from_status")["took"]
    for status, took in stays:
        assert dwell.loc[status, "count"] == len(took)
        median = pd.Timedelta(seconds=took.dt.total_seconds().median())
        assert abs(dwell.loc[status, "median"] - median) < tolerance
    last = rows.groupby("entity_id")["to_status"].last().value_counts()
    assert dwell["current"][dwell["current"] > 0].to_dict() == last.to_dict()
    assert dfg.entities == rows["entity_id"].nunique()
    assert dfg.events == len(rows)


@pytest.mark.parametrize("workflow", ["invoice", "user_registration"])
def test_variants_equal_sql_and_the_traces(demo_url: str, workflow: str) -> None:
    rows = _rows(demo_url, workflow)
    traces = rows.groupby("entity_id", sort=False)["to_status"].agg(tuple).value_counts()
    found = frames.variants(demo_url, workflow)
    assert dict(zip(found["trace"], found["count"], strict=True)) == traces.to_dict()
    assert found["count"].sum() == rows["entity_id"].nunique()
    assert found["share"].sum() == pytest.approx(1.0)
    alone = {t[0]: n for t, n in zip(found["trace"], found["count"], strict=True) if len(t) == 1}
    assert {(s,): n for s, n in alone.items()} == _sql(demo_url, ONE_ROW_SQL, workflow)
    assert list(found["count"]) == sorted(found["count"], reverse=True)


def test_a_limit_says_how_many_variants_there_are(demo_url: str) -> None:
    whole = frames.variants(demo_url, "invoice")
    cut = frames.variants(demo_url, "invoice", limit=2)
    assert len(cut) == 2
    assert cut.attrs["wfnb_total"] == len(whole) > 2
    assert f"2 of {len(whole):,} variants" in cut._repr_html_()


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_skeleton_of_the_demo_history_validates(demo_url: str, workflow: str) -> None:
    config = skeleton(demo_url, workflow)
    report = validate(config)  # with db=, statuses the table allows but none entered are WF112
    assert report.ok, [p.one_line() for p in report.problems]
    assert config["use_cases"] == "wfnb.placeholders"
    assert all(s["description"].startswith("placeholder:") for s in config["steps"])
    drawn = {(s["status"], s["successful_state"]) for s in config["steps"]}
    drawn |= {(o["from"], o["to"]) for o in config["observed_transitions"]}
    terminal = set(config["terminal_statuses"])
    loops = {(u, v) for u, v in _sql(demo_url, PAIRS_SQL, workflow) if u == v and u in terminal}
    assert drawn | loops == set(_sql(demo_url, PAIRS_SQL, workflow))
    assert all(u not in terminal for u, _ in drawn)


def test_a_config_is_overlaid_edge_by_edge(db_url: str) -> None:
    """A hand-made history: one edge allowed and taken, one taken but not allowed, one
    allowed and never taken; the drawing styles each and says so in its legend."""
    url = db_url
    store = Store(url)
    store.install()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    moves = [("t1", None, "open", 0), ("t1", "open", "working", 26), ("t1", "working", "done", 30)]
    moves += [("t2", None, "open", 0), ("t2", "open", "done", 50)]
    with store.transaction() as conn:
        conn.execute(
            HISTORY.insert(),
            [
                {"workflow": "ticket", "entity_table": "tickets", "entity_id": e,
                 "tenant_id": "acme" if e == "t1" else "globex",
                 "kind": "initiated", "from_status": u, "to_status": v, "metadata": {},
                 "config_hash": "x" * 64, "changed_at": start + timedelta(hours=h)}
                for e, u, v, h in moves
            ],
        )  # fmt: skip
    store.dispose()
    config = Workflow.model_validate(
        {
            "name": "ticket",
            "owning_module": "help",
            "entity": {"table": "tickets"},
            "use_cases": "wfnb.placeholders",
            "requester_types": ["user"],
            "status_types": ["open", "working", "done"],
            "initial_status": "open",
            "terminal_statuses": ["done"],
            "steps": [
                {"key": "start", "status": "open", "successful_state": "working"},
                {"key": "finish", "status": "working", "successful_state": "done"},
                {"key": "pause", "status": "working", "successful_state": "open"},
            ],
        }
    )
    dfg = discover(url, workflow="ticket")
    overlay = dfg.overlay(config).set_index(["from_status", "to_status"])
    assert overlay["category"].to_dict() == {
        ("open", "working"): "taken and allowed",
        ("working", "done"): "taken and allowed",
        ("open", "done"): NOT_ALLOWED,
        ("working", "open"): NEVER_TAKEN,
    }
    assert overlay.loc[("open", "done"), "count"] == 1
    assert overlay.loc[("working", "open"), "count"] == 0
    ir = dfg.diagram(config).ir
    styles = {(e.label.split(" ")[0], e.style, e.declared) for e in ir.edges}
    assert ("allowed,", "dotted", True) in styles
    assert ("1", "dashed", False) in styles  # open → done, in red
    assert [label for label, _, _ in ir.legend][1:] == [NOT_ALLOWED, NEVER_TAKEN]
    svg = dfg.diagram(config).svg()
    assert "2 d 2 h" in svg  # open → done after 50 hours, in days and hours
    assert "1 d 2 h" in svg  # open → working after 26 hours
    for word in ("nan", "None", "NaT", "&lt;NA&gt;"):
        assert word not in svg
    assert "taken but not allowed" in svg
    assert "allowed but never taken" in svg
    quiet = dfg.diagram(config, min_count=2)
    assert "3 edges taken fewer than 2 times not drawn" in quiet.ir.title
    assert {e.count for e in quiet.ir.edges} == {0}  # only the never-taken edge is left
    with pytest.raises(WfnbUsageError, match="min_count"):
        dfg.diagram(min_count=0)
    table = dfg.edges._repr_html_()
    assert "2 d 2 h" in table
    assert "days" not in table
    acme = discover(url, workflow="ticket", tenant_id="acme")
    assert set(zip(acme.edges["from_status"], acme.edges["to_status"], strict=True)) == {
        ("open", "working"),
        ("working", "done"),
    }


def test_every_discovery_read_is_a_named_statement_builder() -> None:
    assert sorted(store_discovery.DISCOVERY_NAMES) == [
        "select_entity_tables",
        "select_follow_details",
        "select_follows",
        "select_variants",
        "select_workflows",
    ]


def test_a_missing_database_or_history_is_one_coded_error(tmp_path: Path) -> None:
    from wfnb.exceptions import StoreError

    with pytest.raises(StoreError, match=r"WF300|no such|not a wfnb"):
        discover(f"sqlite:///{tmp_path / 'absent.db'}")
    with pytest.raises(WfnbUsageError, match="after"):
        discover(f"sqlite:///{tmp_path / 'absent.db'}", since="2026-02-01", until="2026-01-01")
    assert not (tmp_path / "absent.db").exists()


def test_an_unknown_workflow_is_wf200_naming_the_closest(demo_url: str) -> None:
    from wfnb.exceptions import UnknownWorkflowError
    from wfnb.frames import variants

    for read in (
        lambda: discover(demo_url, workflow="invocie"),
        lambda: variants(demo_url, "invocie"),
    ):
        with pytest.raises(UnknownWorkflowError, match="did you mean 'invoice'") as caught:
            read()
        assert caught.value.code == "WF200"
    assert discover(demo_url, workflow="invoice", since="2099-01-01").events == 0
