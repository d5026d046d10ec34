"""Round trip: the demo's history exported to XES / OCEL / CSV / Parquet and imported into
a fresh database gives the same history frame, the same entity statuses, the same
transition counts and dwell times, and the same conformance report, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb import frames
from wfnb.analysis.conformance import conformance
from wfnb.eventlog import export_log, import_log
from wfnb.exceptions import EventLogError
from wfnb.simulation.demo import build_demo, demo_configs
from wfnb.validation import load_workflows

NOW = datetime(2026, 8, 1, tzinfo=UTC)


def _fresh_pg(base: str) -> tuple[str, sa.Engine, str]:
    name = f"el_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    return url.render_as_string(hide_password=False), admin, name


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(dialect, URL) of a small demo (60 members, 3 months, manual updates planted)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('el') / 'demo.db'}"
        build_demo(url, users=60, months=3, progress=False)
        yield "sqlite", url
        return
    url, admin, name = _fresh_pg(request.getfixturevalue("pg_database"))
    build_demo(url, users=60, months=3, progress=False)
    try:
        yield "pg", url
    finally:
        _drop(admin, name)


@pytest.fixture
def target(
    source: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh, empty database of the source's dialect."""
    if source[0] == "sqlite":
        yield f"sqlite:///{tmp_path / 'imported.db'}"
        return
    url, admin, name = _fresh_pg(request.getfixturevalue("pg_database"))
    try:
        yield url
    finally:
        _drop(admin, name)


def _history(url: str) -> pd.DataFrame:
    frame = frames.history(url, limit=None).drop(columns=["id"])
    keys = ["workflow", "entity_id", "changed_at", "entity_version", "kind", "to_status"]
    return frame.sort_values(keys, ignore_index=True)


def _deviations(url: str) -> tuple[float, pd.DataFrame]:
    wfs = load_workflows([WORKFLOWS])
    report = conformance(url, wfs, now=NOW, known_configs=demo_configs())
    table = report.deviations.drop(columns=["history_id"])
    return report.fitness, table.sort_values(list(table.columns), ignore_index=True)


@pytest.mark.parametrize("name", ["log.xes.gz", "log.json", "log.csv", "log.parquet"])
def test_round_trip_gives_the_same_frames_and_conformance(
    source: tuple[str, str], target: str, tmp_path: Path, name: str
) -> None:
    _, url = source
    wfs = load_workflows([WORKFLOWS])
    written = export_log(url, tmp_path / name)
    done = import_log(tmp_path / name, target, workflow=list(wfs.values()))
    assert done.events == written.events == len(frames.history(url, limit=None))
    assert done.cases == written.cases

    pd.testing.assert_frame_equal(_history(target), _history(url))
    for wf in wfs.values():
        columns = [wf.entity.id_column, wf.entity.status_column, wf.entity.version_column]
        before = frames.entities(url, wf)[columns].astype(str).sort_values(columns[0])
        after = frames.entities(target, wf)[columns].astype(str).sort_values(columns[0])
        pd.testing.assert_frame_equal(after.reset_index(drop=True), before.reset_index(drop=True))
        pd.testing.assert_frame_equal(
            frames.transition_counts(target, wf.name), frames.transition_counts(url, wf.name)
        )
        pd.testing.assert_frame_equal(
            frames.dwell_times(target, wf.name), frames.dwell_times(url, wf.name)
        )
    fitness, deviations = _deviations(target)
    expected_fitness, expected = _deviations(url)
    assert fitness == expected_fitness
    assert not expected.empty  # the demo's planted manual updates are found again
    pd.testing.assert_frame_equal(deviations, expected)


def test_a_second_import_of_the_same_log_is_refused(
    source: tuple[str, str], target: str, tmp_path: Path
) -> None:
    _, url = source
    wf = load_workflows([WORKFLOWS])["billing_period"]
    export_log(url, tmp_path / "bp.xes", workflow="billing_period")
    first = import_log(tmp_path / "bp.xes", target, workflow=wf)
    assert first.entities_inserted > 0
    with pytest.raises(EventLogError, match="already have history in workflow"):
        import_log(tmp_path / "bp.xes", target, workflow=wf)
    assert len(frames.history(target, limit=None)) == first.events  # nothing duplicated
