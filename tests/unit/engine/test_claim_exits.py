"""Only the engine and the janitor leave a claim status (issue 16.9).

An observed transition declared out of a claim status is WF108 in the validator; an
engine given such a workflow unvalidated still refuses the observation at run time
(WF207), writing nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.unit.engine.conftest import history, status_of
from wfnb import testing
from wfnb.engine import Engine
from wfnb.spec import Workflow, Workflows
from wfnb.validation import validate

OUT_OF_CLAIM = {"from": "resolving", "to": "resolved", "source": "helpdesk"}


def with_observation() -> dict[str, Any]:
    data = copy.deepcopy(testing.DEFAULT_WORKFLOW)
    data["observed_transitions"].append(OUT_OF_CLAIM)
    return data


def test_an_observed_transition_out_of_a_claim_status_is_wf108() -> None:
    report = validate(with_observation())
    assert [(p.code, p.pointer) for p in report.errors] == [
        ("WF108", "/observed_transitions/1/from")
    ]
    assert "'resolving'" in report.errors[0].message
    assert "janitor" in report.errors[0].message


def test_a_claim_status_only_an_override_declares_counts_too() -> None:
    data = with_observation()
    resolve = next(s for s in data["steps"] if s["key"] == "resolve")
    claim = resolve.pop("claim")
    resolve["overrides"] = {"admin": {"claim": claim}}
    assert [(p.code, p.pointer) for p in validate(data).errors] == [
        ("WF108", "/observed_transitions/1/from")
    ]
    data["observed_transitions"].pop()
    assert validate(data).ok


def test_observe_refuses_leaving_a_claim_status_at_run_time(db_url: str) -> None:
    wf = Workflow.model_validate(with_observation())
    engine = Engine(Workflows({wf.name: wf}), db_url)  # trusted: the validator never ran
    try:
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "e0", status="resolving")
        result = engine.observe("ticket", "e0", "resolved", source="helpdesk")
        assert result.error is not None
        assert result.error.code == "WF207"
        assert "claim status" in result.error.message
        assert status_of(engine, "e0") == ("resolving", 0)
        assert history(engine, "e0") == []
    finally:
        engine.dispose()


def test_a_declared_observation_elsewhere_still_records(db_url: str) -> None:
    wf = Workflow.model_validate(with_observation())
    engine = Engine(Workflows({wf.name: wf}), db_url)
    try:
        engine.install()
        testing.create_entity_table(engine.db, wf)
        testing.insert_entity(engine.db, wf, "e0", status="triaged")
        assert engine.observe("ticket", "e0", "closed", source="email").ok
    finally:
        engine.dispose()
