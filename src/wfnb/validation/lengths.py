"""WF101 for names longer than the engine-owned columns that store them.

A status, step key, requester type, observed source, workflow name or entity table name
that ``workflow_history`` could not hold whole would be cut short by PostgreSQL (or
refused as a store error) when the engine writes it, and history would no longer match
the entity. The width is ``wfnb.spec.NAME_LENGTH``, the one source of truth that
``wfnb.store.tables`` builds those columns from (the format layer owns it, so validation
needs nothing of the store).
"""

from __future__ import annotations

from collections.abc import Iterator

from wfnb.problems import Problem
from wfnb.spec import NAME_LENGTH
from wfnb.validation.context import Checked
from wfnb.validation.references import Path

__all__ = ["check_lengths", "column_length"]


def column_length(column: str) -> int:
    """The width of ``workflow_history.<column>`` for the name columns this module checks."""
    del column  # every name column is NAME_LENGTH wide (tests hold the tables to it)
    return NAME_LENGTH


def _names(c: Checked) -> Iterator[tuple[Path, str, str, str]]:
    """``(path, value, what, column)`` of every name the engine writes into history."""
    wf = c.workflow
    yield ("name",), wf.name, "workflow name", "workflow"
    yield ("entity", "table"), wf.entity.table, "entity table", "entity_table"
    for i, status in enumerate(wf.status_types):
        yield ("status_types", i), status, "status", "to_status"
    for i, requester in enumerate(wf.requester_types):
        yield ("requester_types", i), requester, "requester type", "requester_type"
    for i, step in enumerate(wf.steps):
        yield ("steps", i, "key"), step.key, "step key", "step_key"
    for i, seen in enumerate(wf.observed_transitions):
        yield ("observed_transitions", i, "source"), seen.source, "observed source", "source"


def check_lengths(c: Checked) -> Iterator[Problem]:
    """WF101: every name fits the ``workflow_history`` column that stores it."""
    for path, value, what, column in _names(c):
        limit = column_length(column)
        if len(value) > limit:
            message = (
                f"{what} {value[:40]!r}... is {len(value)} characters long; "
                f"workflow_history.{column} holds {limit}"
            )
            yield c.problem("WF101", c.at(*path), message)
