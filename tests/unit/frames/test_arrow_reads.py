"""Arrow-native reads (ADR 0110): frames read through ADBC equal the SQLAlchemy read, dtype
for dtype, and every way of not having ADBC falls back to SQLAlchemy with the same frames."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.unit.frames.test_frames import filled, wf  # noqa: F401  # fixtures
from wfnb import frames
from wfnb.frames.reading import arrow_frame, connect
from wfnb.store import arrow, reads
from wfnb.timers import InMemoryQueue

READS: dict[str, Callable[[str], pd.DataFrame]] = {
    "history": lambda db: frames.history(db, progress=False),
    "filtered": lambda db: frames.history(
        db, since="2026-01-03", kind=["initiated", "rejected"], metadata={"act": True}
    ),
    "tenant": lambda db: frames.history(db, tenant_id="acme", limit=5),
    "failures": lambda db: frames.failures(db, progress=False),
    "transitions": lambda db: frames.transition_counts(db, "ticket"),
    "dwell": lambda db: frames.dwell_times(db, "ticket"),
    "stays": lambda db: frames.stays(db, "ticket"),
    "throughput": lambda db: frames.throughput(db, "ticket", "h"),
}


def _frames(db: str) -> dict[str, pd.DataFrame]:
    return {name: read(db) for name, read in READS.items()}


def _equal(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name, frame in want.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(got[name], frame, obj=name)
        assert got[name].attrs == frame.attrs, name


def test_the_reads_go_through_arrow(filled: tuple[str, InMemoryQueue]) -> None:  # noqa: F811
    db = filled[0]
    dialect = sa.make_url(db).get_backend_name()
    stmt = reads.select_history(reads.Filters(workflow="ticket"), dialect)
    with connect(db) as conn:
        frame = arrow_frame(conn, stmt)
    if dialect == "sqlite":  # never: a second SQLite library in the process corrupts files
        assert frame is None
        return
    assert frame is not None
    assert len(frame) == len(frames.history(db, "ticket", progress=False))
    assert isinstance(frame["metadata"].iloc[0], dict)  # JSON parsed, as SQLAlchemy gives it


def test_switched_off_reads_the_same_frames(
    filled: tuple[str, InMemoryQueue],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = filled[0]
    through_arrow = _frames(db)
    monkeypatch.setenv(arrow.ARROW_ENV, "0")
    with connect(db) as conn:
        assert arrow_frame(conn, reads.count_rows(sa.select(sa.literal(1)))) is None
    _equal(through_arrow, _frames(db))


def test_a_missing_driver_reads_the_same_frames(
    filled: tuple[str, InMemoryQueue],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = filled[0]
    through_arrow = _frames(db)
    for name in ("adbc_driver_sqlite", "adbc_driver_sqlite.dbapi", "adbc_driver_postgresql",
                 "adbc_driver_postgresql.dbapi"):  # fmt: skip
        monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
    with connect(db) as conn, arrow.mirror(conn) as adbc:
        assert adbc is None
    _equal(through_arrow, _frames(db))


def test_a_shared_single_connection_is_never_mirrored(
    filled: tuple[str, InMemoryQueue],  # noqa: F811
) -> None:
    """A StaticPool (a sandbox's) may hold writes no other connection sees: SQLAlchemy reads."""
    engine = sa.create_engine(filled[0], poolclass=sa.pool.StaticPool)
    try:
        with connect(engine) as conn, arrow.mirror(conn) as adbc:
            assert adbc is None
        assert len(frames.history(engine, progress=False)) == len(_frames(filled[0])["history"])
    finally:
        engine.dispose()
