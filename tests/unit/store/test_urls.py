"""require_database: a URL must name an existing, readable database; nothing is created."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from wfnb.exceptions import StoreError, WfnbUsageError
from wfnb.store.urls import adbc_target, parse_url, require_database, sqlite_file


def test_a_missing_sqlite_file_is_no_such_database_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nosuch.db"
    with pytest.raises(StoreError, match="no such database") as caught:
        require_database(f"sqlite:///{path}")
    assert caught.value.code == "WF300"
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_no_such_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database"):
        require_database(f"sqlite:///{tmp_path}/no/such/folder/x.db")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not a database at all"), "not a SQLite file"),
        (lambda p: p.mkdir(), "not a regular file"),
        (os.mkfifo, "not a regular file"),
    ],
)
def test_a_path_that_is_not_a_database_is_refused_unread(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "x.db"
    make(path)  # type: ignore[operator]
    with pytest.raises(StoreError, match=message):
        require_database(f"sqlite:///{path}")


def test_an_existing_sqlite_database_an_empty_file_and_memory_pass(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    engine = sa.create_engine(f"sqlite:///{real}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER)"))
    engine.dispose()
    assert require_database(f"sqlite:///{real}").database == str(real)
    empty = tmp_path / "empty.db"
    empty.touch()
    require_database(f"sqlite:///{empty}")
    require_database("sqlite://")
    require_database("sqlite:///:memory:")


@pytest.mark.parametrize("url", ["notaurl", "foo://", "mysql://a@b/c", ""])
def test_an_unusable_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(WfnbUsageError, match="not a usable database URL"):
        parse_url(url)


def test_sqlite_file_of_uri_and_memory_forms() -> None:
    assert sqlite_file(sa.make_url("sqlite:///a/b.db")) == Path("a/b.db")
    assert sqlite_file(sa.make_url("sqlite:///file:x.db?uri=true&mode=ro")) == Path("x.db")
    assert sqlite_file(sa.make_url("sqlite:///file:m?mode=memory&uri=true")) is None
    assert sqlite_file(sa.make_url("sqlite://")) is None
    assert sqlite_file(sa.make_url("postgresql://u@h/d")) is None


@pytest.mark.pg
def test_postgresql_connects_once_and_a_missing_database_is_wf300(pg_url: str) -> None:
    assert require_database(pg_url).get_backend_name() == "postgresql"
    missing = sa.make_url(pg_url).set(database="wfnb_no_such_database_here")
    with pytest.raises(StoreError, match="does not exist") as caught:
        require_database(missing.render_as_string(hide_password=False))
    assert caught.value.one_line().startswith("WF300: cannot connect to ")
    assert "\n" not in caught.value.one_line()


@pytest.mark.pg
def test_postgresql_password_is_hidden_in_the_message(pg_url: str) -> None:
    url = sa.make_url(pg_url).set(password="s3cret", port=1)
    with pytest.raises(StoreError) as caught:
        require_database(url.render_as_string(hide_password=False))
    assert "s3cret" not in str(caught.value)


def test_sqlite_is_never_read_through_a_second_sqlite_library(tmp_path: Path) -> None:
    """ADBC's SQLite driver links its own SQLite; beside pysqlite it corrupts the file."""
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    assert adbc_target(sa.make_url(f"sqlite:///{db}")) is None
    assert adbc_target(sa.make_url("postgresql+psycopg://u@h/d")) == (
        "postgresql",
        "postgresql://u@h/d",
    )
