"""A real IPython shell with the wfnb extension loaded, and a helper to run a cell."""

from __future__ import annotations

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
        InteractiveShell.clear_instance()
