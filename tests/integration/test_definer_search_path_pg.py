"""A plain role's temporary table cannot divert an outbox event or an audit row (issue 16).

The outbox trigger function is ``SECURITY DEFINER``; with the session's ``search_path`` an
unqualified ``INSERT INTO workflow_outbox`` landed in the role's own temporary table of that
name, and the manual history row had no row in the real outbox. Both trigger functions now
qualify their tables with the installing schema and run with ``pg_catalog, pg_temp``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.roles import login_role
from tests.unit.engine.test_timers_wired import WAITING
from wfnb.engine import Engine
from wfnb.spec import Workflow

pytestmark = pytest.mark.pg

OUTBOX_COLUMNS = (
    "history_id bigint, workflow text, entity_id text, tenant_id text, event jsonb, "
    "created_at timestamptz, attempts int"
)
HISTORY_COLUMNS = (
    "id bigserial, workflow text, entity_table text, entity_id text, tenant_id text, "
    "kind text, from_status text, to_status text, requester_type text, user_id text, "
    "correlation_id text, source text, config_hash text, config_rev text, metadata jsonb, "
    "changed_at timestamptz, entity_version int"
)


@pytest.fixture
def plain_role(pg_url: str) -> Iterator[str]:
    """The engine and its audit trigger installed; a non-superuser role that may write."""
    engine = Engine([Workflow.model_validate(WAITING)], pg_url)
    try:
        with engine.db.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE applications "
                    "(id TEXT PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL)"
                )
            )
            conn.execute(sa.text("INSERT INTO applications VALUES ('a1', 'waiting', 0)"))
        engine.install(audit_trigger=True)
    finally:
        engine.dispose()
    with login_role(pg_url, "wfnb_tmp", "SELECT, INSERT, UPDATE", "USAGE, SELECT") as url:
        yield url


def _update_by_hand(url: str, temp_table: str) -> None:
    role = sa.create_engine(url)
    try:
        with role.begin() as conn:
            conn.execute(sa.text(temp_table))
            conn.execute(sa.text("UPDATE applications SET status = 'done' WHERE id = 'a1'"))
    finally:
        role.dispose()


def _manual_rows(pg_url: str) -> list[tuple[int, int | None]]:
    admin = sa.create_engine(pg_url)
    try:
        with admin.connect() as conn:
            sql = (
                "SELECT h.id, o.history_id FROM workflow_history h "
                "LEFT JOIN workflow_outbox o ON o.history_id = h.id WHERE h.kind = 'manual'"
            )
            return [(r[0], r[1]) for r in conn.execute(sa.text(sql))]
    finally:
        admin.dispose()


def test_a_temporary_outbox_table_does_not_divert_the_event(pg_url: str, plain_role: str) -> None:
    _update_by_hand(plain_role, f"CREATE TEMP TABLE workflow_outbox ({OUTBOX_COLUMNS})")
    rows = _manual_rows(pg_url)
    assert len(rows) == 1
    history_id, outbox_id = rows[0]
    assert outbox_id == history_id


def test_a_temporary_history_table_does_not_divert_the_audit_row(
    pg_url: str, plain_role: str
) -> None:
    _update_by_hand(plain_role, f"CREATE TEMP TABLE workflow_history ({HISTORY_COLUMNS})")
    rows = _manual_rows(pg_url)
    assert len(rows) == 1
    assert rows[0][1] == rows[0][0]


def test_both_trigger_functions_pin_their_search_path(pg_url: str, plain_role: str) -> None:
    admin = sa.create_engine(pg_url)
    try:
        with admin.connect() as conn:
            found = dict(
                conn.execute(
                    sa.text(
                        "SELECT proname, array_to_string(proconfig, ',') FROM pg_proc "
                        "WHERE proname IN ('wfnb_outbox_record', 'wfnb_record_manual') "
                        "AND pronamespace = current_schema()::regnamespace"
                    )
                ).all()
            )
    finally:
        admin.dispose()
    assert found == {
        "wfnb_outbox_record": "search_path=pg_catalog, pg_temp",
        "wfnb_record_manual": "search_path=pg_catalog, pg_temp",
    }
