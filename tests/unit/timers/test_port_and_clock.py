from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from psycopg.conninfo import conninfo_to_dict

from wfnb.exceptions import ContextMissingError, QueueError, WfnbUsageError
from wfnb.timers import Clock, SystemClock, TimerJob, VirtualClock, plan_timers
from wfnb.timers.pgurl import libpq_conninfo

from .helpers import ENVELOPE, timed_workflow

CET = timezone(timedelta(hours=1))


def make_job(**changes: object) -> TimerJob:
    fields: dict[str, object] = {
        "workflow": "invoice",
        "entity_id": 42,
        "timer_key": "auto_pay",
        "step": "pay",
        "requester_type": "system",
        "status": "approved",
        "entered_version": 3,
        "due_at": datetime(2026, 3, 1, 10, tzinfo=CET),
        "envelope": ENVELOPE,
    }
    fields.update(changes)
    return TimerJob(**fields)  # type: ignore[arg-type]


def test_dedup_key_names_the_entry() -> None:
    assert make_job().dedup_key == "invoice:42:auto_pay:3"


def test_job_normalises_id_and_due_time() -> None:
    job = make_job()
    assert job.entity_id == "42"
    assert job.due_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert job.due_at.tzinfo is UTC


def test_json_round_trip() -> None:
    job = make_job()
    payload = job.to_json()
    assert payload["due_at"] == "2026-03-01T09:00:00+00:00"
    assert TimerJob.from_json(payload) == job


@pytest.mark.parametrize("envelope", [None, {}, {"correlation_id": "c"}])
def test_payload_without_a_full_envelope_is_context_missing(envelope: object) -> None:
    payload = make_job().to_json()
    payload["envelope"] = envelope
    with pytest.raises(ContextMissingError):
        TimerJob.from_json(payload)


def test_malformed_payload_is_a_queue_error() -> None:
    payload = make_job().to_json()
    del payload["step"]
    with pytest.raises(QueueError, match="malformed"):
        TimerJob.from_json(payload)


def test_naive_due_time_is_refused() -> None:
    with pytest.raises(QueueError, match="naive"):
        make_job(due_at=datetime(2026, 3, 1))


def test_plan_timers_adds_calendar_durations() -> None:
    wf = timed_workflow()
    (jan31,) = plan_timers(wf, 1, "approved", 2, datetime(2026, 1, 31, tzinfo=UTC), ENVELOPE)
    (leap,) = plan_timers(wf, 1, "approved", 2, datetime(2028, 1, 31, tzinfo=UTC), ENVELOPE)
    assert jan31.due_at == datetime(2026, 2, 28, tzinfo=UTC)
    assert leap.due_at == datetime(2028, 2, 29, tzinfo=UTC)
    assert (jan31.step, jan31.requester_type, jan31.status) == ("pay", "system", "approved")


def test_virtual_clock_moves_only_forward() -> None:
    clock = VirtualClock(start=datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(clock, Clock)
    assert clock.advance(timedelta(days=1)) == datetime(2026, 1, 2, tzinfo=UTC)
    assert clock.set(datetime(2026, 1, 3, 1, tzinfo=CET)) == datetime(2026, 1, 3, tzinfo=UTC)
    with pytest.raises(WfnbUsageError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(WfnbUsageError):
        clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 3, tzinfo=UTC)


def test_virtual_clock_refuses_naive_start() -> None:
    with pytest.raises(WfnbUsageError, match="naive"):
        VirtualClock(start=datetime(2026, 1, 1))


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_conninfo_keeps_socket_host_and_search_path() -> None:
    url = "postgresql+psycopg://app:s3cret@/appdb?host=/run/postgresql&options=-csearch_path%3Dt_1"
    parts = conninfo_to_dict(libpq_conninfo(url))
    assert parts == {
        "host": "/run/postgresql",
        "user": "app",
        "password": "s3cret",
        "dbname": "appdb",
        "options": "-csearch_path=t_1",
    }


def test_conninfo_refuses_sqlite() -> None:
    with pytest.raises(QueueError, match="PostgreSQL"):
        libpq_conninfo("sqlite:///x.db")
