"""Closest-name suggestions for a mistyped command, workflow, kind, status or requester type."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "history_kind"]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'invoice'?"`` (the closest names, best first), or ``""``.

    Args:
        name: what the person typed.
        known: the names that exist.
    """
    choices = sorted({str(k) for k in known})
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


def history_kind(text: str) -> str:
    """A kind of history row (``initiated``, ``rejected``, ...); a typo names the closest."""
    from wfnb.engine.results import HistoryKind  # noqa: PLC0415  # the engine on use only

    kinds = [str(k) for k in HistoryKind]
    if text not in kinds:
        hint = did_you_mean(text, kinds)
        raise argparse.ArgumentTypeError(
            f"no history kind {text!r}{hint} (kinds: {', '.join(kinds)})"
        )
    return text
