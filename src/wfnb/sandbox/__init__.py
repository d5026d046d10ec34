"""Sandboxed databases and dry-runs: a full engine on a throwaway copy; never the source.

``wfnb.sandbox`` is both this package and, in api.md, a function (``with
wfnb.sandbox(db) as sb``). Importing the package makes ``wfnb.sandbox`` the module, so
the module itself is callable: calling it calls :func:`sandbox` (ADR 0062).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from wfnb.sandbox.core import Sandbox, SandboxEngine, sandbox
from wfnb.sandbox.dryrun import DryRun, dry_run
from wfnb.simulation import simulate

__all__ = ["DryRun", "Sandbox", "SandboxEngine", "dry_run", "sandbox", "simulate"]


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`sandbox`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sandbox(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
