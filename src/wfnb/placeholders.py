"""Placeholder use cases: the module a discovered skeleton names until real ones are written.

A workflow whose ``use_cases`` is ``wfnb.placeholders`` (what :func:`wfnb.skeleton`
writes) validates: every plain name resolves here to a use case that does nothing and
returns ``Result.ok(placeholder=<name>)``, so the history of a step run on a placeholder
says so in its metadata. Replace ``use_cases`` with your module and write the functions
the steps name (docs/discovery.md, "Placeholders").
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wfnb.engine.usecases import Result, StepContext

__all__ = ["MODULE", "is_placeholder"]

MODULE = "wfnb.placeholders"
"""The ``use_cases`` value that marks every use case of a workflow as a placeholder."""


def is_placeholder(use_cases: str, name: str) -> bool:
    """Whether ``name``, looked up from a workflow's ``use_cases`` module, is a placeholder."""
    module = name.partition(":")[0] if ":" in name else use_cases
    return module == MODULE


def _placeholder(name: str) -> Callable[[StepContext], Result]:
    def use_case(ctx: StepContext) -> Result:
        from wfnb.engine.usecases import Result  # noqa: PLC0415  # this module stays light

        del ctx
        return Result.ok(placeholder=name)

    use_case.__name__ = use_case.__qualname__ = name
    use_case.__doc__ = f"Placeholder for {name!r}: does nothing, returns ok (wfnb.skeleton)."
    return use_case


def __getattr__(name: str) -> Callable[[StepContext], Result]:
    """Any plain identifier is a placeholder use case (``_private`` and dunder names are not)."""
    if name.startswith("_") or not name.isidentifier() or keyword.iskeyword(name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _placeholder(name)
