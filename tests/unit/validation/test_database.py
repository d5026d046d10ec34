"""WF112 against live databases: SQLite and PostgreSQL, constraints and enum types."""

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.validation.sample import located, sample
from wfnb.validation import load_workflows, validate
from wfnb.validation.database import allowed_values

STATUSES: list[str] = sample()["status_types"]


def make_table(
    url: str,
    *,
    statuses: Sequence[str] | None = STATUSES,
    enum: bool = False,
    without: str | None = None,
    name: str = "invoices",
) -> None:
    """The sample's entity table; ``statuses`` restricts the status column (None: free text)."""
    status_type: sa.types.TypeEngine[str] = sa.String(30)
    constraints: list[sa.CheckConstraint] = []
    if enum and statuses is not None:
        status_type = sa.Enum(*statuses, name="invoice_status", create_constraint=True)
    elif statuses is not None and without != "status":
        constraints.append(sa.CheckConstraint(sa.column("status").in_(statuses), name="ck_status"))
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.String(20)),
        sa.Column("status", status_type, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    ]
    metadata = sa.MetaData()
    sa.Table(name, metadata, *[c for c in columns if c.name != without], *constraints)
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def test_clean_table(db_url: str) -> None:
    make_table(db_url)
    report = validate(sample(), db=db_url)
    assert report.ok, report
    assert load_workflows(sample(), db=db_url)["invoice"].name == "invoice"


def test_a_status_the_constraint_lacks(db_url: str) -> None:
    make_table(db_url, statuses=[s for s in STATUSES if s != "cancelled"])
    report = validate(sample(), db=db_url)
    assert located(report) == {("WF112", "/status_types/6")}
    assert "'cancelled'" in report.errors[0].message
    assert "'invoices'" in report.errors[0].message


def test_a_value_the_config_lacks(db_url: str) -> None:
    make_table(db_url, statuses=[*STATUSES, "archived", "disputed"])
    report = validate(sample(), db=db_url)
    assert located(report) == {("WF112", "/entity/status_column")}
    assert "'archived', 'disputed'" in report.errors[0].message


@pytest.mark.parametrize(
    ("column", "where"),
    [
        ("version", "/entity/version_column"),
        ("tenant_id", "/entity/tenant_column"),
        ("status", "/entity/status_column"),
    ],
)
def test_a_missing_column(db_url: str, column: str, where: str) -> None:
    make_table(db_url, without=column)
    report = validate(sample(), db=db_url)
    assert located(report) == {("WF112", where)}
    assert f"{column!r}" in report.errors[0].message


def test_a_missing_table(db_url: str) -> None:
    make_table(db_url, name="bills")
    report = validate(sample(), db=db_url)
    assert located(report) == {("WF112", "/entity/table")}
    assert "'invoices'" in report.errors[0].message


def test_an_unrestricted_status_column_is_fine(db_url: str) -> None:
    make_table(db_url, statuses=None)
    assert validate(sample(), db=db_url).ok


def test_an_enum_status_column(db_url: str) -> None:
    """A native enum type on PostgreSQL, a CHECK constraint on SQLite: both are read."""
    make_table(db_url, statuses=[s for s in STATUSES if s != "draft"], enum=True)
    report = validate(sample(), db=db_url)
    assert located(report) == {("WF112", "/status_types/0")}
    assert "'draft'" in report.errors[0].message


@pytest.mark.pg
def test_a_postgres_enum_that_matches(pg_url: str) -> None:
    make_table(pg_url, enum=True)
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_check_constraints("invoices") == []  # enum, not CHECK
        assert validate(sample(), db=engine).ok
    finally:
        engine.dispose()


@pytest.mark.pg
def test_a_hand_written_postgres_constraint(pg_url: str) -> None:
    make_table(pg_url, statuses=None)
    engine = sa.create_engine(pg_url)
    ors = " OR ".join(f"status = '{s}'" for s in STATUSES if s != "paid")
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE invoices ADD CONSTRAINT ck CHECK ({ors})"))
        conn.execute(sa.text("ALTER TABLE invoices ADD CONSTRAINT pos CHECK (version >= 0)"))
    try:
        assert located(validate(sample(), db=engine)) == {("WF112", "/status_types/5")}
    finally:
        engine.dispose()


def test_an_engine_works_like_a_url_and_stays_open(sqlite_url: str) -> None:
    make_table(sqlite_url, statuses=STATUSES[:-1])
    engine = sa.create_engine(sqlite_url)
    try:
        assert located(validate(sample(), db=engine)) == {("WF112", "/status_types/6")}
        with engine.connect() as conn:  # not disposed by validate
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_schema_qualified_table(sqlite_url: str) -> None:
    make_table(sqlite_url)
    assert validate(sample(entity={"table": "main.invoices"}), db=sqlite_url).ok
    report = validate(sample(entity={"table": "main.bills"}), db=sqlite_url)
    assert located(report) == {("WF112", "/entity/table")}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:secret@127.0.0.1:1/nowhere",
        "not a url at all",
        "nosuchdialect://host/db",
    ],
)
def test_an_unreachable_database_is_one_problem(url: str) -> None:
    report = validate(sample(), db=url)
    assert [p.code for p in report.problems] == ["WF112"]
    message = report.problems[0].message
    assert "cannot read the database" in message
    assert "secret" not in message
    assert "Traceback" not in message
    assert "\n" not in message
    assert report.workflows["invoice"].name == "invoice"


@pytest.mark.parametrize(
    ("sqltext", "expected"),
    [
        ("status IN ('a', 'b''x', 'c')", {"a", "b'x", "c"}),
        ("\"status\" IN ('a','b')", {"a", "b"}),
        ("status in ('a')", {"a"}),
        (
            "status::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])",
            {"a", "b"},
        ),
        (
            "((status)::text = ANY ((ARRAY['a'::character varying(20), 'b'::varchar])::text[]))",
            {"a", "b"},
        ),
        ("status = 'a'::text", {"a"}),
        ("(status = 'a') OR (status = 'b')", {"a", "b"}),
        ("STATUS IN ('a')", {"a"}),
        ("status NOT IN ('a')", None),
        ("id > 0 AND status <> 'z'::text", None),
        ("status IN ('a') AND version > 0", None),
        ("lower(status) IN ('a')", None),
        ("state IN ('a')", None),
        ("status IS NOT NULL", None),
        ("length(status) > 0", None),
    ],
)
def test_reading_a_check_constraint(sqltext: str, expected: set[str] | None) -> None:
    assert allowed_values(sqltext, "status") == expected
