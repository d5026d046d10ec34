"""The exception tree: one root, stable distinct codes, one-line messages."""

import inspect
import re

import wfnb.exceptions as ex
from wfnb.problems import Problem, Severity


def _classes() -> list[type[ex.WfnbError]]:
    return [c for _, c in inspect.getmembers(ex, inspect.isclass) if issubclass(c, ex.WfnbError)]


def test_every_error_descends_from_wfnberror_and_has_a_distinct_code() -> None:
    codes = [c.code for c in _classes() if c is not ex.StepError]
    assert all(re.fullmatch(r"WF\d{3}", code) for code in codes), codes
    assert len(codes) == len(set(codes))


def test_the_docstring_draws_every_class() -> None:
    doc = ex.__doc__ or ""
    for cls in _classes():
        assert cls.__name__ in doc, cls.__name__


def test_config_error_carries_every_problem_and_reads_as_one_line() -> None:
    problems = [
        Problem("WF103", Severity.ERROR, "a.json", "/steps/0/status", "unknown status 'x'"),
        Problem("WF104", Severity.ERROR, "a.json", "/timers/0/requester_type", "unknown 'y'"),
    ]
    err = ex.ConfigError(problems)
    assert err.problems == tuple(problems)
    assert err.code == "WF103"
    assert "\n" not in err.one_line()
    assert "and 1 more problem" in err.one_line()
    assert isinstance(err, ValueError)


def test_fields_are_keyword_only_and_exposed() -> None:
    err = ex.EntityNotFoundError("no invoice 7", entity_id="7")
    assert err.entity_id == "7"  # type: ignore[attr-defined]
    assert err.one_line() == "WF201: no invoice 7"
