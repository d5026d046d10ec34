"""``wfnb discover`` and ``wfnb variants``: process discovery on the command line.

``discover`` prints the directly-follows graph of a history (each edge: count, median and
p90 in days and hours; each status: stays and ``last_seen_there``, the entities whose latest
history row entered it), draws it with ``-o FILE.svg`` (or .png, .dot, .mmd), compares it
with the workflow config of the same name with ``--overlay``, and prints a validating
skeleton config with ``--skeleton``.
``variants`` prints the distinct paths entities took, most frequent first; at most
``--limit`` (default 20) and a cut list says "20 of 143 variants" on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from wfnb.arguments import moment_type as moment
from wfnb.arguments import whole_type
from wfnb.cli_checks import check_output, existing_database
from wfnb.exceptions import WfnbUsageError

__all__ = ["DEFAULT_VARIANTS", "add_discovery_commands", "cmd_discover", "cmd_variants"]

DEFAULT_VARIANTS = 20
"""Variants printed when neither ``--limit`` nor ``--all`` is given."""


def _window(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL); never written")
    p.add_argument("--workflow", help="one workflow's history (default: every workflow's)")
    p.add_argument("--since", type=moment, help="history from this ISO date or datetime (UTC)")
    p.add_argument("--until", type=moment, help="history before this ISO date or datetime (UTC)")
    p.add_argument("--tenant", help="one tenant's history")


def add_discovery_commands(sub: Any, paths_help: str) -> None:
    """The ``discover`` and ``variants`` subcommands."""
    p = sub.add_parser(
        "discover",
        help="the directly-follows graph of what happened (counts, durations, dwell)",
        description="What actually happened: each edge between consecutive history rows of "
        "an entity with its count, median and p90 duration; each status's stays. -o draws it; "
        "--overlay compares it with the workflow's config; --skeleton prints a config that "
        "validates, to start a model from.",
    )
    p.add_argument("paths", nargs="*", default=[], help=paths_help + "; for --overlay")
    _window(p)
    p.add_argument("--overlay", action="store_true", help="compare with the config (--workflow)")
    p.add_argument("--skeleton", action="store_true", help="print a skeleton config (JSON)")
    p.add_argument("-o", "--output", help="draw into this file: .svg, .png, .dot or .mmd")
    p.add_argument(
        "--min-count",
        type=whole_type(1),
        default=1,
        metavar="N",
        help="leave out edges taken fewer than N times (said; default 1: every edge)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser(
        "variants",
        help="the distinct paths entities took, most frequent first",
        description="Each variant (the statuses an entity entered, in order) with its count, "
        f"share and median duration. At most --limit (default {DEFAULT_VARIANTS}) are printed; "
        "a cut list says so on stderr.",
    )
    _window(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--limit", type=whole_type(1), help=f"default {DEFAULT_VARIANTS}")
    group.add_argument("--all", action="store_true", help="print every variant")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")


def _check(args: argparse.Namespace) -> None:
    if args.since is not None and args.until is not None and args.since > args.until:
        raise WfnbUsageError(
            f"--since {args.since.isoformat()} is after --until {args.until.isoformat()}: "
            "no row can match"
        )
    existing_database(args.db)


def _words(value: Any) -> str:
    from wfnb.analysis.discovery_diagram import duration_words  # noqa: PLC0415

    return duration_words(value)


def _seconds(value: Any) -> float | None:
    import pandas as pd  # noqa: PLC0415

    return None if pd.isna(value) else round(value.total_seconds(), 3)


def cmd_discover(args: argparse.Namespace, workflows: Callable[[], Any]) -> int:
    """``wfnb discover``: print (or draw) the directly-follows graph."""
    from wfnb.analysis.discovery import discover  # noqa: PLC0415  # pandas on use
    from wfnb.analysis.skeleton import skeleton  # noqa: PLC0415

    _check(args)
    if (args.overlay or args.skeleton) and args.workflow is None:
        wanted = "--overlay" if args.overlay else "--skeleton"
        raise WfnbUsageError(f"{wanted} needs --workflow NAME")
    window = {"since": args.since, "until": args.until, "tenant_id": args.tenant}
    if args.skeleton:
        print(json.dumps(skeleton(args.db, args.workflow, **window), indent=2, ensure_ascii=False))
        return 0
    config = _config(workflows, args.workflow) if args.overlay else None
    target = check_output(args.output) if args.output else None
    dfg = discover(args.db, workflow=args.workflow, **window)
    if target is not None:
        print(dfg.diagram(config, min_count=args.min_count).save(target))
        return 0
    edges = dfg.overlay(config) if config is not None else dfg.edges
    rare = (edges["count"] > 0) & (edges["count"] < args.min_count)
    edges = edges[~rare]
    if rare.any():
        left = f"{int(rare.sum()):,} edges taken fewer than {args.min_count:,} times left out"
        print(left, file=sys.stderr)
    if args.format == "json":
        out = {
            "workflow": dfg.workflow,
            "entities": dfg.entities,
            "events": dfg.events,
            "edges": _records(edges),
            "statuses": _records(dfg.dwell),
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    if not dfg.events:
        print("0 history rows: nothing to discover")
    else:
        print(_edge_table(edges))
        print()
        print(_dwell_table(dfg.dwell))
    print(f"{dfg.entities:,} entities, {dfg.events:,} history rows", file=sys.stderr)
    return 0


def _config(workflows: Callable[[], Any], name: str) -> Any:
    known = workflows()
    if known is None or name not in known:
        raise WfnbUsageError(
            f"--overlay: no workflow config named {name!r} in the given paths (or workflows/)"
        )
    return known[name]


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: durations in seconds, missing values null."""
    out = []
    for row in frame.to_dict("records"):
        for name in ("median", "p90"):
            row[f"{name}_seconds"] = _seconds(row.pop(name))
        out.append({str(k): (int(v) if k in {"count", "current"} else v) for k, v in row.items()})
    return out


