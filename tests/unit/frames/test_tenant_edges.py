"""Tenant ids at the edges: ``""`` is a tenant like any other (its rows only, none of the
others'), and a tenant id PostgreSQL cannot take is WF208 wherever a tenant is set."""

from __future__ import annotations

import pytest

from tests.unit.sandbox.sources import SECRET, TENANTED, TENANTED_WFS, fill_tenants
from wfnb import frames
from wfnb.engine import Engine
from wfnb.exceptions import InvalidPayloadError


def test_the_empty_tenant_sees_no_other_tenants_entities(db_url: str) -> None:
    fill_tenants(db_url)
    assert frames.entities(db_url, TENANTED, tenant_id="").empty
    everyone = frames.entities(db_url, TENANTED)
    assert SECRET in everyone.to_string()  # the rows are there, for no tenant filter


@pytest.mark.parametrize("tenant", ["acme\x00", 5], ids=["nul", "int"])
def test_a_tenant_postgres_cannot_take_is_wf208_where_a_tenant_is_set(
    pg_url: str, tenant: object
) -> None:
    fill_tenants(pg_url)
    engine = Engine(TENANTED_WFS, pg_url)
    try:
        with pytest.raises(InvalidPayloadError) as recovered:
            engine.recover_claims(tenant_id=tenant)  # type: ignore[arg-type]
        with pytest.raises(InvalidPayloadError) as read:
            frames.history(pg_url, "ticket", tenant_id=tenant)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert recovered.value.code == read.value.code == "WF208"
