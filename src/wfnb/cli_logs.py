"""``wfnb history`` and ``wfnb failures``: the magics' filters on the command line.

Rows are read through ``wfnb.frames`` (every filter in SQL), newest first. At most
``--limit`` rows are printed (default 1,000); a cut result says so on stderr ("1,000 of
8,560 rows — use --limit N or --all"), an empty one says "0 rows". ``--format`` is a table
for people, or CSV / JSON (every column, values as text, never Python reprs) for tools.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wfnb.arguments import moment_type as moment
from wfnb.arguments import whole_type
from wfnb.cli_checks import existing_database
from wfnb.exceptions import UnknownWorkflowError, WfnbUsageError
from wfnb.suggest import check_filter_names, did_you_mean, history_kind

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_LIMIT", "add_log_commands", "cmd_failures", "cmd_history"]

DEFAULT_LIMIT = 1000
"""Rows printed when neither ``--limit`` nor ``--all`` is given."""

_TABLE_COLUMNS = {
    "history": (
        "changed_at", "workflow", "entity_id", "kind", "step_key", "from_status", "to_status",
        "requester_type", "user_id", "tenant_id",
    ),
    "failures": (
        "failed_at", "workflow", "entity_id", "status", "step_key", "error_code",
        "error_message", "user_id", "tenant_id",
    ),
}  # fmt: skip
_STAMP = {"history": "changed_at", "failures": "failed_at"}
_NONE = "—"
_WIDEST = 60


def add_log_commands(sub: Any, paths_help: str) -> None:
    """The ``history`` and ``failures`` subcommands."""
    for name, what in (("history", "workflow_history"), ("failures", "the permanent failure log")):
        p = sub.add_parser(
            name,
            help=f"rows of {what}, newest first (filters run in SQL)",
            description=f"Rows of {what}, newest first; every filter runs in SQL.",
        )
        p.add_argument("paths", nargs="*", default=[], help=paths_help + "; to check --workflow")
        p.add_argument("--db", required=True, help="the database (SQLAlchemy URL); never created")
        p.add_argument("--workflow", help="one workflow's rows")
        p.add_argument("--entity", help="one entity's rows (its id)")
        p.add_argument("--tenant", help="one tenant's rows")
        p.add_argument("--user", help="rows of calls made by this user id")
        p.add_argument("--since", type=moment, help="from this ISO date or datetime (UTC)")
        p.add_argument("--until", type=moment, help="before this ISO date or datetime (UTC)")
        p.add_argument("--step", help="one step key")
        if name == "history":
            p.add_argument(
                "--kind",
                "--outcome",
                dest="kind",
                type=history_kind,
                help="initiated, rejected, observed, claimed, released, timer, janitor, manual",
            )
            p.add_argument("--status", help="rows that entered this status")
        else:
            p.add_argument("--code", help="the use case's error code")
        group = p.add_mutually_exclusive_group()
        group.add_argument(
            "--limit",
            type=whole_type(0),
            help=f"print at most N rows (default {DEFAULT_LIMIT:,}; 0 prints every row, as --all)",
        )
        group.add_argument("--all", action="store_true", help="print every matching row")
        p.add_argument("--format", choices=["table", "csv", "json"], default="table")


def cmd_history(args: argparse.Namespace, workflows: Callable[[], Any]) -> int:
    """``wfnb history``: print workflow_history rows."""
    from wfnb import frames  # noqa: PLC0415  # pandas only when used

    more = {"kind": args.kind, "status": args.status}
    return _show("history", frames.history, args, workflows, more)


def cmd_failures(args: argparse.Namespace, workflows: Callable[[], Any]) -> int:
    """``wfnb failures``: print permanent failure log rows."""
    from wfnb import frames  # noqa: PLC0415

    return _show("failures", frames.failures, args, workflows, {"code": args.code})


def _check(args: argparse.Namespace, workflows: Callable[[], Any]) -> None:
    if args.since is not None and args.until is not None and args.since > args.until:
        raise WfnbUsageError(
            f"--since {args.since.isoformat()} is after --until {args.until.isoformat()}: "
            "no row can match"
        )
    step, status = args.step, getattr(args, "status", None)
    if args.workflow is not None or step is not None or status is not None:
        known = workflows()
        if known is not None:
            check_filter_names(known, args.workflow, step, status)
        if known is not None and args.workflow is not None and args.workflow not in known:
            hint = did_you_mean(args.workflow, known)
            raise UnknownWorkflowError(
                f"unknown workflow {args.workflow!r}{hint} (loaded: {', '.join(sorted(known))})",
                workflow=args.workflow,
            )


def _read(
    reader: Callable[..., pd.DataFrame], args: argparse.Namespace, more: dict[str, Any]
) -> tuple[pd.DataFrame, int]:
    """The rows to print, newest first, and how many rows matched in all."""
    filters: dict[str, Any] = {
        "workflow": args.workflow,
        "entity_id": args.entity,
        "tenant_id": args.tenant,
        "user": args.user,
        "since": args.since,
        "until": args.until,
        "step": args.step,
        **more,
    }
    limit = None if args.all or args.limit == 0 else (args.limit or DEFAULT_LIMIT)
    frame = reader(args.db, **filters, limit=limit, progress=False)  # newest first, counted
    return frame, int(frame.attrs.get("wfnb_total", len(frame)))


def _show(
    table: str,
    reader: Callable[..., pd.DataFrame],
    args: argparse.Namespace,
    workflows: Callable[[], Any],
    more: dict[str, Any],
) -> int:
    from wfnb.store.urls import require_history  # noqa: PLC0415

    _check(args, workflows)
    existing_database(args.db)
    require_history(args.db)
    frame, total = _read(reader, args, more)
    if args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", indent=2, force_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(_as_text(frame).to_csv(index=False))
    elif frame.empty:
        print("0 rows")
    else:
        print(_table(frame, table))
    shown = len(frame)
    if shown < total:
        print(f"{shown:,} of {total:,} rows — use --limit N or --all", file=sys.stderr)
    elif args.format != "table" or shown:
        print(f"{shown:,} row{'s' * (shown != 1)}", file=sys.stderr)
    return 0


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124  # NaN
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text: JSON for metadata, ISO for moments, empty for missing."""
    import pandas as pd  # noqa: PLC0415

    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column].astype(object).where(frame[column].notna(), None)
        out[column] = [_text(v) for v in values]
    return out


def _table(frame: pd.DataFrame, table: str) -> str:
    """The columns a person reads, missing values as an em dash, long texts cut."""
    columns = [c for c in _TABLE_COLUMNS[table] if c in frame.columns]
    shown = _as_text(frame[columns])
    for column in columns:
        shown[column] = [
            (v[: _WIDEST - 1] + "…" if len(v) > _WIDEST else v) or _NONE for v in shown[column]
        ]
    stamp = _STAMP[table]
    if stamp in shown:
        shown[stamp] = [v.replace("T", " ")[:19] if v != _NONE else v for v in shown[stamp]]
    text: str = shown.to_string(index=False)
    return text
