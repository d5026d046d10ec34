"""Timestamps keep their instant on both dialects whatever offset the clock or caller uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.engines import Build, engine_builder
from wfnb import frames
from wfnb.engine import Engine
from wfnb.store.tables import HISTORY

PLUS_TWO = timezone(timedelta(hours=2))
PLUS_ONE = timezone(timedelta(hours=1))


class OffsetClock:
    """A clock that answers in +02:00, as a caller in Central European summer time might."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 6, 1, 14, 0, tzinfo=PLUS_TWO)

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def build(db_url: str) -> Iterator[Build]:
    with engine_builder(db_url, id_format="t{}", clock=OffsetClock()) as make:
        yield make


def _stamps(engine: Engine) -> list[datetime]:
    with engine.db.connect() as conn:
        rows = conn.execute(sa.select(HISTORY.c.changed_at).order_by(HISTORY.c.id)).scalars()
        return [r if r.tzinfo else r.replace(tzinfo=UTC) for r in rows]


def test_a_step_stamped_in_plus_two_reads_back_as_the_same_instant(build: Build) -> None:
    engine, _wf = build(entities=1, status="submitted")
    engine.execute_step("ticket", "t0", requester_type="system", step="triage")
    (stamp,) = _stamps(engine)
    assert stamp == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_filters_with_offsets_select_by_instant(build: Build) -> None:
    engine, _wf = build(entities=1, status="submitted")
    engine.execute_step("ticket", "t0", requester_type="system", step="triage")
    # 12:30+01:00 is 11:30 UTC: before the row (12:00 UTC); 13:30+01:00 is after it.
    before = frames.history(engine.db, since=datetime(2026, 6, 1, 12, 30, tzinfo=PLUS_ONE))
    after = frames.history(engine.db, since=datetime(2026, 6, 1, 13, 30, tzinfo=PLUS_ONE))
    assert len(before) == 1
    assert len(after) == 0
    shown = pd.Timestamp(before["changed_at"].iloc[0])
    shown = shown.tz_localize("UTC") if shown.tzinfo is None else shown.tz_convert("UTC")
    assert shown == pd.Timestamp("2026-06-01 12:00", tz="UTC")
