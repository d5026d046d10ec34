"""What the "every statement is a named function" tests compare: a module's own functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any


def defined_functions(module: ModuleType, *prefixes: str) -> dict[str, Callable[..., Any]]:
    """The public functions ``module`` defines itself (not imports), by name.

    With ``prefixes``, only the names starting with one of them.
    """
    return {
        name: fn
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and (not prefixes or name.startswith(prefixes))
    }
