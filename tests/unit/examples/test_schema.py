"""The example schema: it creates on SQLite and PostgreSQL and CHECKs exactly the statuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.examples.energy import schema
from wfnb.spec import Workflow, add_duration, parse_duration

FACTORIES: dict[str, Callable[..., str]] = {
    "users": schema.insert_user,
    "sharing_groups": schema.insert_sharing_group,
    "invoices": schema.insert_invoice,
    "billing_periods": schema.insert_billing_period,
}


def _insert(table: str, conn: sa.Connection, n: int, **values: Any) -> str:
    if table == "billing_periods":  # one period per month: period_start is unique
        values["period_start"] = date(2030 + n // 12, n % 12 + 1, 1)
    return FACTORIES[table](conn, **values)


def test_workflows_dir_is_the_repo_folder() -> None:
    assert schema.workflows_dir() == WORKFLOWS


def test_schema_creates_idempotently_with_every_status_allowed(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    schema.create_schema(engine)
    schema.create_schema(engine)  # a second run is a no-op
    inspector = sa.inspect(engine)
    assert set(schema.metadata.tables) <= set(inspector.get_table_names())
    with engine.begin() as conn:
        for table, wf in schema.example_workflows().items():
            for n, status in enumerate(wf.status_types):
                _insert(table, conn, n, status=status)
        counts = {
            t: conn.execute(sa.select(sa.func.count()).select_from(schema.metadata.tables[t]))
            for t in FACTORIES
        }
        assert {t: c.scalar_one() for t, c in counts.items()} == {
            t: len(wf.status_types) for t, wf in schema.example_workflows().items()
        }
    engine.dispose()


@pytest.mark.parametrize("table", sorted(FACTORIES))
def test_status_check_refuses_undeclared_statuses(db_url: str, table: str) -> None:
    engine = sa.create_engine(db_url)
    schema.create_schema(engine)
    declared = set(schema.example_workflows()[table].status_types)
    foreign = {s for wf in schema.example_workflows().values() for s in wf.status_types}
    for n, status in enumerate(sorted((foreign - declared) | {"not_a_status"})):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            _insert(table, conn, n, status=status)
    engine.dispose()


def test_status_check_constraint_is_named_and_lists_the_statuses(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    schema.create_schema(engine)
    inspector = sa.inspect(engine)
    for table, wf in schema.example_workflows().items():
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
        sqltext = checks[schema.status_check_name(table)]
        assert all(f"'{s}'" in sqltext for s in wf.status_types)
    engine.dispose()


def test_factories_insert_at_the_initial_status(conn: sa.Connection) -> None:
    for table, wf in schema.example_workflows().items():
        entity_id = FACTORIES[table](conn)
        assert entity_id.startswith(schema.ID_PREFIXES[table] + "_")
        t = schema.metadata.tables[table]
        row = conn.execute(sa.select(t).where(t.c.id == entity_id)).mappings().one()
        assert (row["status"], row["version"]) == (wf.initial_status, 1)


def test_factory_overrides_win(conn: sa.Connection) -> None:
    user_id = schema.insert_user(conn, id="usr_fixed", email="x@example.org", status="active")
    row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).one()
    assert (row.id, row.email, row.status) == ("usr_fixed", "x@example.org", "active")


@pytest.mark.parametrize("month", range(1, 13))
def test_the_calendar_close_timer_fires_at_the_period_end(
    conn: sa.Connection, workflows: dict[str, Workflow], month: int
) -> None:
    period_id = schema.insert_billing_period(conn, period_start=date(2026, month, 1))
    row = conn.execute(
        sa.select(schema.billing_periods).where(schema.billing_periods.c.id == period_id)
    ).one()
    (timer,) = [t for t in workflows["billing_period"].timers if t.step == "close"]
    opened = datetime.combine(row.period_start, datetime.min.time(), UTC)
    assert add_duration(opened, timer.after).date() == row.period_end


def test_invoice_payment_term_matches_the_due_timer(workflows: dict[str, Workflow]) -> None:
    from wfnb.examples.energy.invoicing import PAYMENT_TERM

    (due,) = [t for t in workflows["invoice"].timers if t.key == "due"]
    assert parse_duration(due.after) == PAYMENT_TERM
