"""History and failure reads on SQLite and PostgreSQL: whole unless a limit is asked, a cut
frame says so with a count that equals SQL's ``COUNT(*)``, newest first, filtered by user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from wfnb import frames, testing
from wfnb.engine import Engine
from wfnb.exceptions import WfnbUsageError
from wfnb.frames.display import limit_note
from wfnb.timers import InMemoryQueue, VirtualClock

START = datetime(2026, 1, 1, tzinfo=UTC)
USERS = ("ada", "bob", "cy")


@pytest.fixture
def users_db(db_url: str) -> str:
    """24 tickets stepped by three users on a virtual clock; two fail permanently."""
    wf = testing.make_workflow()
    clock = VirtualClock(start=START)
    engine = Engine([wf], db_url, queue=InMemoryQueue(clock), clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    for i in range(24):
        testing.insert_entity(engine.db, wf, f"t{i:02d}")
    for i in range(24):
        clock.advance(timedelta(hours=1))
        engine.execute_step("ticket", f"t{i:02d}", "user", user_id=USERS[i % 3])
    for i in (1, 4):
        clock.advance(timedelta(hours=1))
        engine.execute_step(
            "ticket", f"t{i:02d}", "admin", step="resolve", user_id=USERS[i % 3],
            data={"action": "fail_permanent"},
        )  # fmt: skip
    engine.dispose()
    return db_url


def _count(db: str, sql: str, **params: object) -> int:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql), params).scalar_one())
    finally:
        engine.dispose()


def test_history_is_whole_without_a_limit_and_newest_first(users_db: str) -> None:
    h = frames.history(users_db, progress=False)
    assert len(h) == _count(users_db, "SELECT count(*) FROM workflow_history")
    assert h["changed_at"].is_monotonic_decreasing
    assert "wfnb_total" not in h.attrs
    assert limit_note(h) == ""
    oldest = frames.history(users_db, progress=False, newest_first=False)
    assert oldest["id"].tolist() == h["id"].tolist()[::-1]


def test_a_cut_history_says_how_many_rows_matched_as_sql_counts_them(users_db: str) -> None:
    since = START + timedelta(hours=5)
    total = _count(
        users_db, "SELECT count(*) FROM workflow_history WHERE changed_at >= :s", s=since
    )
    cut = frames.history(users_db, since=since, limit=7, progress=False)
    assert len(cut) == 7
    assert cut.attrs["wfnb_total"] == total > 7
    assert cut.attrs["wfnb_returned"] == 7
    assert limit_note(cut).startswith(f"7 of {total:,} rows")
    newest = frames.history(users_db, since=since, progress=False).head(7)
    assert cut["id"].tolist() == newest["id"].tolist()  # the newest 7, not the oldest
    html = cut._repr_html_()
    assert f"7 of {total:,} rows" in html


def test_a_limit_above_the_total_is_not_a_cut(users_db: str) -> None:
    every = frames.history(users_db, limit=10_000, progress=False)
    assert every.attrs["wfnb_total"] == every.attrs["wfnb_returned"] == len(every)
    assert limit_note(every) == ""


def test_a_cut_failure_log_counts_as_sql_does(users_db: str) -> None:
    total = _count(users_db, "SELECT count(*) FROM workflow_permanent_failure_log")
    assert total == 2
    cut = frames.failures(users_db, limit=1, progress=False)
    assert (len(cut), cut.attrs["wfnb_total"]) == (1, total)
    assert cut["entity_id"].tolist() == ["t04"]  # the newest failure


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_a_usage_error(users_db: str, limit: int) -> None:
    with pytest.raises(WfnbUsageError):
        frames.history(users_db, limit=limit, progress=False)


def test_history_filters_by_user_as_sql_does(users_db: str) -> None:
    h = frames.history(users_db, user="bob", progress=False)
    assert len(h) == _count(
        users_db, "SELECT count(*) FROM workflow_history WHERE user_id = :u", u="bob"
    )
    assert set(h["user_id"]) == {"bob"}
    both = frames.history(users_db, user=["ada", "cy"], progress=False)
    assert set(both["user_id"]) == {"ada", "cy"}
    per_user = frames.history(users_db, progress=False).groupby("user_id").size()
    assert per_user.to_dict() == {
        u: _count(users_db, "SELECT count(*) FROM workflow_history WHERE user_id = :u", u=u)
        for u in USERS
    }


def test_failures_carry_and_filter_by_the_user_of_the_failing_call(users_db: str) -> None:
    f = frames.failures(users_db, progress=False)
    assert dict(zip(f["entity_id"], f["user_id"], strict=True)) == {"t01": "bob", "t04": "bob"}
    assert isinstance(f["user_id"].dtype, pd.StringDtype)
    assert len(frames.failures(users_db, user="bob", progress=False)) == 2
    assert frames.failures(users_db, user="ada", progress=False).empty
