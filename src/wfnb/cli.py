"""The ``wfnb`` command line: argument parsing and a router to small command functions.

Exit codes: 0 ok, 1 problems found (or a wfnb error), 2 usage error. No input, however
bad, prints a traceback: errors are one line with their code (``WFNB_DEBUG=1`` shows the
traceback of an unexpected internal error), and a bad input creates nothing (inputs are
checked first, see :mod:`wfnb.cli_checks`). ``wfnb CMD --help`` prints a command's help.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from wfnb.arguments import moment_type, whole_type
from wfnb.cli_checks import (
    check_output,
    check_workflow_paths,
    count,
    database_to_fill,
    days,
    empty_folders,
    existing_database,
    family_line,
    one_line,
    positive,
    read_scenario,
    seconds,
    seconds_or_zero,
)
from wfnb.cli_dashboard import add_dashboard_command, cmd_dashboard
from wfnb.cli_discover import add_discovery_commands, cmd_discover, cmd_variants
from wfnb.cli_logs import add_log_commands, cmd_failures, cmd_history
from wfnb.exceptions import UnknownWorkflowError, WfnbError, WfnbUsageError
from wfnb.suggest import did_you_mean

if TYPE_CHECKING:
    from wfnb.spec import Workflow, Workflows

__all__ = ["COMMANDS", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
MAX_DEMO_MONTHS = 1200
"""The longest demo (100 years): more would run past the calendar's year 9999."""


