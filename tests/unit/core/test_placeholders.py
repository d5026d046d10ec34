"""``wfnb.placeholders``: any plain name is a use case that returns ok and says so."""

from __future__ import annotations

import pytest

from wfnb import placeholders
from wfnb.engine.usecases import ResultKind
from wfnb.validation import validate


def test_any_plain_name_is_a_placeholder_that_returns_ok() -> None:
    use_case = placeholders.send_invoice  # type: ignore[attr-defined]
    result = use_case(None)
    assert result.kind == ResultKind.OK
    assert dict(result.metadata) == {"placeholder": "send_invoice"}
    assert use_case.__name__ == "send_invoice"


@pytest.mark.parametrize("name", ["_private", "__path__", "class"])
def test_private_dunder_and_keyword_names_are_not(name: str) -> None:
    with pytest.raises(AttributeError):
        getattr(placeholders, name)


def test_a_workflow_on_placeholders_validates_and_is_marked() -> None:
    config = {
        "name": "t", "owning_module": "placeholder", "entity": {"table": "t"},
        "use_cases": placeholders.MODULE, "requester_types": ["user"],
        "status_types": ["a", "b"], "initial_status": "a", "terminal_statuses": ["b"],
        "steps": [{"key": "go", "status": "a", "action": "go", "validation": "check_it",
                   "successful_state": "b"}],
    }  # fmt: skip
    assert validate(config).ok
    assert placeholders.is_placeholder(placeholders.MODULE, "go")
    assert placeholders.is_placeholder("my.module", "wfnb.placeholders:go")
    assert not placeholders.is_placeholder("my.module", "go")
