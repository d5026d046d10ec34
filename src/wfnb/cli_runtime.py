"""``wfnb worker``, ``demo`` and ``simulate``: the commands that run workflows."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from wfnb.arguments import whole_type
from wfnb.cli_checks import (
    check_workflow_paths,
    count,
    database_to_fill,
    days,
    existing_database,
    positive,
    read_scenario,
    seconds,
    seconds_or_zero,
)
from wfnb.cli_common import DEFAULT_FOLDER, EXIT_OK, PATHS_HELP, Subparsers, load_workflows_at
from wfnb.cli_outbox import add_outbox_arguments
from wfnb.exceptions import WfnbUsageError

__all__ = ["MAX_DEMO_MONTHS", "RUNTIME_COMMANDS", "add_runtime_commands"]

MAX_DEMO_MONTHS = 1200
"""The longest demo (100 years): more would run past the calendar's year 9999."""


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
    argv += ["--audit-trigger"] if args.audit_trigger else []
    argv += ["--allow-undeclared-statuses"] if args.allow_undeclared_statuses else []
    argv += ["--log-format", args.log_format]
    argv += [a for spec in args.subscriber for a in ("--subscriber", spec)]
    argv += ["--outbox-cron", args.outbox_cron]
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

    wfs = load_workflows_at(args.paths)
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


def _add_simulation(sub: Subparsers[Any]) -> None:
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
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
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


def add_runtime_commands(sub: Subparsers[Any]) -> None:
    """``worker``, then ``demo`` and ``simulate``."""
    p = sub.add_parser("worker", help="run due timers and claim recovery (PostgreSQL)")
    p.add_argument("paths", nargs="*", default=[], help=PATHS_HELP)
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
        "--audit-trigger",
        action="store_true",
        help="install the audit trigger first: a status changed outside the engine is "
        "recorded as a history row of kind manual (docs/audit-trigger.md)",
    )
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
    add_outbox_arguments(p)
    _add_simulation(sub)


RUNTIME_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "worker": _cmd_worker,
    "demo": _cmd_demo,
    "simulate": _cmd_simulate,
}
