"""``%wfnb discover`` and ``%wfnb variants``: their arguments and the small functions behind them.

``discover [WORKFLOW]`` returns the directly-follows graph (it displays as its diagram);
with ``--overlay`` the diagram over the loaded config of that workflow; with
``--skeleton`` a validating config to start from, as JSON text. ``variants [WORKFLOW]``
returns the variants as a DataFrame (``--limit N`` keeps the most frequent and says "N of
M variants"), or with ``--browse`` the paged :class:`~wfnb.jupyter.variants.VariantBrowser`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wfnb.arguments import whole_type
from wfnb.exceptions import WfnbUsageError
from wfnb.jupyter.commands import route

if TYPE_CHECKING:
    from wfnb.jupyter.magics import WfnbMagics

__all__ = ["add_discovery_commands"]


def add_discovery_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``discover`` and ``variants`` subparsers (``add`` is build_parser's helper)."""
    from wfnb.jupyter.parser import moment, positive_int  # noqa: PLC0415  # no import cycle

    discover = add(
        "discover",
        "Each edge: consecutive history rows of an entity, with count, median and p90. "
        "--overlay compares with the loaded config; --skeleton writes a config to start from.",
    )
    discover.add_argument("workflow", nargs="?", help="one workflow's history (default: all)")
    discover.add_argument("--overlay", action="store_true", help="draw over the loaded config")
    discover.add_argument("--skeleton", action="store_true", help="a validating config, as JSON")
    discover.add_argument(
        "--min-count", type=whole_type(1), default=1, help="draw only edges taken N times or more"
    )
    variants = add("variants", "Most frequent first; --limit N keeps N and says 'N of M variants'.")
    variants.add_argument("workflow", nargs="?", help="one workflow's entities (default: all)")
    variants.add_argument("--limit", type=positive_int, help="the N most frequent (0: all)")
    variants.add_argument("--browse", action="store_true", help="a paged variant browser")
    for p in (discover, variants):
        p.add_argument("--since", type=moment, help="history from this ISO date/datetime")
        p.add_argument("--until", type=moment, help="history before this ISO date/datetime")
        p.add_argument("--tenant", help="one tenant's history")


def _window(args: argparse.Namespace) -> dict[str, Any]:
    return {"since": args.since, "until": args.until, "tenant_id": args.tenant}


@route("discover")
def _discover(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.analysis.discovery import discover  # noqa: PLC0415
    from wfnb.analysis.skeleton import skeleton  # noqa: PLC0415

    db = magics.session.history_engine()
    if (args.overlay or args.skeleton) and args.workflow is None:
        raise WfnbUsageError(f"{'--overlay' if args.overlay else '--skeleton'} needs a WORKFLOW")
    if args.overlay and args.skeleton:
        raise WfnbUsageError("give --overlay or --skeleton, not both")
    if args.skeleton:
        return json.dumps(skeleton(db, args.workflow, **_window(args)), indent=2)
    config = magics.session.workflow(args.workflow) if args.overlay else None
    dfg = discover(db, workflow=args.workflow, **_window(args))
    if not dfg.events:
        named = f"workflow {args.workflow!r}" if args.workflow else "any workflow"
        raise WfnbUsageError(f"no history of {named} in this window: nothing to discover")
    if config is not None:
        return dfg.diagram(config, direction=magics.diagram_direction, min_count=args.min_count)
    if args.min_count > 1:
        return dfg.diagram(direction=magics.diagram_direction, min_count=args.min_count)
    return dfg


@route("variants")
def _variants(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.frames.variants import variants  # noqa: PLC0415

    db = magics.session.history_engine()
    if args.browse:
        if args.limit is not None or args.since or args.until or args.tenant:
            raise WfnbUsageError("--browse shows every variant: filter inside the widget")
        from wfnb.jupyter.variants import VariantBrowser  # noqa: PLC0415

        return VariantBrowser(db, magics.session.workflows or (), args.workflow)
    found = variants(db, args.workflow, limit=args.limit or None, **_window(args))
    found.attrs["wfnb_hint"] = "--limit N or omit it for every variant"
    return found
