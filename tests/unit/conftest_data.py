"""Small valid workflow documents the unit tests mutate."""

from typing import Any


def minimal_workflow(**changes: Any) -> dict[str, Any]:
    """A small valid workflow: draft -> approved -> paid, with a rejection and a timer."""
    data: dict[str, Any] = {
        "name": "invoice",
        "owning_module": "billing",
        "entity": {"table": "invoices"},
        "use_cases": "json",
        "requester_types": ["user", "admin", "system"],
        "status_types": ["draft", "approved", "paid", "cancelled"],
        "initial_status": "draft",
        "terminal_statuses": ["paid", "cancelled"],
        "failure_statuses": ["cancelled"],
        "steps": [
            {"key": "approve", "status": "draft", "successful_state": "approved"},
            {"key": "cancel", "status": "draft", "successful_state": "cancelled"},
            {"key": "pay", "status": "approved", "successful_state": "paid"},
        ],
        "timers": [
            {
                "key": "auto_pay",
                "status": "approved",
                "after": "P14D",
                "step": "pay",
                "requester_type": "system",
            }
        ],
    }
    data.update(changes)
    return data
