"""One coded line for anything that goes wrong inside a widget: never a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import wraps
from html import escape
from typing import Any, TypeVar

from wfnb.exceptions import WfnbError

__all__ = ["ERROR", "coded_line", "error_html", "shows_errors_in"]

ERROR = "<div style='color:#b00020'><b>{}</b></div>"
_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def coded_line(exc: BaseException) -> str:
    """An error as the one line a person sees: ``WF400: not an ISO date ...``.

    A wfnb error keeps its code; a bad value typed into a field (``ValueError``,
    ``argparse.ArgumentTypeError``) is a usage error, WF400; anything else, WF000.
    """
    if isinstance(exc, WfnbError):
        return exc.one_line()
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ValueError | argparse.ArgumentTypeError):
        return f"WF400: {message}"
    return f"WF000: {type(exc).__name__}: {message}"


def error_html(exc: BaseException) -> str:
    """``coded_line`` as a red line of HTML."""
    return ERROR.format(escape(coded_line(exc)))


def shows_errors_in(attribute: str) -> Callable[[_Fn], _Fn]:
    """Run a widget callback; any exception becomes one coded line in ``self.<attribute>``."""

    def decorate(fn: _Fn) -> _Fn:
        @wraps(fn)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001  # a widget shows one line, never a traceback
                getattr(self, attribute).value = error_html(exc)
                return None

        return guarded  # type: ignore[return-value]

    return decorate
