"""wfnb.frames on SQLite and PostgreSQL: SQL filters equal pandas filters, aggregations equal
pandas (or a hand-computed answer), dtypes are what analysts expect."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.names import defined_functions
from wfnb import frames, testing
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.store import HISTORY, reads
from wfnb.timers import InMemoryQueue, VirtualClock

START = datetime(2026, 1, 1, tzinfo=UTC)
TENANTS = ("acme", "globex")
RESOLVED = [i for i in range(1, 30, 3) if i % 5]  # the rejected ones stay at draft


def test_every_read_is_a_named_statement_builder() -> None:
    assert sorted(reads.READ_NAMES) == [
        "count_rows",
        "select_completed_stays",
        "select_dwell_stats",
        "select_entities",
        "select_failures",
        "select_history",
        "select_stays",
        "select_throughput",
        "select_transition_counts",
    ]
    assert set(defined_functions(reads, "select_", "count_")) == set(reads.READ_NAMES)
    assert all(inspect.getdoc(getattr(reads, n)) for n in reads.READ_NAMES)


@pytest.fixture(scope="module")
def wf() -> Workflow:
    return testing.make_workflow(
        entity={"table": "tickets", "tenant_column": "tenant_id"},
    )


@pytest.fixture
def filled(db_url: str, wf: Workflow) -> Iterator[tuple[str, InMemoryQueue]]:
    """30 tickets driven through the real engine on a virtual clock: every kind of row."""
    clock = VirtualClock(start=START)
    queue = InMemoryQueue(clock)
    engine = Engine([wf], db_url, queue=queue, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(30):
        testing.insert_entity(engine.db, wf, f"t{i:02d}", tenant_id=TENANTS[i % 2])
    for i in range(30):
        clock.advance(timedelta(hours=5 + i % 7))
        data = {"validation": "reject"} if i % 5 == 0 else {}
        engine.execute_step("ticket", f"t{i:02d}", "user", data=data)
    for i in range(1, 30, 3):
        clock.advance(timedelta(hours=11))
        engine.execute_step("ticket", f"t{i:02d}", "admin", step="resolve")
    engine.execute_step("ticket", "t02", "admin", step="resolve", data={"action": "fail_permanent"})
    engine.dispose()
    other = {**_row("o1", "open", START + timedelta(days=2)), "workflow": "other"}
    _insert(db_url, [other])
    return db_url, queue


def _all(db: str) -> pd.DataFrame:
    return frames.history(db, progress=False)


def _tickets(db: str) -> pd.DataFrame:
    whole = _all(db)
    return whole[whole["workflow"] == "ticket"]


def test_dtypes(filled: tuple[str, InMemoryQueue]) -> None:
    h = _all(filled[0])
    assert len(h) > 60
    assert str(h["changed_at"].dt.tz) == "UTC"
    for name in ("workflow", "kind", "to_status", "from_status", "step_key"):
        assert isinstance(h[name].dtype, pd.CategoricalDtype), name
    assert isinstance(h["entity_id"].dtype, pd.StringDtype)
    assert h["changed_at"].is_monotonic_decreasing  # newest first


@pytest.mark.parametrize(
    ("kwargs", "keep"),
    [
        ({"workflow": "ticket"}, lambda h: h["workflow"] == "ticket"),
        ({"entity_id": "t03"}, lambda h: h["entity_id"] == "t03"),
        ({"entity_id": ["t03", "t04"]}, lambda h: h["entity_id"].isin(["t03", "t04"])),
        ({"tenant_id": "acme"}, lambda h: h["tenant_id"] == "acme"),
        ({"step": "resolve"}, lambda h: h["step_key"] == "resolve"),
        ({"kind": "rejected"}, lambda h: h["kind"] == "rejected"),
        ({"kind": ["claimed", "rejected"]}, lambda h: h["kind"].isin(["claimed", "rejected"])),
        ({"status": "triaged"}, lambda h: h["to_status"] == "triaged"),
        ({"from_status": "resolving"}, lambda h: h["from_status"] == "resolving"),
        (
            {"since": "2026-01-03", "until": datetime(2026, 1, 6, 12, tzinfo=UTC)},
            lambda h: (
                (h["changed_at"] >= pd.Timestamp("2026-01-03", tz="UTC"))
                & (h["changed_at"] < pd.Timestamp("2026-01-06 12:00", tz="UTC"))
            ),
        ),
        (
            {"metadata": {"reason": "check said no"}},
            lambda h: h["metadata"].map(lambda m: m.get("reason") == "check said no"),
        ),
        (
            {"metadata": {"act": True}},
            lambda h: h["metadata"].map(lambda m: m.get("act") is True),
        ),
    ],
)
def test_each_filter_matches_pandas(
    filled: tuple[str, InMemoryQueue], kwargs: dict[str, object], keep: object
) -> None:
    db = filled[0]
    whole = _all(db)
    expected = whole[keep(whole)]  # type: ignore[operator]
    got = frames.history(db, progress=False, **kwargs)  # type: ignore[arg-type]
    assert 0 < len(got) < len(whole)
    assert got["id"].tolist() == expected["id"].tolist()


def test_limit_and_nested_metadata_path(db_url: str) -> None:
    _engine_tables(db_url)
    rows = [_row("a", "x", START, metadata={"who": {"team": "red"}}),
            _row("b", "x", START, metadata={"who": {"team": "blue"}})]  # fmt: skip
    _insert(db_url, rows)
    got = frames.history(db_url, metadata={"who.team": "blue"}, progress=False)
    assert got["entity_id"].tolist() == ["b"]
    assert len(frames.history(db_url, limit=1, progress=False)) == 1


def test_transition_counts_equal_a_groupby(filled: tuple[str, InMemoryQueue]) -> None:
    db = filled[0]
    whole = _tickets(db)
    keys = ["from_status", "to_status", "step_key", "kind"]
    expected = whole.astype(dict.fromkeys(keys, "object")).groupby(keys).size()
    got = frames.transition_counts(db, "ticket")
    assert dict(zip(map(tuple, got[keys].astype("object").values), got["count"], strict=True)) == (
        expected.to_dict()
    )


def test_throughput_per_day_equals_pandas(filled: tuple[str, InMemoryQueue]) -> None:
    db = filled[0]
    whole = _tickets(db)
    expected = whole.groupby(whole["changed_at"].dt.floor("D")).size()
    got = frames.throughput(db, "ticket", "D")
    assert got["bucket"].tolist() == expected.index.tolist()
    assert got["transitions"].tolist() == expected.tolist()
    weekly = frames.throughput(db, "ticket", "W")
    assert weekly["transitions"].sum() == len(whole)
    assert (weekly["bucket"].dt.day_of_week == 0).all()


def test_failures_and_entities(filled: tuple[str, InMemoryQueue], wf: Workflow) -> None:
    db = filled[0]
    f = frames.failures(db, workflow="ticket")
    assert f["entity_id"].tolist() == ["t02"]
    assert f["error_code"].tolist() == ["TEST_FAIL"]
    assert str(f["failed_at"].dt.tz) == "UTC"
    assert frames.failures(db, code="OTHER").empty
    e = frames.entities(db, wf, status=["resolved", "failed"])
    assert sorted(e["id"]) == sorted({f"t{i:02d}" for i in RESOLVED} | {"t02"})
    assert list(e["status"].cat.categories) == list(wf.status_types)


def test_timers_from_the_queue(filled: tuple[str, InMemoryQueue]) -> None:
    t = frames.timers(filled[1])
    assert len(t) == len(RESOLVED)  # every resolved ticket armed auto_close
    assert set(t["timer_key"]) == {"auto_close"}
    assert t["due_at"].is_monotonic_increasing
    assert str(t["due_at"].dt.tz) == "UTC"


def _engine_tables(db: str) -> None:
    engine = Engine([testing.make_workflow()], db)
    engine.install()
    engine.dispose()


def _row(entity: str, to: str, at: datetime, *, frm: str | None = None, **kw: object) -> dict:
    return {"workflow": "ticket", "entity_table": "tickets", "entity_id": entity,
            "kind": "initiated", "from_status": frm, "to_status": to, "config_hash": "h",
            "metadata": kw.get("metadata", {}), "changed_at": at}  # fmt: skip


def _insert(db: str, rows: list[dict]) -> None:
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.insert(HISTORY), rows)
    engine.dispose()


def test_dwell_times_hand_computed(db_url: str) -> None:
    """Stays at ``submitted``: 1h, 2h, 4h, 10h (and one still open); at ``triaged``: 30 min."""
    _engine_tables(db_url)
    h = timedelta(hours=1)
    rows = []
    for entity, hours in (("a", 1), ("b", 2), ("c", 4), ("d", 10)):
        rows.append(_row(entity, "submitted", START))
        rows.append(_row(entity, "triaged", START + hours * h, frm="submitted"))
    rows.append(_row("a", "resolved", START + 1.5 * h, frm="triaged"))
    rows.append(_row("e", "submitted", START))  # still there
    _insert(db_url, rows)
    got = frames.dwell_times(db_url, "ticket").set_index("status")
    sub = got.loc["submitted"]
    assert (sub["count"], sub["open"]) == (4, 1)
    assert sub["mean"] == pd.Timedelta(hours=17 / 4)
    assert sub["p50"] == pd.Timedelta(hours=3)  # between 2h and 4h
    assert sub["p95"] == pd.Timedelta(hours=4 + 0.85 * 6)  # 0.95 * 3 = 2.85 → 4h + .85 * 6h
    tri = got.loc["triaged"]
    assert (tri["count"], tri["open"]) == (1, 3)
    assert tri["p50"] == tri["p95"] == pd.Timedelta(minutes=30)
    stays = frames.stays(db_url, "ticket")
    assert sorted(stays.loc[stays["status"] == "submitted", "duration"]) == [
        pd.Timedelta(hours=x) for x in (1, 2, 4, 10)
    ]


def test_dwell_times_with_equal_stamps_tied_stays_and_only_open_stays(db_url: str) -> None:
    """Rows stamped alike order by id; tied durations; a status nobody has left yet."""
    _engine_tables(db_url)
    h = timedelta(hours=1)
    rows = [
        _row("x", "submitted", START),
        _row("x", "triaged", START, frm="submitted"),  # same stamp, later id: 0 s at submitted
        _row("x", "resolved", START + 2 * h, frm="triaged"),
        _row("y", "submitted", START),
        _row("y", "triaged", START + 2 * h, frm="submitted"),
        _row("y", "resolved", START + 4 * h, frm="triaged"),  # triaged: 2 h, tied with x
        _row("z", "submitted", START),
        _row("z", "triaged", START + 6 * h, frm="submitted"),
    ]
    _insert(db_url, rows)
    got = frames.dwell_times(db_url, "ticket").set_index("status")
    sub = got.loc["submitted"]
    assert (sub["count"], sub["open"]) == (3, 0)
    assert sub["p50"] == pd.Timedelta(hours=2)  # 0, 2, 6 hours
    assert sub["p95"] == pd.Timedelta(hours=2 + 0.9 * 4)  # 0.95 * 2 = 1.9 → 2h + .9 * 4h
    assert sub["mean"] == pd.Timedelta(hours=8 / 3)
    tri = got.loc["triaged"]
    assert (tri["count"], tri["open"]) == (2, 1)
    assert tri["p50"] == tri["p95"] == tri["mean"] == pd.Timedelta(hours=2)
    res = got.loc["resolved"]
    assert (res["count"], res["open"]) == (0, 2)
    assert pd.isna(res["mean"])
    assert pd.isna(res["p50"])
    assert pd.isna(res["p95"])


def test_dwell_times_equal_pandas_on_engine_history(filled: tuple[str, InMemoryQueue]) -> None:
    db = filled[0]
    whole = _tickets(db).sort_values(["entity_id", "changed_at", "id"])
    left = whole.groupby("entity_id")["changed_at"].shift(-1)
    stays = (left - whole["changed_at"]).groupby(whole["to_status"].astype("object"))
    got = frames.dwell_times(db, "ticket").set_index("status")
    for status, durations in stays:
        done = durations.dropna()
        row = got.loc[status]
        assert row["count"] == len(done)
        if len(done):
            assert abs(row["p50"] - done.quantile(0.5)) < pd.Timedelta(milliseconds=1)
            assert abs(row["p95"] - done.quantile(0.95)) < pd.Timedelta(milliseconds=1)
            assert abs(row["mean"] - done.mean()) < pd.Timedelta(milliseconds=1)


def test_dwell_times_equal_pandas_with_many_tied_durations(db_url: str) -> None:
    """Durations repeat (a few distinct values) so ranks p50 / p95 fall inside runs of ties;
    another workflow's rows share entity ids and must neither count nor end a stay."""
    _engine_tables(db_url)
    h = timedelta(hours=1)
    statuses = ["submitted", "triaged", "resolving", "resolved"]
    rows, other = [], []
    for e in range(60):
        at = START + e * timedelta(minutes=1)
        for step, status in enumerate(statuses[: 2 + e % 3]):
            rows.append(_row(f"e{e}", status, at))
            other.append({**_row(f"e{e}", status, at + 0.5 * h), "workflow": "other"})
            at += ((e * 7 + step * 3) % 4) * h  # 0-3 h: few distinct values, zeros included
    _insert(db_url, rows + other)
    got = frames.dwell_times(db_url, "ticket").set_index("status")
    h_rows = pd.DataFrame(rows).sort_values(["entity_id", "changed_at"], kind="stable")
    left = h_rows.groupby("entity_id")["changed_at"].shift(-1)
    h_rows["seconds"] = (left - h_rows["changed_at"]).dt.total_seconds()
    for status, part in h_rows.groupby("to_status"):
        done = pd.to_timedelta(part["seconds"].dropna(), unit="s")
        row = got.loc[status]
        assert (row["count"], row["open"]) == (len(done), part["seconds"].isna().sum())
        if len(done):
            assert row["p50"] == done.quantile(0.5)
            assert row["p95"] == done.quantile(0.95)
            assert abs(row["mean"] - done.mean()) < pd.Timedelta(milliseconds=1)
    engine = sa.create_engine(db_url)
    stmt = reads.select_stays(reads.Filters(), engine.dialect.name)  # every workflow
    with engine.connect() as conn:
        durations = [s for _, s in conn.execute(stmt) if s is not None]
    engine.dispose()
    assert len(durations) == 2 * h_rows["seconds"].notna().sum()  # workflows stay apart
