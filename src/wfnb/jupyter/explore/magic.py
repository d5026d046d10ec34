"""``%wfnb explore [WORKFLOW]``: the explorer widget over the connected database."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wfnb.jupyter.commands import route

if TYPE_CHECKING:
    from wfnb.jupyter.magics import WfnbMagics

__all__ = ["add_explore_command"]


def add_explore_command(add: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``explore`` subparser (``add`` is build_parser's helper)."""
    p = add(
        "explore",
        "Pan (drag), zoom (wheel, buttons), click a status for its entities, an entity for "
        "its timeline; hover an edge for its numbers; overlays toggle in place.",
    )
    p.add_argument("workflow", nargs="?", help="the workflow to open (default: the first)")
    p.add_argument("--tenant", help="open filtered to one tenant")
    p.add_argument(
        "--overlay",
        choices=("none", "heat", "deviations", "requester", "diff"),
        default="none",
        help="the overlay to open with",
    )


@route("explore")
def _explore(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.jupyter.explore import Explorer  # noqa: PLC0415  # anywidget on use

    wfs = magics.session.require_workflows()
    if args.workflow is not None:
        magics.session.workflow(args.workflow)  # WF200 when unknown
    x = Explorer(
        magics.session.history_engine(),
        wfs,
        args.workflow,
        tenant=args.tenant,
        direction=magics.diagram_direction,
    )
    x.overlay = args.overlay
    return x
