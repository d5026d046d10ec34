"""``Engine.install(partition_history="month")``: a history partitioned by month (ADR 0113).

PostgreSQL only (SQLite refuses in one coded line, nothing created): the table, its
default partition and months ahead; rows of a month created late moved out of the
default; reads filtered by ``since``/``until`` pruned to their months (EXPLAIN); the
engine's steps and both conformance runs on a partitioned install.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from wfnb import testing
from wfnb.analysis.conformance import conformance
from wfnb.engine import Engine
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow
from wfnb.store import HISTORY, partitions, reads
from wfnb.timers import VirtualClock

START = datetime(2026, 1, 20, 12, tzinfo=UTC)


def test_sqlite_refuses_partitions_in_one_coded_line(sqlite_url: str) -> None:
    engine = Engine([testing.make_workflow()], sqlite_url)
    with pytest.raises(WfnbUsageError) as caught:
        engine.install(partition_history="month")
    assert caught.value.code == "WF400"
    assert "\n" not in str(caught.value)
    assert "needs PostgreSQL" in str(caught.value)
    assert not sa.inspect(engine.db).has_table("workflow_history")  # nothing created
    with pytest.raises(WfnbUsageError, match="'month' or None"):
        engine.install(partition_history="week")
    engine.dispose()


@pytest.fixture
def installed(pg_url: str) -> Iterator[tuple[Engine, Workflow, VirtualClock]]:
    wf = testing.make_workflow()
    clock = VirtualClock(start=START)
    engine = Engine([wf], pg_url, clock=clock)
    engine.install(partition_history="month")
    engine.install(partition_history="month")  # idempotent
    testing.create_entity_table(engine.db, wf)
    yield engine, wf, clock
    engine.dispose()


def _rows_by_partition(db: sa.Engine) -> dict[str, int]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT tableoid::regclass::text, count(*) FROM workflow_history GROUP BY 1")
        ).all()
    return {str(name): int(n) for name, n in rows}


@pytest.mark.pg
def test_install_creates_the_partitioned_table_and_months_ahead(
    installed: tuple[Engine, Workflow, VirtualClock],
) -> None:
    engine, _, _ = installed
    with engine.db.connect() as conn:
        assert partitions.is_partitioned(conn) is True
        names = partitions.partitions(conn)
    today = datetime.now(UTC).date().replace(day=1)
    assert partitions.DEFAULT_PARTITION in names
    assert partitions.month_partition(today) in names
    assert len(names) == partitions.MONTHS_AHEAD + 2  # this month, the months ahead, default


@pytest.mark.pg
def test_an_unpartitioned_history_is_refused(pg_url: str) -> None:
    engine = Engine([testing.make_workflow()], pg_url)
    engine.install()
    with pytest.raises(WfnbUsageError, match="not partitioned"):
        engine.install(partition_history="month")
    engine.dispose()


@pytest.mark.pg
def test_engine_steps_and_conformance_on_a_partitioned_install(
    installed: tuple[Engine, Workflow, VirtualClock],
) -> None:
    engine, wf, clock = installed
    testing.insert_entities(engine.db, wf, ["a", "b", "c"])
    for month, entity in enumerate(["a", "b", "c"]):
        clock.advance(timedelta(days=31 * month))
        engine.execute_step("ticket", entity, "user").raise_for_error()  # submit, triage
        engine.execute_step("ticket", entity, "admin", step="resolve").raise_for_error()
    before = _rows_by_partition(engine.db)
    assert set(before) == {partitions.DEFAULT_PARTITION}  # 2026 Jan-Mar: not created yet
    with engine.db.begin() as conn:
        made = partitions.ensure_months(conn, [date(2026, 1, 1), date(2026, 2, 1)])
    assert made == ["workflow_history_y2026m01", "workflow_history_y2026m02"]
    after = _rows_by_partition(engine.db)
    assert sum(after.values()) == sum(before.values())
    assert set(after) == {partitions.DEFAULT_PARTITION, *made}
    full = conformance(engine.db, [wf], now=START + timedelta(days=400))
    incremental = conformance(engine.db, [wf], now=START + timedelta(days=400), incremental=True)
    assert full.rows == sum(after.values())
    pd.testing.assert_frame_equal(incremental.deviations, full.deviations)
    pd.testing.assert_frame_equal(incremental.by_config, full.by_config)
    parallel = conformance(engine.db, [wf], now=START + timedelta(days=400), workers=2)
    pd.testing.assert_frame_equal(parallel.deviations, full.deviations)
    pd.testing.assert_frame_equal(parallel.by_config, full.by_config)


@pytest.mark.pg
def test_reads_by_since_until_scan_only_their_months(
    installed: tuple[Engine, Workflow, VirtualClock],
) -> None:
    engine, _, _ = installed
    with engine.db.begin() as conn:
        partitions.ensure_months(conn, [date(2026, m, 1) for m in (1, 2, 3, 4)])
    f = reads.Filters(
        workflow="ticket",
        since=datetime(2026, 2, 3, tzinfo=UTC),
        until=datetime(2026, 3, 10, tzinfo=UTC),
    )
    for stmt in (
        reads.select_history(f, "postgresql"),
        reads.select_transition_counts(f, "postgresql"),
        reads.select_dwell_stats(f, "postgresql"),
    ):
        sql = str(stmt.compile(dialect=engine.db.dialect, compile_kwargs={"literal_binds": True}))
        with engine.db.connect() as conn:
            plan = "\n".join(conn.execute(sa.text("EXPLAIN " + sql)).scalars())
        scanned = {name for name in _partition_names(engine.db) if name in plan}
        assert scanned == {"workflow_history_y2026m02", "workflow_history_y2026m03"}, plan


def _partition_names(db: sa.Engine) -> list[str]:
    with db.connect() as conn:
        return partitions.partitions(conn)


def test_history_key_is_kept_for_unpartitioned_installs() -> None:
    assert [c.name for c in HISTORY.primary_key.columns] == ["id"]
