"""The small functions behind ``%wfnb``: one per command, each calling the public API."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wfnb.exceptions import WfnbUsageError
from wfnb.jupyter.parser import json_object
from wfnb.spec import Workflows
from wfnb.suggest import check_filter_names, did_you_mean

if TYPE_CHECKING:
    from wfnb.jupyter.magics import WfnbMagics

__all__ = ["AUDITED", "ROUTES", "define_use_case"]

Route = Callable[["WfnbMagics", argparse.Namespace], Any]
ROUTES: dict[str, Route] = {}
AUDITED = frozenset(
    {
        "history",
        "failures",
        "conformance",
        "explain",
        "validate",
        "graph",
        "diff",
        "dryrun",
        "discover",
        "variants",
    }
)
"""Commands that may read the database: their SQL is captured for the audit footer."""


def route(name: str) -> Callable[[Route], Route]:
    """Register a command function under ``name``."""

    def register(fn: Route) -> Route:
        ROUTES[name] = fn
        return fn

    return register


@route("help")
def _help(magics: WfnbMagics, args: argparse.Namespace) -> str:
    return magics.parser.format_help()


@route("connect")
def _connect(magics: WfnbMagics, args: argparse.Namespace) -> str:
    from wfnb.store.urls import has_history  # noqa: PLC0415

    engine = magics.session.connect(args.url)
    shown = f"connected to {engine.url.render_as_string(hide_password=True)}"
    if not has_history(engine):  # accepted (an engine may install into it), said plainly
        return (
            f"{shown} (empty database: no history yet; history, failures and conformance "
            "need a wfnb database)"
        )
    return shown


@route("load")
def _load(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    return magics.session.load(args.paths)


@route("validate")
def _validate(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.validation import validate  # noqa: PLC0415

    paths = args.paths or magics.session.workflow_paths
    if not paths:
        raise WfnbUsageError("nothing to validate: give PATH or run %wfnb load PATH first")
    return validate(paths, db=magics.session.engine if args.db else None)


@route("explain")
def _explain(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    session = magics.session
    wf = session.workflow(args.workflow)  # WF200 in one line for an unknown name
    if args.requester not in wf.requester_types:  # as graph and paths: a typo, not an answer
        hint = did_you_mean(args.requester, wf.requester_types)
        known = ", ".join(wf.requester_types)
        raise WfnbUsageError(
            f"{wf.name} has no requester type {args.requester!r}{hint} (known: {known})"
        )
    explanation = session.workflow_engine().explain(
        args.workflow, args.entity, args.requester, step=args.step, tenant_id=args.tenant
    )
    if explanation.status is None and explanation.error is not None:
        raise explanation.error  # an unknown entity is one coded line, not an empty table
    return explanation


@route("graph")
def _graph(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.analysis import diagram  # noqa: PLC0415

    wf = magics.session.workflow(args.workflow)
    window = [f"--{n}" for n in ("since", "until") if getattr(args, n) is not None]
    if window and not args.heat:
        raise WfnbUsageError(f"{' and '.join(window)} choose the history of --heat: add --heat")
    highlight = None
    if args.heat:
        from wfnb.plots import edge_counts  # noqa: PLC0415

        highlight = edge_counts(
            magics.session.engine, wf, since=args.since, until=args.until, tenant_id=args.tenant
        )
    return diagram(
        wf,
        highlight=highlight,
        focus=args.focus,
        depth=args.depth,
        requester_type=args.requester,
        direction=magics.diagram_direction,
        tenant=args.tenant,
    )


@route("paths")
def _paths(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.analysis import paths  # noqa: PLC0415

    wf = magics.session.workflow(args.workflow)
    if args.requester is not None and args.requester not in wf.requester_types:
        raise WfnbUsageError(f"{wf.name} has no requester type {args.requester!r}")
    return paths(wf.for_tenant(args.tenant), requester_type=args.requester)


@route("diff")
def _diff(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.analysis import diff, diff_revisions, diff_tenant  # noqa: PLC0415

    db = magics.session.engine if args.db else None
    if args.tenant is not None:  # a loaded workflow's name, or a file, against a tenant
        if args.new is not None or args.rev:
            raise WfnbUsageError("diff NAME --tenant T: one loaded workflow (or file), no --rev")
        named = (magics.session.workflows or Workflows()).get(args.old)
        return diff_tenant(named if named is not None else args.old, args.tenant, db=db)
    # a missing file is the loader's WF100, as on the command line
    if args.rev:
        if args.new is not None or len(args.rev) != 2:  # old and new
            raise WfnbUsageError("diff FILE --rev OLD --rev NEW: one file, two revisions")
        return diff_revisions(args.old, args.rev[0], args.rev[1], db=db)
    if args.new is None:
        raise WfnbUsageError("diff needs two workflow files, or one file and --rev twice")
    return diff(args.old, args.new, db=db)


def _limit(magics: WfnbMagics, args: argparse.Namespace) -> int | None:
    """``--all``: none; ``--limit N``: N; else the ``row_limit`` option (0: none)."""
    if args.all and args.limit is not None:
        raise WfnbUsageError("give --limit N or --all, not both")
    if args.all:
        return None
    if args.limit is not None:
        return int(args.limit) or None  # 0: every row, as the row_limit option
    if magics.row_limit < 0:
        raise WfnbUsageError(
            f"WfnbMagics.row_limit must be 0 (every row) or more (got {magics.row_limit})"
        )
    return magics.row_limit or None


def _filters(magics: WfnbMagics, args: argparse.Namespace) -> dict[str, Any]:
    if args.workflow is not None:
        magics.session.workflow(args.workflow)  # WF200 for an unknown name
    if magics.session.workflows is not None:  # a misspelt step or status: WF400, not 0 rows
        status = getattr(args, "status", None)
        check_filter_names(magics.session.workflows, args.workflow, args.step, status)
    return {
        "workflow": args.workflow,
        "entity_id": args.entity,
        "tenant_id": args.tenant,
        "since": args.since,
        "until": args.until,
        "step": args.step,
        "user": args.user,
        "limit": _limit(magics, args),
    }


def _hinted(frame: Any) -> Any:
    """A cut frame's display names the magic's way out: ``--limit N`` or ``--all``."""
    frame.attrs["wfnb_hint"] = "--limit N or --all for more"
    return frame


@route("history")
def _history(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb import frames  # noqa: PLC0415

    db = magics.session.history_engine()
    return _hinted(
        frames.history(
            db, **_filters(magics, args), kind=args.kind, status=args.status, progress=False
        )
    )


@route("failures")
def _failures(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb import frames  # noqa: PLC0415

    db = magics.session.history_engine()
    return _hinted(frames.failures(db, **_filters(magics, args), code=args.code, progress=False))


@route("conformance")
def _conformance(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.analysis.conformance import conformance  # noqa: PLC0415

    wfs = magics.session.require_workflows()
    if args.workflow is not None:
        wfs = Workflows({args.workflow: magics.session.workflow(args.workflow)})
    engine = magics.session.history_engine()
    return conformance(engine, wfs, now=args.now, incremental=args.incremental)


@route("dryrun")
def _dryrun(magics: WfnbMagics, args: argparse.Namespace) -> Any:
    from wfnb.sandbox import dry_run  # noqa: PLC0415

    session = magics.session
    session.workflow(args.workflow)
    step: Any = args.step
    if step is not None and step.lstrip().startswith("{"):
        step = json_object(step)
    result = dry_run(
        session.engine,
        session.require_workflows(),
        args.workflow,
        args.entity,
        args.requester,
        step=step,
        data=args.data,
        use_cases=dict(session.use_cases),
        tenant_id=args.tenant,
        tables=args.tables,
        now=args.now,
    )
    error = result.result.error
    if error is not None and error.code in _MISTAKES:
        raise error  # an unknown entity or step is one coded line, not an empty diff
    return result


_MISTAKES = frozenset({"WF200", "WF201", "WF202", "WF203", "WF208", "WF209"})
"""Step errors that mean the call itself was wrong: nothing ran, nothing to show."""


@dataclass(frozen=True)
class DefinedUseCase:
    """What ``%%wfnb_usecase`` shows: the name it registered, in words (not a function repr)."""

    name: str
    function: Callable[..., Any]

    def __repr__(self) -> str:
        return (
            f"use case {self.name!r} defined: dry-runs in this notebook use it wherever a "
            f"workflow names {self.name!r}"
        )


def define_use_case(magics: WfnbMagics, name: str, cell: str) -> DefinedUseCase:
    """Run the cell in the user namespace and register the function it defines."""
    try:
        tree = ast.parse(cell)
    except SyntaxError as exc:
        raise WfnbUsageError(
            f"the cell is not valid Python: {exc.msg} (line {exc.lineno})"
        ) from exc
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not defined:
        raise WfnbUsageError("the cell defines no function")
    target = name or defined[-1]
    if target not in defined:
        raise WfnbUsageError(f"the cell defines no function named {target!r}")
    shell = magics.shell
    assert shell is not None  # a magic always runs inside a shell
    result = shell.run_cell(cell, silent=True)
    if not result.success:
        err = result.error_in_exec or result.error_before_exec
        raise WfnbUsageError(f"the cell failed: {type(err).__name__}: {err}")
    fn = shell.user_ns[target]
    magics.session.use_cases[target] = fn
    return DefinedUseCase(target, fn)
