"""Property: whatever random edits do to a valid workflow, the validator reports, never raises."""

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.validation.sample import resolve, sample
from wfnb.exceptions import ConfigError
from wfnb.validation import load_workflows, validate

CODE = re.compile(r"WF1\d\d")
# A small alphabet: short random names never spell an importable module with side effects,
# and "/" and "~" exercise the pointer escaping of RFC 6901.
TEXT = st.text(alphabet="abcxyz_-0/~ ", max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
OPERATIONS = ("delete", "replace", "swap", "duplicate")


def places(doc: Any) -> list[tuple[Any, Any]]:
    """Every ``(container, key)`` in the document, depth first."""
    found: list[tuple[Any, Any]] = []
    keys = range(len(doc)) if isinstance(doc, list) else list(doc) if isinstance(doc, dict) else []
    for key in keys:
        found.append((doc, key))
        found.extend(places(doc[key]))
    return found


def strings(doc: Any) -> list[str]:
    if isinstance(doc, dict):
        return [*doc, *(s for v in doc.values() for s in strings(v))]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return [doc] if isinstance(doc, str) else []


def mutate(doc: dict[str, Any], data: st.DataObject) -> None:
    words = strings(doc)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        spots = places(doc)
        if not spots:
            return
        parent, key = spots[data.draw(st.integers(0, len(spots) - 1), label="at")]
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        if operation == "delete":
            del parent[key]
        elif operation == "swap":
            parent[key] = data.draw(st.sampled_from(words), label="word")
        elif operation == "duplicate" and isinstance(parent, list):
            parent.append(parent[key])
        else:
            parent[key] = data.draw(JSON, label="value")


def check_problems(doc: dict[str, Any], problems: Any) -> None:
    for problem in problems:
        assert CODE.fullmatch(problem.code), problem
        assert isinstance(problem.pointer, str)
        assert problem.pointer == "" or problem.pointer.startswith("/"), problem
        assert problem.severity in {"error", "warning"}
        if problem.code not in {"WF100", "WF101"}:  # a missing field has no value to point at
            resolve(doc, problem.pointer)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_validate_never_raises_and_every_problem_is_located(data: st.DataObject) -> None:
    doc = sample()
    mutate(doc, data)
    report = validate(doc)
    check_problems(doc, report.problems)
    assert report.ok == (not report.errors)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_load_workflows_raises_config_error_with_the_reports_problems(data: st.DataObject) -> None:
    doc = sample()
    mutate(doc, data)
    sources = [doc, sample(name="other", entity={"table": "others"})]
    report = validate(sources)
    if report.ok:
        assert set(load_workflows(sources)) == set(report.workflows)
        return
    with pytest.raises(ConfigError) as caught:
        load_workflows(sources)
    assert caught.value.problems == report.problems
    assert caught.value.code in {p.code for p in report.errors}
