"""Crash recovery: a process SIGKILLed inside the action leaves a state calling again completes."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import sqlalchemy as sa

from tests.unit.engine.conftest import FakeClock
from wfnb import testing
from wfnb.engine import Engine, Outcome
from wfnb.engine.usecases import Result, StepContext

CHILD = textwrap.dedent(
    """
    import sys
    from wfnb import testing
    from wfnb.engine import Engine
    engine = Engine([testing.make_workflow()], sys.argv[1])
    engine.execute_step("ticket", "e0", sys.argv[2], data={"action": "crash"})
    print("survived")
    """
)


def killed_in_action(url: str, requester: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, requester],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "survived" not in done.stdout


def state(engine: Engine) -> tuple[str, int, list[str]]:
    with engine.db.connect() as conn:
        status, version = conn.execute(sa.text("SELECT status, version FROM tickets")).one()
        kinds = conn.execute(sa.text("SELECT kind FROM workflow_history ORDER BY id")).scalars()
        return status, version, list(kinds)


def setup(url: str, status: str) -> Engine:
    clock = FakeClock()
    wf = testing.make_workflow()
    engine = Engine([wf], url, clock=clock)
    engine.install()
    testing.create_entity_table(engine.db, wf)
    testing.insert_entity(engine.db, wf, "e0", status=status)
    return engine


def test_a_kill_inside_a_plain_action_leaves_the_entity_untouched(db_url: str) -> None:
    engine = setup(db_url, "draft")
    try:
        killed_in_action(db_url, "admin")
        assert state(engine) == ("draft", 0, [])
        assert engine.execute_step("ticket", "e0", "admin").to_status == "triaged"
        assert state(engine) == ("triaged", 1, ["initiated"])
    finally:
        engine.dispose()


def test_a_kill_inside_a_claimed_action_is_recovered_by_the_janitor(db_url: str) -> None:
    engine = setup(db_url, "triaged")
    try:
        killed_in_action(db_url, "system")
        assert state(engine) == ("resolving", 1, ["claimed"])
        seen: list[str] = []

        def janitor(ctx: StepContext) -> Result:
            seen.append(ctx.entity_id)
            return Result.reject("the hub never heard of it")  # release: the step may run again

        engine.register_janitor("support", janitor)
        assert engine.recover_claims() == []  # the claim is stamped "now" by the real clock...
        clock = engine.clock
        assert isinstance(clock, FakeClock)
        clock.moment = clock.moment.replace(year=2100)  # ...so look from far in the future
        (recovered,) = engine.recover_claims()
        assert (recovered.outcome, recovered.to_status, seen) == (
            Outcome.REJECTED,
            "triaged",
            ["e0"],
        )
        assert engine.execute_step("ticket", "e0", "system").to_status == "resolved"
        assert state(engine) == ("resolved", 4, ["claimed", "janitor", "claimed", "initiated"])
    finally:
        engine.dispose()
