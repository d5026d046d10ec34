"""Arrow reads under row-level security (ADR 0110): the ADBC mirror logs in as the same
non-superuser role and carries ``app.tenant_id``, so a tenant sees only its own rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.test_rls import TENANTED, app_role, two_tenants  # noqa: F401  # fixtures
from wfnb import frames
from wfnb.engine import Engine
from wfnb.frames.reading import connect
from wfnb.store import arrow

pytestmark = pytest.mark.pg


def test_the_mirror_has_the_role_path_and_tenant_of_the_read(
    two_tenants: Engine,  # noqa: F811
    app_role: str,  # noqa: F811
) -> None:
    with connect(app_role, tenant_id="acme") as conn, arrow.mirror(conn) as adbc:
        assert adbc is not None
        want = conn.execute(
            sa.text("SELECT current_user, current_setting('search_path'), "
                    "current_setting('app.tenant_id', true)")
        ).one()  # fmt: skip
        with adbc.cursor() as cur:
            cur.execute("SELECT current_user, current_setting('search_path'), "
                        "current_setting('app.tenant_id', true)")  # fmt: skip
            assert tuple(cur.fetchone()) == tuple(want)


def test_a_tenant_reads_only_its_rows_through_arrow(
    two_tenants: Engine,  # noqa: F811
    app_role: str,  # noqa: F811
) -> None:
    acme = frames.history(app_role, tenant_id="acme", progress=False)
    assert set(acme["tenant_id"]) == {"acme"}
    # RLS, not the WHERE clause: with no tenant the role sees no tenant's rows at all
    assert len(frames.transition_counts(app_role, "ticket")) == 0
    assert frames.transition_counts(app_role, "ticket", tenant_id="globex")["count"].sum() > 0