class _HelpShown(Exception):  # noqa: N818  # a signal, not an error
    """``--help`` was given; carries the text main() prints (exit 0)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns every exit code."""

    def error(self, message: str) -> NoReturn:
        raise WfnbUsageError(f"{self.prog}: {message}")

    def print_help(self, file: object = None) -> NoReturn:
        raise _HelpShown(self.format_help())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise WfnbUsageError(message or f"{self.prog}: exit {status}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from wfnb.validation import validate  # noqa: PLC0415  # keep `wfnb --help` fast

    check_workflow_paths(args.paths)
    db = existing_database(args.db) if args.db else None
    report = validate(args.paths, db=db)
    empty = empty_folders(args.paths)  # a folder without workflows is a problem, not "ok"
    problems = [*empty, *report.problems]
    ok = report.ok and not empty
    if args.format == "json":
        listed = [p.as_dict() for p in empty] + list(report.to_json())
        print(json.dumps({"ok": ok, "problems": listed}, indent=2))
    else:
        for problem in problems:
            print(problem.one_line())
        errors = len(report.errors) + len(empty)
        summary = f"{len(report.workflows)} workflow(s), {errors} error(s), "
        print(summary + f"{len(report.warnings)} warning(s)", file=sys.stderr)
    return EXIT_OK if ok else EXIT_PROBLEMS


def _cmd_schema(args: argparse.Namespace) -> int:
    from wfnb.spec import schema  # noqa: PLC0415

    text = json.dumps(schema(), indent=2, sort_keys=True)
    if args.output:
        check_output(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_OK


DEFAULT_FOLDER = "workflows"


def _workflows(paths: Sequence[str]) -> Workflows:
    """The workflows at ``paths`` (default: ``workflows/`` here), validated."""
    from wfnb.exceptions import ConfigError  # noqa: PLC0415
    from wfnb.validation import load_workflows  # noqa: PLC0415

    if not paths:
        if not Path(DEFAULT_FOLDER).is_dir():
            raise WfnbUsageError(f"no workflow PATH given and no {DEFAULT_FOLDER}/ folder here")
        paths = [DEFAULT_FOLDER]
    check_workflow_paths(paths)
    empty = empty_folders(paths)
    if empty:
        raise ConfigError(empty)
    return load_workflows(list(paths))


def _named(wfs: Workflows, name: str) -> Workflow:
    if name not in wfs:
        known = ", ".join(sorted(wfs)) or "none"
        hint = did_you_mean(name, wfs)
        raise UnknownWorkflowError(
            f"unknown workflow {name!r}{hint} (loaded: {known})", workflow=name
        )
    return wfs[name]


def _one_of(value: str | None, known: Sequence[str], missing: str) -> None:
    """A usage error naming the closest of ``known`` when ``value`` is not one of them."""
    if value is not None and value not in known:
        hint = did_you_mean(value, known)
        raise WfnbUsageError(f"{missing} {value!r}{hint} (known: {', '.join(known)})")


def _known_workflows(paths: Sequence[str]) -> Workflows | None:
    """The workflows ``paths`` (or ``workflows/`` here) name, to check a ``--workflow`` filter.

    Only names matter here: workflows with config problems still count, and without any
    path or folder there is nothing to check against (None).
    """
    from wfnb.validation import validate  # noqa: PLC0415

    if not paths and not Path(DEFAULT_FOLDER).is_dir():
        return None
    from wfnb.exceptions import ConfigError  # noqa: PLC0415

    paths = list(paths) or [DEFAULT_FOLDER]
    check_workflow_paths(paths)
    empty = empty_folders(paths)
    if empty:  # WF100: nothing to check against, not "unknown workflow (loaded: )"
        raise ConfigError(empty)
    return validate(paths).workflows


_SUFFIX = {"svg": ".svg", "png": ".png", "dot": ".dot", "mermaid": ".mmd"}


def _cmd_graph(args: argparse.Namespace) -> int:
    from wfnb.analysis import diagram  # noqa: PLC0415
    from wfnb.analysis.render import render  # noqa: PLC0415

    wf = _named(_workflows(args.paths), args.name)
    _one_of(args.focus, wf.status_types, f"{wf.name} has no status")
    _one_of(args.requester, wf.requester_types, f"{wf.name} has no requester type")
    output = args.output or f"{wf.name}{_SUFFIX[args.format]}"
    if output == "-" and args.format == "png":
        raise WfnbUsageError("PNG is binary: write it to a file (-o NAME.png), not to stdout")
    target = None if output == "-" else check_output(output)
    drawn = diagram(wf, focus=args.focus, depth=args.depth, requester_type=args.requester)
    if args.format == "png":
        data = render(drawn.dot, "png")
        assert target is not None  # refused above
        target.write_bytes(data)
    else:
        formats = {"svg": drawn.svg, "dot": lambda: drawn.dot, "mermaid": drawn.mermaid}
        text = formats[args.format]()
        if target is None:
            print(text)
            return EXIT_OK
        target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(target)
    return EXIT_OK


def _cmd_paths(args: argparse.Namespace) -> int:
    from wfnb.analysis import paths  # noqa: PLC0415

    wf = _named(_workflows(args.paths), args.name)
    _one_of(args.requester, wf.requester_types, f"{wf.name} has no requester type")
    print(paths(wf, args.requester))
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from wfnb.analysis import diff, diff_revisions  # noqa: PLC0415

    files, revs = args.files, args.rev or []
    db = existing_database(args.db) if args.db else None
    check_workflow_paths(files)
    if len(files) == 2 and not revs:
        changes = diff(files[0], files[1], db=db)
    elif len(files) == 1 and 1 <= len(revs) <= 2:
        changes = diff_revisions(files[0], revs[0], revs[1] if len(revs) == 2 else None, db=db)
    else:
        raise WfnbUsageError(
            "wfnb diff: give OLD NEW (two files), or one FILE with --rev A [--rev B]"
        )
    print(changes)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from wfnb.analysis.report import report  # noqa: PLC0415

    db = existing_database(args.db) if args.db else None
    wfs = _workflows(args.paths)
    print(report(wfs, check_output(args.output), db=db, now=args.now))
    return EXIT_OK


def _cmd_conformance(args: argparse.Namespace) -> int:
    from wfnb.analysis.conformance import conformance  # noqa: PLC0415

    wfs = _workflows(args.paths)
    result = conformance(existing_database(args.db), wfs, now=args.now)
    _warn_before_history(args.db, args.now)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(result)
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def _warn_before_history(db: str, now: datetime | str | None) -> None:
    """A warning on stderr when ``--now`` is before the first history row."""
    from wfnb import frames  # noqa: PLC0415

    if not isinstance(now, datetime):
        return
    first = frames.history(db, limit=1, newest_first=False, progress=False)
    if first.empty:
        return
    start = first["changed_at"].iloc[0].to_pydatetime()
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    if now < start:
        print(
            f"warning: --now {now.isoformat()} is before the first history row "
            f"({start.isoformat()}): timers and claims are judged before anything happened",
            file=sys.stderr,
        )


def _cmd_worker(args: argparse.Namespace) -> int:
    from wfnb.timers import worker_main  # noqa: PLC0415  # procrastinate only when used

    paths = list(args.paths) or ([DEFAULT_FOLDER] if Path(DEFAULT_FOLDER).is_dir() else [])
    if not paths:
        raise WfnbUsageError(f"no workflow PATH given and no {DEFAULT_FOLDER}/ folder here")
    check_workflow_paths(paths)
    existing_database(args.db)  # a bad URL is WF400, a missing database WF300
    argv = ["--db", args.db, "--poll-interval", str(args.poll_interval)]
    argv += [a for p in paths for a in ("--workflows", p)]
    argv += ["--recovery-interval", str(args.recovery_interval)]
    argv += ["--stalled-after", str(args.stalled_after)]
    argv += ["--recovery-cron", args.recovery_cron] if args.recovery_cron is not None else []
    argv += ["--janitors", args.janitors] if args.janitors else []
    argv += ["--once"] if args.once else []
    argv += ["--install"] if args.install else []
    argv += ["--allow-undeclared-statuses"] if args.allow_undeclared_statuses else []
    argv += ["--log-format", args.log_format]
    return worker_main.main(argv)


def _cron(text: str) -> str:
    from wfnb.timers.worker_main import cron_expression  # noqa: PLC0415

    return cron_expression(text)


def _cmd_demo(args: argparse.Namespace) -> int:
    from wfnb.simulation import build_demo  # noqa: PLC0415

    database_to_fill(args.db, create=True)
    report = build_demo(
        args.db, seed=args.seed, months=args.months, users=args.users, progress=not args.quiet
    )
    print(repr(report))
    print(report.simulation)
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    import sqlalchemy as sa  # noqa: PLC0415

    from wfnb import testing  # noqa: PLC0415
    from wfnb.simulation import simulate  # noqa: PLC0415
    from wfnb.timers.worker_main import load_factory  # noqa: PLC0415

    wfs = _workflows(args.paths)
    scenario = read_scenario(args.scenario, wfs)
    factory = None
    if args.schema:
        try:
            factory = load_factory(args.schema)
        except WfnbUsageError as exc:  # the worker's loader names its own option
            message = exc.message.replace("--runner", "--schema", 1)
            raise WfnbUsageError(message, value=args.schema) from None
    database_to_fill(args.db, create=bool(args.schema or args.create_tables))
    engine = sa.create_engine(args.db)
    try:
        if factory is not None:
            factory(engine)  # type: ignore[arg-type]
        if args.create_tables:
            existing = set(sa.inspect(engine).get_table_names())
            for wf in wfs.values():
                if wf.entity.table not in existing:
                    testing.create_entity_table(engine, wf)
    finally:
        engine.dispose()
    report = simulate(
        args.db,
        wfs,
        scenario,
        entities=args.entities,
        until=timedelta(days=args.days),
        seed=args.seed,
        progress=not args.quiet,
    )
    print(report)
    return EXIT_OK


Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "validate": _cmd_validate,
    "schema": _cmd_schema,
    "graph": _cmd_graph,
    "paths": _cmd_paths,
    "diff": _cmd_diff,
    "report": _cmd_report,
    "conformance": _cmd_conformance,
    "worker": _cmd_worker,
    "demo": _cmd_demo,
    "simulate": _cmd_simulate,
    "history": lambda args: cmd_history(args, lambda: _known_workflows(args.paths)),
    "failures": lambda args: cmd_failures(args, lambda: _known_workflows(args.paths)),
    "discover": lambda args: cmd_discover(args, lambda: _known_workflows(args.paths)),
    "variants": cmd_variants,
    "dashboard": lambda args: cmd_dashboard(args, [DEFAULT_FOLDER]),
}

_PATHS_HELP = f"workflow JSON files or folders (default: {DEFAULT_FOLDER}/)"


def _add_analysis(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The reviewers' commands: graph, paths, diff, report, conformance."""
    p = sub.add_parser(
        "graph",
        help="draw a workflow into a file (SVG, PNG, DOT or Mermaid)",
        description="Draw a workflow into NAME.svg (or .png, .dot, .mmd) here, or -o PATH; "
        "-o - prints it. The file's path is printed.",
    )
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("--format", choices=["svg", "png", "dot", "mermaid"], default="svg")
    p.add_argument(
        "-o", "--output", help="the file to write (default: NAME.svg here); - prints to stdout"
    )
    p.add_argument("--focus", help="draw only the statuses around this one")
    p.add_argument(
        "--depth", type=count, default=1, help="radius around --focus (0 or more, default 1)"
    )
    p.add_argument("--requester", help="draw only what this requester type can trigger")

    p = sub.add_parser("paths", help="reachability, dead ends, cycles, paths to terminals")
    p.add_argument("name", help="the workflow's name")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("--requester", help="follow only what this requester type can trigger")

    p = sub.add_parser("diff", help="what changed between two versions of a workflow")
    p.add_argument("files", nargs="+", metavar="FILE", help="OLD NEW, or one FILE with --rev")
    p.add_argument("--rev", action="append", help="a git revision (give one or two)")
    p.add_argument("--db", help="count the entities a migration moves (SQLAlchemy URL)")

    p = sub.add_parser("report", help="write the self-contained HTML report for reviewers")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("-o", "--output", default="report.html", help="default: report.html")
    p.add_argument("--db", help="add the conformance of this database's history")
    p.add_argument("--now", type=_moment, help=_NOW_HELP)

    p = sub.add_parser("conformance", help="check recorded history against the configs")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the database (SQLAlchemy URL)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--now", type=_moment, help=_NOW_HELP)


_NOW_HELP = (
    "judge timers and claims at this moment: an ISO date/datetime (an offset is converted to "
    "UTC; naive = UTC), 'end' (the "
    "last history row) or 'wall' (the clock); default: 'end' for the demo, else the clock"
)


def _moment(text: str) -> datetime | str:
    """``--now``: an ISO date or datetime (naive means UTC), ``end`` or ``wall``."""
    if text in {"end", "wall"}:
        return text
    return moment_type(text)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    parser = _Parser(prog="wfnb", description="Entity-is-state workflows: check, run, review.")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    p = sub.add_parser("validate", help="validate workflow files or folders")
    p.add_argument("paths", nargs="+", help="workflow JSON files or folders")
    p.add_argument("--db", help="also check a live database (SQLAlchemy URL): WF112")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = sub.add_parser("schema", help="print the JSON Schema of a workflow file")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    _add_analysis(sub)

    p = sub.add_parser("worker", help="run due timers and claim recovery (PostgreSQL)")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the PostgreSQL database (SQLAlchemy URL)")
    p.add_argument("--janitors", help="module:function returning {owning_module: janitor}")
    p.add_argument(
        "--recovery-interval",
        type=seconds_or_zero,
        default=300.0,
        metavar="SECONDS",
        help="seconds between recovery passes (stalled jobs, lost timers); 0 disables",
    )
    p.add_argument(
        "--stalled-after",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is dead and its jobs are retried (same on every worker)",
    )
    p.add_argument(
        "--recovery-cron",
        type=_cron,
        help="the recovery pass on a cron instead (e.g. '*/5 * * * *'); '' disables it",
    )
    p.add_argument("--poll-interval", type=seconds, default=5.0, help="seconds (> 0)")
    p.add_argument("--install", action="store_true", help="install the queue's schema first")
    p.add_argument(
        "--allow-undeclared-statuses",
        action="store_true",
        help="start although entities sit at statuses their workflow does not declare "
        "(WF112); each is logged as a WARNING",
    )
    p.add_argument("--once", action="store_true", help="stop when no job is due")
    p.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line on stdout; text: lines on stderr",
    )
    _add_simulation(sub)
    add_log_commands(sub, _PATHS_HELP)
    add_discovery_commands(sub, _PATHS_HELP)
    add_dashboard_command(sub, _PATHS_HELP)
    return parser


def _add_simulation(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The demo dataset and the simulation harness."""
    p = sub.add_parser("demo", help="build the energy-community demo dataset (~6 months)")
    p.add_argument("--db", default="sqlite:///demo.db", help="an empty database (URL)")
    p.add_argument("--seed", type=count, default=7, help="0 or more (default 7)")
    p.add_argument(
        "--months",
        type=whole_type(2, MAX_DEMO_MONTHS),
        default=6,
        help=f"from 2 to {MAX_DEMO_MONTHS} (default 6)",
    )
    p.add_argument("--users", type=positive, default=3000, help="members (default 3000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("simulate", help="drive entities through workflows on a virtual clock")
    p.add_argument("paths", nargs="*", default=[], help=_PATHS_HELP)
    p.add_argument("--db", required=True, help="the database to fill (URL)")
    p.add_argument("--scenario", required=True, help="the scenario (a JSON file)")
    p.add_argument("--schema", help="module:function(engine) creating the entity tables")
    p.add_argument(
        "--create-tables", action="store_true", help="create minimal entity tables that are missing"
    )
    p.add_argument("--entities", type=count, help="arrivals per workflow (0 or more)")
    p.add_argument("--days", type=days, default=30.0, help="virtual days to simulate (> 0)")
    p.add_argument("--seed", type=count, default=0, help="0 or more (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _check_command(argv: Sequence[str], commands: Sequence[str]) -> None:
    """An unknown first word is a usage error naming the closest commands."""
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        hint = did_you_mean(argv[0], commands)
        raise WfnbUsageError(f"wfnb: unknown command {argv[0]!r}{hint} (wfnb --help lists them)")


EXIT_PIPE = 141
"""Exit code when stdout's reader went away (as a shell reports SIGPIPE)."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (captured in tests): nothing will be flushed to a pipe


def _tolerant_streams() -> None:
    """Print any path (non-UTF-8 bytes included) instead of failing on it."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911  # one exit per outcome
    """Run the command line; returns the exit code (``python -m wfnb`` exits with it)."""
    _tolerant_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _check_command(argv, list(COMMANDS))
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except _HelpShown as shown:
        print(str(shown), end="")
        return EXIT_OK
    except WfnbUsageError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except WfnbError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `wfnb history ... | head`: the reader left, nothing to say
        _silence_stdout()
        return EXIT_PIPE
    except Exception as exc:  # noqa: BLE001  # the last line of defence: never a traceback
        if os.environ.get("WFNB_DEBUG"):
            traceback.print_exc()
        coded = family_line(exc)
        if coded is not None:
            print(coded, file=sys.stderr)
            return EXIT_USAGE if coded.startswith("WF400") else EXIT_PROBLEMS
        print(f"WF000: internal error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_PROBLEMS
