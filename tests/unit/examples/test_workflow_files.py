"""The four example workflow files: they parse, use every field, resolve, and are well-formed."""

from __future__ import annotations

import json
from importlib import import_module
from typing import Any, get_args

import networkx as nx
import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from tests.conftest import WORKFLOWS
from tests.unit.examples.conftest import FILES
from wfnb.engine.usecases import is_batch
from wfnb.examples.energy import schema
from wfnb.spec import Override, Step, Workflow
from wfnb.validation import validate


# --- every field of the format is used ------------------------------------------------------
def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _nested_models(arg)]


def defined_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field path the models define, e.g. ``steps.overrides.claim.stale_after``."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        paths.add(prefix + name)
        for sub in _nested_models(field.annotation):
            paths |= defined_paths(sub, f"{prefix}{name}.")
    return paths


def used_paths(value: Any, prefix: str = "") -> set[str]:
    """Field paths written in the files (set explicitly, even when equal to the default)."""
    if isinstance(value, BaseModel):
        paths: set[str] = set()
        for name in value.model_fields_set:
            paths.add(prefix + name)
            paths |= used_paths(getattr(value, name), f"{prefix}{name}.")
        return paths
    if isinstance(value, tuple | list):
        return set().union(*(used_paths(v, prefix) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(used_paths(v, prefix) for v in value.values())) if value else set()
    return set()


def test_files_parse_and_round_trip(workflows: dict[str, Workflow]) -> None:
    for name, wf in workflows.items():
        assert wf.name == name
        raw = json.loads((WORKFLOWS / f"{name}.json").read_text(encoding="utf-8"))
        again = Workflow.model_validate(wf.model_dump(by_alias=True, exclude_unset=True))
        assert again == wf
        assert again.model_dump(by_alias=True, exclude_unset=True, mode="json") == raw


def test_defined_paths_walks_nested_models() -> None:
    paths = defined_paths(Workflow)
    assert {"entity.tenant_column", "steps.overrides.claim.stale_after", "timers.after"} <= paths
    assert "observed_transitions.from_" in paths


def test_together_the_files_use_every_field(workflows: dict[str, Workflow]) -> None:
    used = set().union(*(used_paths(wf) for wf in workflows.values()))
    assert defined_paths(Workflow) - used == set()


def test_every_field_check_notices_a_missing_field(workflows: dict[str, Workflow]) -> None:
    # the same check over the files without timers must report the timer fields
    used = set().union(*(used_paths(wf) for wf in workflows.values() if not wf.timers))
    assert "timers.requester_type" in defined_paths(Workflow) - used


def test_registration_is_the_big_one(workflows: dict[str, Workflow]) -> None:
    wf = workflows["user_registration"]
    assert len(wf.status_types) >= 15
    assert len(wf.steps) >= 24
    assert wf.entity.tenant_column == "tenant_id"
    assert any(o.source == "datahub_poller" and o.to == "active" for o in wf.observed_transitions)


# --- use cases resolve ----------------------------------------------------------------------
def use_case_refs(wf: Workflow) -> set[str]:
    refs: set[str] = set()
    for step in wf.steps:
        parts: list[Step | Override] = [step, *step.overrides.values()]
        for part in parts:
            refs |= {r for r in (part.validation, part.action) if r}
            if part.rejection and part.rejection.action:
                refs.add(part.rejection.action)
    return refs


def resolve(wf: Workflow, ref: str) -> Any:
    module, _, name = ref.rpartition(":") if ":" in ref else (wf.use_cases, ":", ref)
    return getattr(import_module(module), name)


@pytest.mark.parametrize("name", FILES)
def test_every_use_case_resolves_to_a_callable(workflows: dict[str, Workflow], name: str) -> None:
    wf = workflows[name]
    refs = use_case_refs(wf)
    assert refs
    assert [r for r in sorted(refs) if not callable(resolve(wf, r))] == []


def test_a_module_function_reference_is_used(workflows: dict[str, Workflow]) -> None:
    refs = set().union(*(use_case_refs(wf) for wf in workflows.values()))
    assert "wfnb.examples.energy.notifications:notify" in refs


def test_invoice_approval_is_batch_aware(workflows: dict[str, Workflow]) -> None:
    wf = workflows["invoice"]
    approve = wf.step("approve")
    assert approve is not None
    assert approve.action is not None
    assert is_batch(resolve(wf, approve.action))
    assert not is_batch(resolve(wf, "send_invoice"))


def test_janitors_cover_every_owning_module(workflows: dict[str, Workflow]) -> None:
    from wfnb.examples.energy import janitors

    owners = {wf.owning_module for wf in workflows.values() if wf.claim_statuses}
    assert owners == set(janitors())
    assert all(callable(j) for j in janitors().values())


# --- the format's rules, checked with networkx ----------------------------------------------
def variants(step: Step) -> list[Step]:
    return [step.for_requester(r) for r in (None, *step.overrides) if r] + [step]


def status_graph(wf: Workflow) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_nodes_from(wf.status_types)
    for step in wf.steps:
        for v in variants(step):
            g.add_edge(v.status, v.successful_state, kind="step")
            if v.rejection:
                g.add_edge(v.status, v.rejection.state, kind="rejection")
            if v.claim:
                g.add_edge(v.status, v.claim.status, kind="claim")
                g.add_edge(v.claim.status, v.successful_state, kind="claim")
                g.add_edge(v.claim.status, v.status, kind="release")
    for o in wf.observed_transitions:
        g.add_edge(o.from_, o.to, kind="observed")
    return g


def auto_advance_cycles(wf: Workflow) -> list[list[str]]:
    cycles: list[list[str]] = []
    for requester in wf.requester_types:
        g = nx.DiGraph()
        for step in (s for s in wf.steps if s.allows(requester)):
            mine = step.for_requester(requester)
            nxt = [s for s in wf.steps_at(mine.successful_state) if s.allows(requester)]
            if mine.auto_advance and len(nxt) == 1:
                g.add_edge(step.key, nxt[0].key)
        cycles += list(nx.simple_cycles(g))
    return cycles


def _reference_problems(wf: Workflow) -> list[str]:
    statuses, problems = set(wf.status_types), []
    named = [wf.initial_status, *wf.terminal_statuses, *wf.failure_statuses]
    for step in wf.steps:
        for v in variants(step):
            named += [v.status, v.successful_state]
            named += [v.rejection.state] if v.rejection else []
            named += [v.claim.status] if v.claim else []
        unknown = set(step.requester_types or ()) | set(step.overrides)
        problems += [f"requester {r}" for r in unknown - set(wf.requester_types)]
    named += [o.from_ for o in wf.observed_transitions] + [o.to for o in wf.observed_transitions]
    problems += [f"undeclared status {s}" for s in named if s not in statuses]
    if len(statuses) != len(wf.status_types) or len({s.key for s in wf.steps}) != len(wf.steps):
        problems.append("duplicate status or step key")
    return problems


def structure_problems(wf: Workflow) -> list[str]:
    problems = _reference_problems(wf)
    g, claims, terminal = status_graph(wf), wf.claim_statuses, set(wf.terminal_statuses)
    reachable = nx.descendants(g, wf.initial_status) | {wf.initial_status}
    problems += [f"unreachable {s}" for s in wf.status_types if s not in reachable]
    for s in set(wf.status_types) - terminal - claims:
        ways = wf.steps_at(s) or [o for o in wf.observed_transitions if o.from_ == s]
        problems += [] if ways or wf.timers_at(s) else [f"no way out of {s}"]
    problems += [f"steps at terminal {s}" for s in terminal if wf.steps_at(s)]
    problems += [
        f"observed from terminal {o.from_}" for o in wf.observed_transitions if o.from_ in terminal
    ]
    problems += [f"failure {s} not terminal" for s in wf.failure_statuses if s not in terminal]
    own = {s.status for s in wf.steps}
    problems += [f"bad claim {c}" for c in claims if c in own or c in terminal]
    for t in wf.timers:
        step = wf.step(t.step)
        if step is None or step.status != t.status or not step.allows(t.requester_type):
            problems.append(f"timer {t.key}")
    problems += [f"auto-advance cycle {c}" for c in auto_advance_cycles(wf)]
    return problems


@pytest.mark.parametrize("name", FILES)
def test_workflow_follows_the_format_rules(workflows: dict[str, Workflow], name: str) -> None:
    assert structure_problems(workflows[name]) == []


def test_no_two_workflows_share_a_table_or_a_name(workflows: dict[str, Workflow]) -> None:
    assert len({wf.entity.table for wf in workflows.values()}) == len(workflows)
    assert len({wf.name for wf in workflows.values()}) == len(workflows)


def _broken(wf: Workflow, **changes: Any) -> Workflow:
    data = wf.model_dump(by_alias=True, exclude_unset=True)
    data.update(changes)
    return Workflow.model_validate(data)


def test_the_rule_check_catches_broken_workflows(workflows: dict[str, Workflow]) -> None:
    wf = workflows["invoice"]
    orphan = _broken(wf, status_types=[*wf.status_types, "limbo"])
    assert "unreachable limbo" in structure_problems(orphan)
    steps = [s.model_dump(by_alias=True, exclude_unset=True) for s in wf.steps]
    timers = [{**t.model_dump(), "step": "approve"} for t in wf.timers]
    assert "timer due" in structure_problems(_broken(wf, timers=timers))
    at_claim = [*steps, {"key": "x", "status": "sending", "successful_state": "sent"}]
    assert "bad claim sending" in structure_problems(_broken(wf, steps=at_claim))


def test_the_rule_check_catches_an_endless_auto_advance(workflows: dict[str, Workflow]) -> None:
    # admin alone at open (close) and at closed (reopen): close -> reopen -> close -> ...
    wf = workflows["billing_period"]
    changes: dict[str, dict[str, Any]] = {
        "close": {"auto_advance": True},
        "reopen": {"auto_advance": True},
        "archive": {"requester_types": ["system"]},
    }
    steps = [
        {**s.model_dump(by_alias=True, exclude_unset=True), **changes[s.key]} for s in wf.steps
    ]
    assert structure_problems(wf) == []
    assert any("auto-advance cycle" in p for p in structure_problems(_broken(wf, steps=steps)))


def test_the_project_validator_finds_nothing() -> None:
    report = validate([WORKFLOWS])
    assert [p.one_line() for p in report.problems] == []


def test_the_project_validator_agrees_with_the_schema(db_url: str) -> None:
    db = sa.create_engine(db_url)
    schema.create_schema(db)
    assert [p.one_line() for p in validate([WORKFLOWS], db=db_url).problems] == []
    raw = json.loads((WORKFLOWS / "invoice.json").read_text(encoding="utf-8"))
    raw["status_types"].remove("undeliverable")
    raw["terminal_statuses"].remove("undeliverable")
    raw["failure_statuses"] = []
    raw["steps"] = [s for s in raw["steps"] if s["successful_state"] != "undeliverable"]
    codes = {p.code for p in validate([raw], db=db_url).problems}
    assert codes == {"WF112"}
    db.dispose()
