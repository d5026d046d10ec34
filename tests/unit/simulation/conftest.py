"""Fixtures for the simulation tests: a small demo database built once per module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from wfnb.simulation.demo import DemoReport, build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    """A 3-month demo with 60 members (about a second on SQLite)."""
    folder: Path = tmp_path_factory.mktemp("demo")
    return build_demo(f"sqlite:///{folder / 'demo.db'}", users=60, months=3, progress=False)


@pytest.fixture(scope="module")
def demo_db(demo: DemoReport) -> Iterator[sa.Engine]:
    engine = sa.create_engine(demo.db_url)
    yield engine
    engine.dispose()


def history(db: sa.Engine) -> pd.DataFrame:
    """The whole history, in write order."""
    with db.connect() as conn:
        rows = pd.read_sql(sa.text("SELECT * FROM workflow_history ORDER BY id"), conn)
    rows["metadata"] = rows["metadata"].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    return rows
