"""Sandboxed databases and dry-runs: a full engine on a throwaway copy; never the source.

``wfnb.sandbox`` is both this package and, in api.md, a function (``with
wfnb.sandbox(db) as sb``). Importing the package makes ``wfnb.sandbox`` the module, so
the module itself is callable: calling it calls :func:`sandbox` (ADR 0062).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from wfnb.engine.clock import Clock
from wfnb.engine.core import WorkflowsLike
from wfnb.sandbox.core import Sandbox
from wfnb.sandbox.dryrun import DryRun, dry_run
from wfnb.sandbox.engine import SandboxEngine
from wfnb.simulation import simulate

__all__ = ["DryRun", "Sandbox", "SandboxEngine", "dry_run", "sandbox", "simulate"]


@contextmanager
def sandbox(
    db: sa.Engine | str | sa.URL,
    wfs: WorkflowsLike | None = None,
    *,
    clock: Clock | None = None,
    tables: Iterable[str] = (),
    use_cases: Mapping[str, Callable[..., Any]] | None = None,
) -> Iterator[Sandbox]:
    """A ``Sandbox`` for the ``with`` block; thrown away at its end, whatever happens.

    Args:
        db: the source database (URL or engine); never written.
        wfs: the workflows the sandbox engine runs.
        clock: the engine's clock (default: a ``VirtualClock`` at the current time).
        tables: module tables the use cases write, copied whole into the sandbox.
        use_cases: name → function, replacing (or supplying: a prototype) named use cases
            in every workflow of the sandbox; the workflows are validated with them.

    Raises:
        ConfigError: the workflows are invalid (a use case ``use_cases`` supplies resolves).
    """
    box = Sandbox(db, wfs, clock=clock, tables=tables, use_cases=use_cases)
    try:
        yield box
    finally:
        box.close()


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`sandbox`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sandbox(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