def _edge_table(edges: Any) -> str:
    shown = edges.assign(
        transition=[
            f"{u} → {v}" for u, v in zip(edges["from_status"], edges["to_status"], strict=True)
        ],
        count=[f"{int(n):,}" for n in edges["count"]],
        median=[_words(v) for v in edges["median"]],
        p90=[_words(v) for v in edges["p90"]],
    )
    columns = ["transition", "count", "median", "p90"]
    if "category" in shown:
        columns.append("category")
    text: str = shown[columns].to_string(index=False)
    return text


def _dwell_table(dwell: Any) -> str:
    shown = dwell.assign(
        stays=[f"{int(n):,}" for n in dwell["count"]],
        last_seen_there=[f"{int(n):,}" for n in dwell["current"]],
        median=[_words(v) for v in dwell["median"]],
        p90=[_words(v) for v in dwell["p90"]],
    )
    text: str = shown[["status", "stays", "last_seen_there", "median", "p90"]].to_string(
        index=False
    )
    return text


def cmd_variants(args: argparse.Namespace) -> int:
    """``wfnb variants``: print the variants, most frequent first."""
    from wfnb.frames.variants import variants  # noqa: PLC0415

    _check(args)
    limit = None if args.all else (args.limit or DEFAULT_VARIANTS)
    found = variants(
        args.db, args.workflow, since=args.since, until=args.until, tenant_id=args.tenant,
        limit=limit,
    )  # fmt: skip
    total = int(found.attrs.get("wfnb_total", len(found)))
    shown = found.assign(
        share=[f"{s:.1%}" for s in found["share"]],
        median=[_words(v) for v in found["median"]],
    )[["count", "share", "median", "variant"]]
    if args.format == "json":
        data = found.drop(columns=["trace", "median"])
        data["median_seconds"] = [_seconds(v) for v in found["median"]]
        print(data.to_json(orient="records", indent=2, force_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(shown.to_csv(index=False))
    elif found.empty:
        print("0 variants")
    else:
        print(shown.to_string(index=False))
    if len(found) < total:
        print(f"{len(found):,} of {total:,} variants — use --limit N or --all", file=sys.stderr)
    else:
        print(f"{len(found):,} variant{'s' * (len(found) != 1)}", file=sys.stderr)
    return 0
