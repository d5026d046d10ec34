"""Who did what: every step a person runs in a simulation carries their ``user_id``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.unit.simulation.conftest import history
from wfnb.examples.energy import janitors, schema
from wfnb.exceptions import WfnbUsageError
from wfnb.simulation import Scenario, build_demo, simulate
from wfnb.simulation.energy import STAFF, energy_scenario
from wfnb.validation import load_workflows

START = datetime(2026, 5, 1, tzinfo=UTC)
HUMAN = "requester_type IN ('user', 'admin')"


def _sql(db: sa.Engine, query: str) -> list[Any]:
    with db.connect() as conn:
        return list(conn.execute(sa.text(query)).all())


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder: Path = tmp_path_factory.mktemp("who")
    url = f"sqlite:///{folder / 'demo.db'}"
    build_demo(url, users=120, months=3, progress=False)
    return url


def _demo_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("small_demo"))
    url = str(request.getfixturevalue("pg_url"))
    build_demo(url, users=120, months=3, progress=False)
    return url


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def demo_url(request: pytest.FixtureRequest) -> str:
    return _demo_url(request)


def test_every_step_a_person_runs_in_the_demo_names_who_ran_it(demo_url: str) -> None:
    db = sa.create_engine(demo_url)
    try:
        ((human, anonymous),) = _sql(
            db,
            f"SELECT count(*), sum(CASE WHEN user_id IS NULL OR user_id = '' THEN 1 ELSE 0 END)"
            f" FROM workflow_history WHERE {HUMAN}",
        )
        assert human > 300
        assert anonymous == 0
        by_admin = dict(
            _sql(
                db,
                "SELECT user_id, count(*) FROM workflow_history WHERE requester_type = 'admin'"
                " GROUP BY user_id",
            )
        )
        assert set(by_admin) == {s["id"] for s in STAFF}
        by_user = _sql(
            db,
            "SELECT user_id, count(*) FROM workflow_history WHERE requester_type = 'user'"
            " GROUP BY user_id",
        )
        assert len(by_user) > 50
    finally:
        db.dispose()


def test_a_member_runs_their_own_registration_and_founds_groups_of_their_community(
    small_demo: str,
) -> None:
    db = sa.create_engine(small_demo)
    try:
        rows = history(db)
        users = rows[rows.requester_type == "user"]
        own = users[users.workflow == "user_registration"]
        assert len(own) > 0
        assert (own.user_id == own.entity_id).all()
        groups = users[users.workflow == "sharing_group"]
        assert len(groups) > 0
        members = dict(_sql(db, "SELECT id, tenant_id FROM users"))
        assert groups.user_id.isin(list(members)).all()
        assert (groups.user_id.map(members) == groups.tenant_id).all()
    finally:
        db.dispose()


def test_an_admin_acts_only_for_the_communities_they_look_after(small_demo: str) -> None:
    db = sa.create_engine(small_demo)
    try:
        pairs = _sql(
            db,
            "SELECT DISTINCT user_id, tenant_id FROM workflow_history"
            " WHERE requester_type = 'admin' AND tenant_id IS NOT NULL",
        )
        allowed = {s["id"]: set(s.get("tenants", ())) for s in STAFF}
        assert pairs
        assert all(tenant in allowed[user] for user, tenant in pairs)
    finally:
        db.dispose()


def test_a_permanent_failure_of_a_person_s_step_leads_to_who_ran_it(small_demo: str) -> None:
    # The failure log has no user_id column: its correlation id leads to the history row.
    db = sa.create_engine(small_demo)
    try:
        found = _sql(
            db,
            "SELECT f.entity_id, h.user_id FROM workflow_permanent_failure_log f"
            " JOIN workflow_history h ON h.correlation_id = f.correlation_id"
            " AND h.entity_id = f.entity_id AND h.to_status = f.status"
            f" WHERE h.{HUMAN}",
        )
        assert found
        assert all(user for _, user in found)
    finally:
        db.dispose()


def _energy(url: str, scenario: Scenario) -> pd.DataFrame:
    db = sa.create_engine(url)
    schema.create_schema(db)
    simulate(
        db,
        load_workflows([*schema.example_workflows().values()]),
        scenario,
        start=START,
        until=timedelta(days=61),
        seed=11,
        progress=False,
        janitors=janitors(),
    )
    rows = history(db).drop(columns=["id", "duration_ms"])
    db.dispose()
    return rows


def _nobody(scenario: Scenario) -> Scenario:
    flows = {name: ws.model_copy(update={"actors": {}}) for name, ws in scenario.workflows.items()}
    return scenario.model_copy(update={"staff": (), "workflows": flows})


def test_naming_who_acts_leaves_what_happens_unchanged(tmp_path: Path) -> None:
    scenario = energy_scenario(users=30, groups=3, months=2)
    named = _energy(f"sqlite:///{tmp_path / 'named.db'}", scenario)
    anonymous = _energy(f"sqlite:///{tmp_path / 'anonymous.db'}", _nobody(scenario))
    assert anonymous.user_id.isna().all()
    assert named.user_id.notna().sum() > 100
    without = named.drop(columns=["user_id", "metadata"])
    pd.testing.assert_frame_equal(without, anonymous.drop(columns=["user_id", "metadata"]))

    def dump(meta: dict[str, object]) -> str:  # the recorded payloads: the same ones, too
        return json.dumps({k: v for k, v in meta.items() if k != "armed_by"})  # a user

    assert named.metadata.map(dump).tolist() == anonymous.metadata.map(dump).tolist()
    armed = named.metadata.map(lambda m: m.get("armed_by"))
    assert armed.notna().any()  # a timer keeps who armed it, and runs as nobody
    assert named.user_id[named.kind == "timer"].isna().all()


def test_an_actor_template_naming_a_missing_field_is_a_usage_error() -> None:
    scenario = Scenario.model_validate({"workflows": {"ticket": {"actors": {"user": "{owner}"}}}})
    with pytest.raises(WfnbUsageError, match="'owner'"):
        scenario.workflows["ticket"].actors_of({"id": "t_1", "tenant": ""})
    assert scenario.workflows["ticket"].actors_of({"id": "t_1", "owner": None}) == {}


def test_staff_of_the_tenant_come_first_and_anyone_covers_the_rest() -> None:
    import random

    scenario = Scenario.model_validate({"staff": list(STAFF)})
    rng = random.Random(1)
    picks = {scenario.pick_staff("admin", "community_c", rng) for _ in range(50)}
    assert picks == {"admin:dave"}
    anyone = {scenario.pick_staff("admin", None, rng) for _ in range(200)}
    assert anyone == {s["id"] for s in STAFF}
    assert scenario.pick_staff("system", "community_a", rng) is None
