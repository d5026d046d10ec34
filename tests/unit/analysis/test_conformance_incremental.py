"""Incremental and parallel conformance give the full run's report (ADR 0112, 0113).

Random history rows (any kind, move, requester, request id, known or unknown config,
entities moved behind the engine's back) are appended in batches; after each batch the
incremental run, a run in three workers and a full run must report the same, frame for
frame, on both dialects.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from wfnb import testing
from wfnb.analysis.conformance import ConformanceReport, conformance
from wfnb.engine import Engine
from wfnb.exceptions import WfnbUsageError
from wfnb.spec import Workflow
from wfnb.store import HISTORY
from wfnb.store.checkpoints import CHECKPOINTS, COUNTS, ENTITIES, VERDICTS
from wfnb.store.tables import OUTBOX

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
ENTITY_IDS = ["e0", "e1", "e2", "e3", "e4"]
STATUSES = testing.DEFAULT_WORKFLOW["status_types"]
UNKNOWN = "f" * 64


@dataclass
class Db:
    engine: sa.Engine
    wf: Workflow
    clock: list[datetime]

    def reset(self) -> None:
        tickets = sa.table("tickets", sa.column("status"))
        with self.engine.begin() as conn:
            for table in (HISTORY, CHECKPOINTS, VERDICTS, COUNTS, ENTITIES):
                conn.execute(sa.delete(table))
            conn.execute(sa.update(tickets).values(status="draft"))
        self.clock[0] = START

    def append(self, rows: list[dict[str, Any]]) -> None:
        tickets = sa.table("tickets", sa.column("id"), sa.column("status"))
        with self.engine.begin() as conn:
            for row in rows:
                self.clock[0] += timedelta(minutes=row.pop("minutes"))
                manual = row.pop("manual")
                config = row.pop("known")
                values = {
                    "workflow": "ticket", "entity_table": "tickets", "metadata": {},
                    "config_hash": self.wf.config_hash if config else UNKNOWN,
                    "changed_at": self.clock[0], **row,
                }  # fmt: skip
                conn.execute(sa.insert(HISTORY), [values])
                status = manual or row["to_status"]
                conn.execute(
                    sa.update(tickets).where(tickets.c.id == row["entity_id"]).values(status=status)
                )


@pytest.fixture
def db(db_url: str) -> Iterator[Db]:
    wf = testing.make_workflow()
    engine = Engine([wf], db_url)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entities(engine.db, wf, ENTITY_IDS, status="draft")
    yield Db(engine.db, wf, [START])
    engine.dispose()


ROWS = st.fixed_dictionaries(
    {
        "entity_id": st.sampled_from(ENTITY_IDS),
        "kind": st.sampled_from(["initiated", "initiated", "observed", "timer", "claimed"]),
        "from_status": st.sampled_from([None, *STATUSES]),
        "to_status": st.sampled_from(STATUSES),
        "step_key": st.sampled_from([None, "submit", "triage", "resolve", "close", "nudge"]),
        "requester_type": st.sampled_from([None, "user", "admin", "system"]),
        "correlation_id": st.sampled_from([None, "r1", "r2"]),
        "source": st.sampled_from([None, "email"]),
        "known": st.booleans(),
        "manual": st.sampled_from([None, None, None, "closed"]),
        "minutes": st.integers(1, 60 * 24 * 9),
    }
)


def assert_same(incremental: ConformanceReport, full: ConformanceReport) -> None:
    assert incremental.rows == full.rows
    assert incremental.fitness == full.fitness
    pd.testing.assert_frame_equal(incremental.deviations, full.deviations)
    pd.testing.assert_frame_equal(incremental.by_config, full.by_config)
    assert incremental.to_json() == full.to_json()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a database test is slow
)
@given(batches=st.lists(st.lists(ROWS, min_size=1, max_size=6), min_size=1, max_size=4))
def test_incremental_equals_full_after_random_appends(
    db: Db, batches: list[list[dict[str, Any]]]
) -> None:
    db.reset()
    for batch in batches:
        db.append([dict(r) for r in batch])
        incremental = conformance(db.engine, [db.wf], now=NOW, incremental=True)
        full = conformance(db.engine, [db.wf], now=NOW)
        assert_same(incremental, full)
        assert_same(conformance(db.engine, [db.wf], now=NOW, workers=3), full)


def test_workers_are_refused_with_incremental_or_below_one(db: Db) -> None:
    for kw in ({"workers": 2, "incremental": True}, {"workers": 0}):
        with pytest.raises(WfnbUsageError) as caught:
            conformance(db.engine, [db.wf], now=NOW, **kw)  # type: ignore[arg-type]
        assert caught.value.code == "WF400"


def _row(entity: str, frm: str | None, to: str, step: str, **more: Any) -> dict[str, Any]:
    return {"entity_id": entity, "kind": "initiated", "from_status": frm, "to_status": to,
            "step_key": step, "requester_type": "user", "correlation_id": None, "source": None,
            "known": True, "manual": None, "minutes": 5, **more}  # fmt: skip


def test_only_new_rows_are_judged(db: Db) -> None:
    db.append([_row("e0", None, "draft", "create"), _row("e0", "draft", "submitted", "submit")])
    conformance(db.engine, [db.wf], now=NOW, incremental=True)
    # A verdict kept is never judged again: plant one by hand, the next run reports it.
    with db.engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.min(HISTORY.c.id))).scalar_one()
        config_set = conn.execute(sa.select(CHECKPOINTS.c.config_set)).scalar_one()
        planted = {"workflow": "ticket", "config_set": config_set, "history_id": first,
                   "kind": "history_gap", "entity_id": "e0", "detail": "planted",
                   "config_hash": db.wf.config_hash, "changed_at": START}  # fmt: skip
        conn.execute(sa.insert(VERDICTS), [planted])
    db.append([_row("e0", "submitted", "triaged", "triage")])
    report = conformance(db.engine, [db.wf], now=NOW, incremental=True)
    assert "planted" in report.deviations["detail"].tolist()
    assert report.rows == 3


def test_changed_config_set_voids_the_checkpoint(db: Db) -> None:
    db.append([_row("e0", None, "draft", "create"), _row("e0", "draft", "submitted", "submit")])
    first = conformance(db.engine, [db.wf], now=NOW, incremental=True)
    # A new config set: the rows' config is neither loaded nor in git any more.
    newer = testing.make_workflow(description="changed")
    assert newer.config_hash != db.wf.config_hash
    again = conformance(db.engine, [newer], now=NOW, incremental=True)
    full = conformance(db.engine, [newer], now=NOW)
    assert_same(again, full)
    assert again.counts() != first.counts()  # the rows' hash is now unknown: re-judged
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CHECKPOINTS)).scalar_one() == 1


@pytest.mark.parametrize("db_url", [pytest.param("pg", marks=pytest.mark.pg)], indirect=True)
def test_a_row_committed_below_the_checkpoint_is_judged(db: Db) -> None:
    """PostgreSQL only: SQLite gives ids in commit order (one writer at a time)."""
    rows = [_row(e, None, "draft", "create") for e in ("e0", "e1", "e2")]
    db.append([dict(r) for r in rows])
    with db.engine.begin() as conn:  # id 2 is taken by a transaction still running
        ids = sorted(conn.execute(sa.select(HISTORY.c.id)).scalars())
        conn.execute(sa.delete(HISTORY).where(HISTORY.c.id == ids[1]))
        conn.execute(sa.delete(OUTBOX).where(OUTBOX.c.history_id == ids[1]))  # never was
    conformance(db.engine, [db.wf], now=NOW, incremental=True)
    with db.engine.begin() as conn:  # ... which commits now, below the checkpoint
        late = {**_row("e1", None, "triaged", "submit"), "id": ids[1]}
        for key in ("known", "manual", "minutes"):
            late.pop(key)
        conn.execute(sa.insert(HISTORY), [{**late, "workflow": "ticket", "metadata": {},
                     "entity_table": "tickets", "config_hash": db.wf.config_hash,
                     "changed_at": START}])  # fmt: skip
    incremental = conformance(db.engine, [db.wf], now=NOW, incremental=True)
    assert_same(incremental, conformance(db.engine, [db.wf], now=NOW))
    assert incremental.rows == 3


def test_concurrent_runs_keep_one_consistent_checkpoint(db: Db) -> None:
    db.append([_row(e, None, "draft", "create") for e in ENTITY_IDS])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conformance(db.engine, [db.wf], now=NOW, incremental=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CHECKPOINTS)).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(ENTITIES)).scalar_one() == 5
    db.append([_row("e0", "draft", "closed", "submit")])
    incremental = conformance(db.engine, [db.wf], now=NOW, incremental=True)
    assert_same(incremental, conformance(db.engine, [db.wf], now=NOW))


def test_a_gap_from_no_status_is_worded_in_both_runs(db: Db) -> None:
    db.append([_row("e0", None, "draft", "create"), _row("e0", None, "submitted", "submit")])
    for report in (
        conformance(db.engine, [db.wf], now=NOW),
        conformance(db.engine, [db.wf], now=NOW, incremental=True),
    ):
        gaps = report.deviations[report.deviations["kind"] == "history_gap"]
        assert gaps["detail"].tolist() == [
            "created again at submitted, but the previous row left it at draft"
        ]
