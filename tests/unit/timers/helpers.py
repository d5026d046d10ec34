"""A small timed workflow and a recording runner for the queue-mechanics tests.

The runner keeps entity statuses and versions in a dict: the queue's behaviour is what
these tests check, not the engine's (the engine's own tests use a real database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfnb.spec import Workflow
from wfnb.timers import InMemoryQueue, TimerJob, arm_timers

ENVELOPE = {
    "correlation_id": "corr-1",
    "tenant_id": None,
    "user_id": "u1",
    "requester_type": "user",
}


def timed_workflow() -> Workflow:
    """draft -> approved (auto_pay after P1M) -> paid; waiting nudges itself every P3D."""
    return Workflow.model_validate(
        {
            "name": "invoice",
            "owning_module": "billing",
            "entity": {"table": "invoices"},
            "use_cases": "json",
            "requester_types": ["user", "system"],
            "status_types": ["draft", "approved", "waiting", "paid"],
            "initial_status": "draft",
            "terminal_statuses": ["paid"],
            "steps": [
                {"key": "approve", "status": "draft", "successful_state": "approved"},
                {"key": "pay", "status": "approved", "successful_state": "paid"},
                {"key": "nudge", "status": "waiting", "successful_state": "waiting"},
                {"key": "settle", "status": "waiting", "successful_state": "paid"},
            ],
            "timers": [
                {
                    "key": "auto_pay",
                    "status": "approved",
                    "after": "P1M",
                    "step": "pay",
                    "requester_type": "system",
                },
                {
                    "key": "nudge",
                    "status": "waiting",
                    "after": "P3D",
                    "step": "nudge",
                    "requester_type": "system",
                },
            ],
        }
    )


@dataclass
class Outcome:
    outcome: str


@dataclass
class RecordingRunner:
    """Runs a timer's step when the entity is still where the timer was armed."""

    queue: InMemoryQueue
    wf: Workflow
    entities: dict[str, tuple[str, int]] = field(default_factory=dict)
    calls: list[tuple[str, datetime]] = field(default_factory=list)

    def enter(self, entity_id: str, status: str, version: int, at: datetime) -> list[TimerJob]:
        """Put an entity at ``status`` (as a committed transition would) and arm its timers."""
        self.entities[entity_id] = (status, version)
        return arm_timers(self.queue, self.wf, entity_id, status, version, at, ENVELOPE)

    def run_timer(self, job: TimerJob) -> Any:
        now = self.queue.clock.now()
        self.calls.append((job.dedup_key, now))
        status, version = self.entities[job.entity_id]
        if (status, version) != (job.status, job.entered_version):
            return Outcome("skipped")
        step = self.wf.step(job.step)
        assert step is not None
        self.enter(job.entity_id, step.successful_state, version + 1, now)
        return Outcome("transitioned")
