"""Kept sandboxes (``dry_run`` reuses them) are closed after every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wfnb.sandbox import hosts


@pytest.fixture(autouse=True)
def _close_kept_sandboxes() -> Iterator[None]:
    yield
    hosts.close_all()
