"""Workers starting together install the engine's tables at once: none fails (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from wfnb import testing
from wfnb.engine import Engine

pytestmark = pytest.mark.pg


def test_concurrent_installs_all_succeed(pg_url: str) -> None:
    wf = testing.make_workflow()
    errors: list[BaseException] = []

    def install() -> None:
        engine = Engine([wf], pg_url)
        try:
            engine.store.install()
        except BaseException as exc:  # noqa: BLE001  # reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=install) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
