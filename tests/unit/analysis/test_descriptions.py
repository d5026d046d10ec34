"""Steps and statuses carry an optional description for people; it is not a new config."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import WORKFLOWS
from wfnb.spec import Workflow, schema
from wfnb.validation import load_workflows, validate


def test_every_example_step_and_status_is_described() -> None:
    for wf in load_workflows([WORKFLOWS]).values():
        assert all(s.description for s in wf.steps), wf.name
        assert set(wf.status_descriptions) == set(wf.status_types), wf.name


def test_the_validator_accepts_descriptions_and_the_schema_declares_them() -> None:
    assert validate([WORKFLOWS]).ok
    props = schema()
    assert "status_descriptions" in props["properties"]
    assert "description" in props["$defs"]["Step"]["properties"]


def test_descriptions_do_not_change_the_config_hash(tmp_path: Path) -> None:
    data = json.loads((WORKFLOWS / "invoice.json").read_text(encoding="utf-8"))
    described = Workflow.model_validate(data)
    data.pop("status_descriptions")
    for step in data["steps"]:
        step.pop("description")
    bare = Workflow.model_validate(data)
    assert described.config_hash == bare.config_hash
    data["steps"][0]["description"] = "something else entirely"
    assert Workflow.model_validate(data).config_hash == bare.config_hash


def test_a_workflow_in_a_notebook_shows_steps_in_words_and_paths_on_hover() -> None:
    html = load_workflows([WORKFLOWS])["invoice"]._repr_html_()
    assert "<b>Mark undeliverable</b> <code>mark_undeliverable</code>" in html
    assert "Record that the invoice cannot be delivered" in html
    visible = re.sub(r"<[^>]+>", " ", html)  # the text a reader sees, attributes left out
    assert "wfnb.examples.energy.notifications:notify" not in visible
    assert "title='wfnb.examples.energy.notifications:notify'" in html
    assert "title='wfnb.examples.energy.invoicing:validate_invoice'" in html
