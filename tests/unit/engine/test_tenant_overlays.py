"""Tenant overlays at run time: a tenant's entity runs its merged config, on both dialects.

``acme`` has an overlay (a 2-day reminder instead of 7, an action on ``finish``, no
validation on ``park`` for users); ``globex`` has none and runs the base.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.unit.engine.test_timers_wired import WAITING
from wfnb import testing
from wfnb.analysis.conformance import conformance
from wfnb.engine import Engine
from wfnb.exceptions import ConfigError
from wfnb.timers import InMemoryQueue, VirtualClock
from wfnb.validation import load_workflows

START = datetime(2026, 1, 1, 9, tzinfo=UTC)

BASE: dict[str, Any] = copy.deepcopy(WAITING)
BASE["entity"] = {"table": "applications", "tenant_column": "tenant_id"}
BASE["steps"][2]["validation"] = "check"  # park: checked, unless acme's user parks

ACME = {
    "timers": {"reminder": {"after": "P2D"}},
    "steps": {
        "finish": {"action": "act"},
        "park": {"overrides": {"user": {"validation": None}}},
    },
}


def folder(tmp_path: Path, overlay: Any = ACME) -> Path:
    (tmp_path / "application.json").write_text(json.dumps(BASE))
    acme = tmp_path / "tenants" / "acme"
    acme.mkdir(parents=True)
    (acme / "application.json").write_text(json.dumps(overlay))
    return tmp_path


@pytest.fixture
def setup(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, InMemoryQueue]]:
    clock = VirtualClock(START)
    queue = InMemoryQueue(clock)
    wfs = load_workflows(folder(tmp_path))
    engine = Engine(wfs, db_url, queue=queue, clock=clock)
    engine.install()
    wf = wfs["application"]
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "a1", tenant_id="acme")
    testing.insert_entity(engine.db, wf, "g1", tenant_id="globex")
    testing.reset_calls()
    try:
        yield engine, queue
    finally:
        engine.dispose()


def history(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    sql = "SELECT entity_id, tenant_id, step_key, config_hash FROM workflow_history ORDER BY id"
    with engine.db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]  # type: ignore[misc]


def test_the_merged_hash_differs_and_is_on_the_tenants_rows(setup) -> None:  # type: ignore[no-untyped-def]
    engine, _ = setup
    base = engine.workflow("application")
    merged = base.for_tenant("acme")
    assert merged.config_hash != base.config_hash
    assert merged.tenant == "acme"
    assert base.for_tenant("globex") is base
    assert engine.execute_step("application", "a1", "user", step="finish", tenant_id="acme").ok
    assert engine.execute_step("application", "g1", "user", step="finish", tenant_id="globex").ok
    assert history(engine) == [
        ("a1", "acme", "finish", merged.config_hash),
        ("g1", "globex", "finish", base.config_hash),
    ]
    assert testing.CALLS[("act", "a1")] == 1  # acme's finish runs the overlay's action
    assert testing.CALLS[("act", "g1")] == 0


def test_a_call_without_a_tenant_uses_the_entitys_tenants_config(setup) -> None:  # type: ignore[no-untyped-def]
    engine, _ = setup
    assert engine.execute_step("application", "a1", "user", step="park").ok  # a system call
    assert engine.execute_step("application", "g1", "user", step="park").ok
    base = engine.workflow("application")
    hashes = [r[3] for r in history(engine)]
    assert hashes == [base.for_tenant("acme").config_hash, base.config_hash]
    assert testing.CALLS[("check", "a1")] == 0  # acme's users park unchecked (null removes)
    assert testing.CALLS[("check", "g1")] == 1


def test_a_tenants_timer_arms_with_its_overridden_duration(setup) -> None:  # type: ignore[no-untyped-def]
    engine, queue = setup
    assert engine.created("application", "a1", tenant_id="acme").ok
    assert engine.created("application", "g1", tenant_id="globex").ok
    due = sorted((j.entity_id, j.timer_key, j.due_at) for j in queue.pending())
    assert due == [
        ("a1", "deadline", START + timedelta(days=30)),
        ("a1", "reminder", START + timedelta(days=2)),
        ("g1", "deadline", START + timedelta(days=30)),
        ("g1", "reminder", START + timedelta(days=7)),
    ]
    queue.run_until(START + timedelta(days=3))
    merged = engine.workflow("application").for_tenant("acme")
    assert history(engine)[-1] == ("a1", "acme", "remind", merged.config_hash)


def test_a_batch_over_two_tenants_refuses_the_overlay_tenants_entity(setup) -> None:  # type: ignore[no-untyped-def]
    engine, _ = setup
    results = engine.execute_batch("application", ["a1", "g1"], "user", step="finish")
    assert results[0].error is not None
    assert results[0].error.code == "WF209"
    assert results[1].ok
    alone = engine.execute_batch("application", ["a1"], "user", step="finish")
    assert alone[0].ok
    merged = engine.workflow("application").for_tenant("acme")
    assert history(engine)[-1][3] == merged.config_hash


def test_a_mixed_tenant_history_conforms(setup, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, queue = setup
    for entity, tenant in (("a1", "acme"), ("g1", "globex")):
        assert engine.created("application", entity, tenant_id=tenant).ok
    queue.run_until(START + timedelta(days=3))  # acme's 2-day reminder only
    assert engine.execute_step("application", "g1", "user", step="park", tenant_id="globex").ok
    report = conformance(db_url, engine.workflows, workflows_dir=[], now=START + timedelta(days=3))
    assert report.rows == 4
    assert report.deviations.empty, report.deviations
    assert report.fitness == 1.0
    hashes = set(report.by_config["config_hash"])
    base = engine.workflow("application")
    assert hashes == {base.config_hash, base.for_tenant("acme").config_hash}


def test_a_bad_overlay_stops_the_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workflows(folder(tmp_path, {"timers": {"remindr": {"after": "P2D"}}}))
    (problem,) = caught.value.problems
    assert problem.code == "WF114"
    assert problem.file.endswith("tenants/acme/application.json")
    assert problem.pointer == "/timers/remindr"


def test_a_system_creation_and_a_recovery_pass_use_the_entitys_tenant(
    setup,  # type: ignore[no-untyped-def]
    db_url: str,
    tmp_path: Path,
) -> None:
    engine, queue = setup
    assert engine.created("application", "a1").ok  # no tenant given: the entity's
    merged = engine.workflow("application").for_tenant("acme")
    assert history(engine) == [("a1", "acme", None, merged.config_hash)]
    reminder = {j.timer_key: j.due_at for j in queue.pending()}["reminder"]
    assert reminder == START + timedelta(days=2)
    clock = VirtualClock(START)
    lost = InMemoryQueue(clock)  # the timers were lost: a recovery pass arms them again
    again = Engine(engine.workflows, db_url, queue=lost, clock=clock)
    try:
        armed = again.rearm_timers()
    finally:
        again.dispose()
    assert {(j.timer_key, j.due_at) for j in armed} == {
        ("reminder", START + timedelta(days=2)),
        ("deadline", START + timedelta(days=30)),
    }


def test_explain_shows_the_entitys_tenants_use_cases(setup) -> None:  # type: ignore[no-untyped-def]
    engine, _ = setup
    for entity in ("a1", "g1"):
        options = {o.key: o for o in engine.explain("application", entity, "user").options}
        assert options["finish"].action == ("act" if entity == "a1" else None)
        assert options["park"].validation == (None if entity == "a1" else "check")


def _git(repo: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_rows_under_an_older_overlay_are_judged_by_it_from_git(db_url: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    overlay = repo / "tenants" / "acme" / "application.json"
    folder(repo)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "acme reminds after 2 days")
    first = _git(repo, "rev-parse", "HEAD")
    old = load_workflows(repo)
    clock = VirtualClock(START)
    engine = Engine(old, db_url, queue=InMemoryQueue(clock), clock=clock)
    try:
        engine.install()
        testing.create_entity_table(engine.db, old["application"])
        testing.insert_entity(engine.db, old["application"], "a1", tenant_id="acme")
        assert engine.created("application", "a1").ok
    finally:
        engine.dispose()
    overlay.write_text(json.dumps({"timers": {"reminder": {"after": "P3D"}}}))
    _git(repo, "commit", "-q", "-am", "acme reminds after 3 days")
    new = load_workflows(repo)
    older = old["application"].for_tenant("acme").config_hash
    assert new["application"].for_tenant("acme").config_hash != older
    report = conformance(db_url, new, now=START)
    assert report.deviations.empty, report.deviations
    revs = dict(zip(report.by_config["config_hash"], report.by_config["config_rev"], strict=True))
    assert revs == {older: first}
    without_git = conformance(db_url, new, workflows_dir=[], now=START)
    assert set(without_git.deviations["kind"]) == {"unknown_config"}
