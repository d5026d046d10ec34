"""The demo dataset: everything it plants is there for an analyst to find, and only that."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.unit.simulation.conftest import history
from wfnb.examples.energy import schema
from wfnb.exceptions import WfnbUsageError
from wfnb.simulation.demo import MANIFEST, DemoReport, build_demo, demo_configs


def test_the_invoice_history_carries_the_old_and_the_current_config(
    demo: DemoReport, demo_db: sa.Engine
) -> None:
    rows = history(demo_db)
    hashes = set(rows[rows.workflow == "invoice"].config_hash)
    current = schema.example_workflows()["invoices"].config_hash
    assert hashes == {current, *demo.old_configs}
    assert len(hashes) == 2
    for other in ("user_registration", "sharing_group", "billing_period"):
        assert set(rows[rows.workflow == other].config_hash) == {
            w.config_hash for w in schema.example_workflows().values() if w.name == other
        }
    old_rows = rows[rows.config_hash.isin(demo.old_configs)]
    assert (pd.to_datetime(old_rows.changed_at, utc=True) <= demo.switched_at).all()


def test_the_old_config_is_findable_by_its_hash(demo: DemoReport, demo_db: sa.Engine) -> None:
    (old_hash,) = demo.old_configs
    recorded = demo_configs(demo_db)
    assert set(recorded) == {old_hash}
    assert recorded[old_hash].step("cancel_approved") is None
    assert set(demo_configs()) == {old_hash}  # rebuilt from today's files: the same hash


def _drifted(db: sa.Engine, table: sa.Table, workflow: str) -> set[str]:
    rows = history(db)
    last = rows[rows.workflow == workflow].groupby("entity_id").to_status.last()
    with db.connect() as conn:
        now = {r.id: r.status for r in conn.execute(sa.select(table.c.id, table.c.status))}
    return {entity for entity, status in now.items() if last.get(entity) != status}


def test_exactly_the_planted_entities_disagree_with_their_history(
    demo: DemoReport, demo_db: sa.Engine
) -> None:
    assert len(demo.planted_ids("user_registration")) == 3
    assert len(demo.planted_ids("invoice")) == 2
    assert _drifted(demo_db, schema.users, "user_registration") == demo.planted_ids(
        "user_registration"
    )
    assert _drifted(demo_db, schema.invoices, "invoice") == demo.planted_ids("invoice")
    with demo_db.connect() as conn:
        manifest = conn.execute(
            sa.select(MANIFEST.c.entity_id).where(MANIFEST.c.kind == "manual_update")
        ).scalars()
        assert set(manifest) == {m.entity_id for m in demo.manual_updates}


def test_the_demo_has_failures_timers_and_observations(demo_db: sa.Engine) -> None:
    rows = history(demo_db)
    kinds = set(rows.kind)
    assert {"timer", "observed", "rejected", "claimed", "initiated"} <= kinds
    with demo_db.connect() as conn:
        failures = conn.execute(
            sa.text("SELECT count(*) FROM workflow_permanent_failure_log")
        ).scalar_one()
    assert failures > 0
    assert set(rows.tenant_id.dropna()) >= {"community_a", "community_b"}
    assert (rows[rows.workflow == "billing_period"].kind == "timer").any()


def test_a_demo_refuses_a_database_that_has_a_history(demo: DemoReport) -> None:
    with pytest.raises(WfnbUsageError, match="already holds"):
        build_demo(demo.db_url, users=5, months=2, progress=False)


def test_a_database_without_a_demo_manifest_has_no_old_configs(tmp_path: Path) -> None:
    assert demo_configs(f"sqlite:///{tmp_path}/empty.db") == {}
