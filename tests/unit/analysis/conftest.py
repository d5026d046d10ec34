"""Fixtures of the analysis tests: a small demo database on each dialect, built once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import WORKFLOWS
from wfnb.engine import Engine
from wfnb.engine.usecases import Result, StepContext
from wfnb.simulation.demo import build_demo
from wfnb.timers import VirtualClock
from wfnb.validation import load_workflows


def _plant_janitor_rows(url: str) -> None:
    """Two invoices claimed by ``send`` whose process dies; a janitor moves one on, one back."""
    wfs = load_workflows([WORKFLOWS])
    db = sa.create_engine(url)
    with db.connect() as conn:
        last = conn.execute(sa.text("SELECT max(changed_at) FROM workflow_history")).scalar_one()
        drafts = conn.execute(
            sa.text("SELECT id, tenant_id FROM invoices WHERE status = 'draft' ORDER BY id")
        ).all()
    start = datetime.fromisoformat(last) if isinstance(last, str) else last
    clock = VirtualClock(start if start.tzinfo else start.replace(tzinfo=UTC))
    engine = Engine(wfs, db, clock=clock)
    approved = []
    for entity_id, tenant in drafts:
        done = engine.execute_step(
            "invoice", str(entity_id), "system", step="approve", tenant_id=tenant
        )
        if done.to_status == "approved":
            approved.append((entity_id, tenant))
        if len(approved) == 2:
            break
    assert len(approved) == 2, "the demo leaves draft invoices to approve"

    def die(_ctx: StepContext) -> Result:
        raise SystemExit  # escapes like a crash: the claim stays committed

    engine.use_cases.override(wfs["invoice"], "send_invoice", die)
    for entity_id, tenant in approved:
        with pytest.raises(SystemExit):
            engine.execute_step("invoice", str(entity_id), "system", step="send", tenant_id=tenant)
    engine.use_cases.override(wfs["invoice"], "send_invoice", None)
    forward = str(approved[0][0])
    engine.register_janitor(
        "invoicing",
        lambda ctx: Result.ok() if ctx.entity_id == forward else Result.reject("not sent"),
    )
    clock.advance(timedelta(hours=1))
    for tenant in {t for _, t in approved}:
        engine.recover_claims(tenant_id=tenant)
    engine.dispose()
    db.dispose()


@pytest.fixture(scope="package", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A small demo (60 members, 3 months) with two janitor outcomes, on either dialect."""
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("heat")
        url = f"sqlite:///{folder / 'demo.db'}"
        build_demo(url, users=60, months=3, progress=False)
        _plant_janitor_rows(url)
        yield url
        return
    base = request.getfixturevalue("pg_database")
    schema = f"h_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    text = url.render_as_string(hide_password=False)
    build_demo(text, users=60, months=3, progress=False)
    _plant_janitor_rows(text)
    try:
        yield text
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
