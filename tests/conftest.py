"""Shared fixtures: a throwaway SQLite file and a throwaway PostgreSQL schema per test.

PostgreSQL is never skipped: README command 2 makes sure it is up, so an unreachable
server is a failure (in CI and out of it). Set ``WFNB_TEST_PG_URL`` to point elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from wfnb.engine import Engine

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / "workflows"
PG_ADMIN_URL = os.environ.get(
    "WFNB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _with_db(url: str, database: str) -> sa.URL:
    return sa.make_url(url).set(database=database)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    name = f"wfnb_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:  # pragma: no cover - the environment is broken
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc.orig}); "
            "run README command 2 (make test), which starts it",
            pytrace=False,
        )
    try:
        yield _with_db(PG_ADMIN_URL, name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema of the session database."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with eng.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'wfnb.db'}"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


EXAMPLES_NOW = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
"""The moment the example-workflow engines live at (``energy_engine``)."""


@pytest.fixture
def energy_engine(db_url: str) -> Iterator[Engine]:
    """The example workflows on a fresh database of either dialect: schema created,
    engine installed, janitors registered, its clock fixed at ``EXAMPLES_NOW``."""
    from wfnb.engine import Engine
    from wfnb.examples.energy import janitors, schema
    from wfnb.timers import VirtualClock
    from wfnb.validation import load_workflows

    db = sa.create_engine(db_url)
    schema.create_schema(db)
    from tests.engines import PARTITION_HISTORY

    engine = Engine(load_workflows([WORKFLOWS]), db, clock=VirtualClock(EXAMPLES_NOW))
    postgres = db.dialect.name == "postgresql"
    engine.install(partition_history=PARTITION_HISTORY if postgres else None)
    for owner, janitor in janitors().items():
        engine.register_janitor(owner, janitor)
    yield engine
    engine.dispose()
    db.dispose()
