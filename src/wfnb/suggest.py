"""Closest-name suggestions for a mistyped command, workflow, kind, status or requester type."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from wfnb.exceptions import WfnbUsageError

__all__ = ["check_filter_names", "did_you_mean", "history_kind"]


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


def check_filter_names(
    workflows: Mapping[str, Any], workflow: str | None, step: str | None, status: str | None
) -> None:
    """A misspelt ``--step`` or ``--status`` filter is WF400 with the closest names.

    Checked against the named workflow, or every known workflow: a name no workflow has
    can match no row, so "0 rows" would hide the typo.

    Raises:
        WfnbUsageError: no known workflow has that step key or status (WF400).
    """
    one = workflows.get(workflow) if workflow is not None else None
    pool = [one] if one is not None else list(workflows.values())
    if not pool:
        return
    where = f"workflow {workflow}" if one is not None else "the known workflows"
    for option, value, names in (
        ("--step", step, {s.key for wf in pool for s in wf.steps}),
        ("--status", status, {st for wf in pool for st in wf.status_types}),
    ):
        if value is not None and value not in names:
            hint = did_you_mean(value, names)
            raise WfnbUsageError(f"{option} {value!r}: no such name in {where}{hint}")
