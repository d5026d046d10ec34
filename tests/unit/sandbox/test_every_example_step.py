"""Every step of the example workflows dry-runs on demo data without naming any table.

The issue's case: ``cancel``, ``send``, ``send_payment_reminder`` and user_registration's
``approve`` failed in a dry-run (WF206, "attempt to write a readonly database") because
their use cases write module tables (``notifications``, ``hub_requests``) nobody named in
``tables=``. A dry-run now shadows what its use cases write (ADR 0064). Each step runs
on an entity of a small demo (built once per dialect) at the step's status, as a
requester it allows, as the entity's tenant; the source's checksum must not move.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import wfnb.sandbox
from tests.unit.sandbox.sources import checksum
from wfnb.examples.energy import schema
from wfnb.sandbox import dry_run
from wfnb.simulation.demo import build_demo
from wfnb.spec import Step
from wfnb.validation import load_workflows

WFS = load_workflows([*schema.example_workflows().values()])
STEPS = [(wf.name, step.key) for wf in WFS.values() for step in wf.steps]
WRITES_MODULE_TABLES = {
    ("invoice", "cancel"),
    ("invoice", "send"),
    ("invoice", "send_payment_reminder"),
    ("user_registration", "approve"),
}
"""The issue's steps: their use cases write notifications / hub_requests."""
BROKEN = {"WF206", "WF300"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def demo_source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A 3-month demo with 60 members, 12 groups, on either dialect (built once per module)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        build_demo(url, users=60, groups=12, months=3, progress=False)
        _fill_every_step_status(url)
        yield url
        wfnb.sandbox.hosts.close_all()
        return
    database = str(request.getfixturevalue("pg_database"))
    name = f"d_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.make_url(database).update_query_dict({"options": f"-csearch_path={name}"})
    rendered = url.render_as_string(hide_password=False)
    try:
        build_demo(rendered, users=60, groups=12, months=3, progress=False)
        _fill_every_step_status(rendered)
        yield rendered
    finally:
        wfnb.sandbox.hosts.close_all()  # the kept sandboxes' sessions, before the drop
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def _fill_every_step_status(db: str) -> None:
    """Move one entity (by hand, as the demo's planted updates do) into each status a step
    starts from that the small demo left empty; donors come from the fullest status."""
    engine = sa.create_engine(db)
    try:
        with engine.begin() as conn:
            for wf in WFS.values():
                e = wf.entity
                table = sa.Table(e.table, sa.MetaData(), autoload_with=conn)
                status, key = table.c[e.status_column], table.c[e.id_column]
                needed = list(dict.fromkeys(s.status for s in wf.steps))
                rows = conn.execute(sa.select(key, status).order_by(key)).all()
                by_status: dict[str, list[object]] = {}
                for row in rows:
                    by_status.setdefault(row[1], []).append(row[0])
                for target in [x for x in needed if x not in by_status]:
                    # a donor from the fullest status (it keeps at least one entity)
                    fullest = max(by_status, key=lambda x: len(by_status[x]), default=None)
                    if fullest is None or len(by_status[fullest]) < 2:
                        break
                    donor = by_status[fullest].pop()
                    conn.execute(sa.update(table).where(key == donor).values({status: target}))
                    by_status[target] = [donor]
    finally:
        engine.dispose()


def _step(workflow: str, key: str) -> Step:
    return next(s for s in WFS[workflow].steps if s.key == key)


def _entity(db: str, workflow: str, status: str) -> tuple[str, str | None] | None:
    """An entity of ``workflow`` at ``status`` and its tenant, or None."""
    entity = WFS[workflow].entity
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            table = sa.Table(entity.table, sa.MetaData(), autoload_with=conn)
            tenant = table.c[entity.tenant_column] if entity.tenant_column else sa.null()
            row = conn.execute(
                sa.select(table.c[entity.id_column], tenant)
                .where(table.c[entity.status_column] == status)
                .order_by(table.c[entity.id_column])
                .limit(1)
            ).first()
    finally:
        engine.dispose()
    return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))


def test_the_issue_steps_have_entities_in_the_demo(demo_source: str) -> None:
    """The steps the issue names are really exercised below (not skipped for lack of data)."""
    for workflow, key in WRITES_MODULE_TABLES:
        status = _step(workflow, key).status
        assert _entity(demo_source, workflow, status) is not None, (workflow, key)


@pytest.mark.parametrize(("workflow", "key"), STEPS, ids=[f"{w}:{k}" for w, k in STEPS])
def test_every_example_step_dry_runs_without_naming_tables(
    demo_source: str, workflow: str, key: str
) -> None:
    step = _step(workflow, key)
    found = _entity(demo_source, workflow, step.status)
    if found is None:
        pytest.skip(f"no {workflow} at {step.status!r} in the small demo")
    entity_id, tenant = found
    requester = (step.requester_types or ("admin",))[0]
    before = checksum(demo_source)
    dr = dry_run(demo_source, WFS, workflow, entity_id, requester, step=key, tenant_id=tenant)
    codes = {r.error.code for r in (dr.result, *dr.result.chain) if r.error is not None}
    assert not codes & BROKEN, dr.why
    assert checksum(demo_source) == before
