"""A small valid workflow that the validation tests break in one place at a time."""

import copy
from typing import Any

from wfnb.validation import ValidationReport

USE_CASES = "tests.unit.validation.sample_usecases"

_SAMPLE: dict[str, Any] = {
    "name": "invoice",
    "owning_module": "billing",
    "entity": {"table": "invoices", "tenant_column": "tenant_id"},
    "use_cases": USE_CASES,
    "requester_types": ["user", "admin", "system"],
    "status_types": ["draft", "submitted", "approving", "approved", "sent", "paid", "cancelled"],
    "initial_status": "draft",
    "terminal_statuses": ["paid", "cancelled"],
    "failure_statuses": ["cancelled"],
    "steps": [
        {
            "key": "submit",
            "status": "draft",
            "requester_types": ["user", "admin"],
            "validation": "check_lines",
            "successful_state": "submitted",
            "rejection": {"state": "draft", "action": "notify"},
            "overrides": {"admin": {"validation": "check_lines_admin"}},
        },
        {
            "key": "cancel",
            "status": "draft",
            "requester_types": ["user", "admin"],
            "successful_state": "cancelled",
        },
        {
            "key": "approve",
            "status": "submitted",
            "requester_types": ["admin"],
            "action": "book",
            "successful_state": "approved",
            "auto_advance": True,
            "claim": {"status": "approving", "stale_after": "PT10M"},
        },
        {
            "key": "send",
            "status": "approved",
            "requester_types": ["admin", "system"],
            "action": "send_invoice",
            "successful_state": "sent",
        },
        {
            "key": "remind",
            "status": "sent",
            "requester_types": ["system"],
            "action": "send_reminder",
            "successful_state": "sent",
        },
    ],
    "observed_transitions": [{"from": "sent", "to": "paid", "source": "bank"}],
    "timers": [
        {
            "key": "remind_monthly",
            "status": "sent",
            "after": "P30D",
            "step": "remind",
            "requester_type": "system",
        },
        {
            "key": "auto_send",
            "status": "approved",
            "after": "PT1H",
            "step": "send",
            "requester_type": "system",
        },
    ],
}
"""Statuses 0..6: draft, submitted, approving (a claim), approved, sent, paid, cancelled.
Steps 0..4: submit, cancel, approve (claims, auto-advances for admin), send, remind.
Timers 0..1: remind_monthly (at sent), auto_send (at approved)."""


def sample(**changes: Any) -> dict[str, Any]:
    """A fresh deep copy of the valid sample workflow, top-level fields replaced."""
    data = copy.deepcopy(_SAMPLE)
    data.update(changes)
    return data


def located(report: ValidationReport, severity: str = "error") -> set[tuple[str, str]]:
    """``{(code, pointer)}`` of the report's problems of one severity."""
    return {(p.code, p.pointer) for p in report.problems if p.severity == severity}


def _parts(where: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in where.split("/")[1:]]


def resolve(doc: Any, where: str) -> Any:
    """The value at JSON pointer ``where`` (RFC 6901); KeyError/IndexError when absent."""
    for part in _parts(where):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def patched(*ops: tuple[Any, ...]) -> dict[str, Any]:
    """The sample with JSON-Patch-like operations applied: ("replace"|"add", ptr, value),
    ("remove", ptr); ``-`` as the last part of an ``add`` appends to a list."""
    doc = sample()
    for op, where, *value in ops:
        *head, last = _parts(where)
        parent = resolve(doc, "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in head))
        if op == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif op == "add" and isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(value[0]))
        else:
            parent[int(last) if isinstance(parent, list) else last] = copy.deepcopy(value[0])
    return doc
