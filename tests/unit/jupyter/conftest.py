"""A real IPython shell with the wfnb extension loaded, and a helper to run a cell."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell


@dataclass
class Ran:
    """What a cell did: its result, and everything it printed."""

    result: Any
    output: str
    success: bool


class Shell:
    """Runs cells in a real InteractiveShell, capturing what a user would see."""

    def __init__(self, shell: InteractiveShell, capfd: pytest.CaptureFixture[str]) -> None:
        self.shell = shell
        self.capfd = capfd

    def run(self, cell: str) -> Ran:
        self.capfd.readouterr()
        res = self.shell.run_cell(cell, store_history=True)
        out, err = self.capfd.readouterr()
        return Ran(res.result, out + err, res.success)

    @property
    def ns(self) -> dict[str, Any]:
        return self.shell.user_ns  # type: ignore[no-any-return]


@pytest.fixture
def ip(capfd: pytest.CaptureFixture[str]) -> Iterator[Shell]:
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext wfnb", store_history=False)
    try:
        yield Shell(shell, capfd)
    finally:
        shell.run_cell("%reset -f", store_history=False)
        # Its atexit reset would gc.collect() once per shell at interpreter exit (minutes
        # for ~80 shells on a large heap): this shell is done, so it needs none.
        atexit.unregister(shell.atexit_operations)
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()


@pytest.fixture
def draft_invoice(ip: Shell, sqlite_url: str) -> str:
    """The example schema on a fresh SQLite file with one draft invoice; the shell has
    loaded the example workflows and connected to it. Returns the invoice's id."""
    from tests.conftest import WORKFLOWS
    from wfnb.engine import Engine
    from wfnb.examples.energy import schema
    from wfnb.validation import load_workflows

    engine = Engine(load_workflows([WORKFLOWS]), sqlite_url)
    engine.install()
    schema.create_schema(engine.db)
    with engine.db.begin() as conn:
        invoice = schema.insert_invoice(conn)
    engine.dispose()
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    assert ip.run(f"%wfnb connect {sqlite_url}").success
    return invoice
