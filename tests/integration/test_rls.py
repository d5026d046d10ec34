"""Row-level security with a real non-superuser role: a tenant sees only its own history."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.integration.conftest import PgBuild
from wfnb import testing
from wfnb.engine import Engine
from wfnb.exceptions import StoreError

pytestmark = pytest.mark.pg
TENANTED = {"table": "tickets", "tenant_column": "tenant_id"}


@pytest.fixture
def app_role(pg_url: str) -> Iterator[str]:
    """A LOGIN role without superuser or BYPASSRLS, granted on the test schema; its URL."""
    role = f"wfnb_app_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        for ddl in (
            f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS',
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        ):
            conn.execute(sa.text(ddl))
    url = sa.make_url(pg_url).set(username=role, password=None)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()


@pytest.fixture
def two_tenants(pg_build: PgBuild) -> Engine:
    engine, wf = pg_build(entity=TENANTED)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme")
    testing.insert_entity(engine.db, wf, "b1", tenant_id="globex")
    assert engine.execute_step("ticket", "a1", "admin", tenant_id="acme").ok
    assert engine.execute_step("ticket", "b1", "admin", tenant_id="globex").ok
    return engine


def visible(url: str, tenant: str | None) -> list[str]:
    """Tenants of the history rows the role sees with ``app.tenant_id`` = ``tenant``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if tenant is not None:
                conn.execute(sa.select(sa.func.set_config("app.tenant_id", tenant, True)))
            found = conn.execute(sa.text("SELECT tenant_id FROM workflow_history ORDER BY id"))
            return [r[0] for r in found]
    finally:
        engine.dispose()


def test_a_tenant_sees_only_its_own_history_rows(two_tenants: Engine, app_role: str) -> None:
    assert visible(app_role, "acme") == ["acme"]
    assert visible(app_role, "globex") == ["globex"]
    assert visible(app_role, None) == []  # no tenant set: no tenant's rows (fail closed)


def test_the_engine_as_the_app_role_writes_within_its_tenant(
    two_tenants: Engine, app_role: str
) -> None:
    wf = two_tenants.workflow("ticket")
    engine = Engine([wf], app_role)
    try:
        result = engine.execute_step("ticket", "a1", "system", tenant_id="acme")
        assert result.to_status == "resolved", result
        assert engine.execute_step("ticket", "b1", "system", tenant_id="acme").error.code == "WF201"  # type: ignore[union-attr]
        assert visible(app_role, "acme") == ["acme"] * 3  # submit, then claimed + initiated
    finally:
        engine.dispose()


def test_a_row_for_another_tenant_is_refused_by_the_policy(
    two_tenants: Engine, app_role: str
) -> None:
    from wfnb.store import HISTORY, Store

    store = Store(app_role)
    try:
        with (
            pytest.raises(StoreError, match="row-level security"),
            store.transaction("acme") as conn,
        ):
            conn.execute(
                sa.insert(HISTORY),
                [{"workflow": "ticket", "entity_table": "tickets", "entity_id": "b1",
                  "tenant_id": "globex", "kind": "observed", "to_status": "closed",
                  "config_hash": "x", "metadata": {}, "changed_at": datetime.now(UTC)}],
            )  # fmt: skip
    finally:
        store.dispose()
