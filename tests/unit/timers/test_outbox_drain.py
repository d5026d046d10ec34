"""``wfnb outbox drain|status``: what delivers the outbox where procrastinate cannot (ADR 0102)."""

from __future__ import annotations

import pytest

from tests.engines import engine_builder
from wfnb.cli import main as wfnb
from wfnb.engine.usecases import Event

RECEIVED: list[Event] = []


def record(event: Event) -> None:
    """A durable subscriber the CLI imports by ``module:function``."""
    RECEIVED.append(event)


def test_drain_delivers_every_pending_transition_then_status_counts(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    RECEIVED.clear()
    with engine_builder(db_url, id_format="e{}") as build:
        engine, _ = build(entities=3)
        for entity in ("e0", "e1", "e2"):
            assert engine.execute_step("ticket", entity, "admin").ok
        assert wfnb(["outbox", "status", "--db", db_url]) == 0
        assert capsys.readouterr().out.strip() == "3 pending, 0 delivered"
        spec = f"{__name__}:record"
        assert wfnb(["outbox", "drain", "--db", db_url, "--subscriber", spec, "--limit", "2"]) == 0
        assert capsys.readouterr().out.strip() == "3 delivered, 0 failed, 0 pending"
        assert [e.entity_id for e in RECEIVED] == ["e0", "e1", "e2"]
        assert all(e.name == "transition" and e.key for e in RECEIVED)
        assert wfnb(["outbox", "drain", "--db", db_url, "--subscriber", spec]) == 0
        assert capsys.readouterr().out.strip() == "0 delivered, 0 failed, 0 pending"
        assert len(RECEIVED) == 3


def test_drain_names_a_subscriber_that_does_not_import(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine_builder(db_url, id_format="e{}") as build:
        build()
        code = wfnb(["outbox", "drain", "--db", db_url, "--subscriber", "no_such_mod:fn"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--subscriber 'no_such_mod:fn'" in err
    assert "Traceback" not in err
