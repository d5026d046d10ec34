"""The durable timer worker as a process (``python -m wfnb.timers.worker_main``).

The runner is either an ``Engine`` built here from ``--workflows PATH`` (with
``--janitors module:function`` returning ``{owning_module: janitor}`` for stale claims), or
whatever ``--runner module:factory`` returns when called with the ``ProcrastinateQueue``. The
process stops cleanly on SIGTERM or SIGINT and exits 0 after an ``event=worker_stopped``
line. ``wfnb worker`` calls ``main`` with its own arguments.

Recovery (ADR 0052): a pass when the worker starts, then every ``--recovery-interval``
seconds: jobs of workers silent for ``--stalled-after`` seconds (killed inside a job) go back
to the queue, then the runner re-arms lost timers and hands stale claims to janitors.
``--recovery-cron CRON`` schedules the pass as a procrastinate periodic job instead;
``--recovery-cron ''`` or ``--recovery-interval 0`` turns recovery off.

The outbox (ADR 0102): every ``--outbox-cron`` tick (every second by default) a procrastinate
job delivers ``workflow_outbox`` to the ``--subscriber module:function`` subscribers.

``--log-format json`` writes every record as one JSON object per line on standard output
(run records carry the correlation id, tenant, user, requester, workflow, entity, step,
statuses, outcome, error code and duration); ``text`` (the default) writes lines on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, cast

from wfnb.exceptions import ConfigError, StoreError, WfnbError, WfnbUsageError
from wfnb.logs import configure_logging
from wfnb.timers.port import TimerRunner

if TYPE_CHECKING:
    from wfnb.spec import Workflow
    from wfnb.timers.durable import ProcrastinateQueue

__all__ = [
    "OUTBOX_CRON",
    "RunnerFactory",
    "add_log_format_argument",
    "add_outbox_arguments",
    "add_recovery_arguments",
    "add_undeclared_argument",
    "build_parser",
    "cron_expression",
    "load_factory",
    "main",
    "outbox_cron_expression",
    "recovery_options",
    "require_entity_tables",
    "subscribe",
]

RunnerFactory = Callable[["ProcrastinateQueue"], TimerRunner]


def load_factory(spec: str, option: str = "--runner") -> RunnerFactory:
    """Import ``module:attribute`` and check that it is callable.

    ``option`` is the option the spec came from, named in the error.

    Raises:
        WfnbUsageError: The spec is malformed, the module or attribute is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        shape = "module:factory" if option == "--runner" else "module:function"
        raise WfnbUsageError(f"{option} {spec!r}: expected '{shape}'", value=spec)
    try:
        target = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise WfnbUsageError(f"{option} {spec!r}: {exc}", value=spec) from exc
    if not callable(target):
        raise WfnbUsageError(f"{option} {spec!r} is not callable", value=spec)
    return cast(RunnerFactory, target)


def cron_expression(text: str, *, off: str = "recovery") -> str:
    """An argparse type: a cron expression croniter accepts, or '' (``off`` turned off)."""
    from croniter import croniter  # type: ignore[import-untyped]  # noqa: PLC0415

    if text.strip() and not croniter.is_valid(text):
        raise argparse.ArgumentTypeError(
            f"not a cron expression: {text!r} (e.g. '*/5 * * * *'; '' turns {off} off)"
        )
    return text


def outbox_cron_expression(text: str) -> str:
    """``--outbox-cron``'s argparse type: a cron expression, or '' (delivery off)."""
    return cron_expression(text, off="outbox delivery")


def build_parser() -> argparse.ArgumentParser:
    """The worker's command line."""
    parser = argparse.ArgumentParser(
        prog="wfnb worker", description="Run due wfnb timers from PostgreSQL."
    )
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the PostgreSQL database")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--workflows", action="append", metavar="PATH", help="workflow files or folders"
    )
    source.add_argument("--runner", help="module:factory returning the runner")
    parser.add_argument(
        "--janitors", help="module:function returning {owning_module: janitor} (with --workflows)"
    )
    parser.add_argument("--queue-name", default="wfnb_timers")
    add_recovery_arguments(parser)
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds")
    parser.add_argument("--install", action="store_true", help="install the schema first")
    parser.add_argument("--audit-trigger", action="store_true", help=AUDIT_TRIGGER_HELP)
    add_undeclared_argument(parser)
    parser.add_argument("--once", action="store_true", help="stop when no job is due")
    parser.add_argument("--verbose", action="store_true", help="procrastinate's own logs too")
    add_log_format_argument(parser)
    add_outbox_arguments(parser)
    return parser


AUDIT_TRIGGER_HELP = (
    "install the audit trigger: a status changed outside the engine is recorded as a "
    "history row of kind manual (docs/audit-trigger.md)"
)


def add_outbox_arguments(parser: argparse.ArgumentParser) -> None:
    """``--subscriber module:function`` (repeatable) and ``--outbox-cron`` (ADR 0102)."""
    parser.add_argument(
        "--subscriber",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="a durable subscriber of 'transition' events from the outbox (repeatable): "
        "called at least once per event, per entity in commit order; event.key is the "
        "idempotency key",
    )
    parser.add_argument(
        "--outbox-cron",
        type=outbox_cron_expression,
        default=OUTBOX_CRON,
        help=f"deliver the outbox on this cron (default {OUTBOX_CRON!r}: every second); "
        "'' disables delivery",
    )


OUTBOX_CRON = "* * * * * *"
"""The worker's default outbox delivery: every second (croniter's sixth field: seconds)."""


def subscribe(runner: object, specs: Sequence[str]) -> None:
    """Register each ``module:function`` as a durable ``transition`` subscriber of ``runner``.

    Raises:
        WfnbUsageError: a spec does not import, or the runner takes no durable subscribers.
    """
    if not specs:
        return
    register = getattr(runner, "subscribe_durable", None)
    if not callable(register):
        raise WfnbUsageError(
            f"--subscriber: the runner {type(runner).__name__} has no subscribe_durable"
        )
    for spec in specs:
        register("transition", load_factory(spec, "--subscriber"))  # called with an Event


def add_undeclared_argument(parser: argparse.ArgumentParser) -> None:
    """``--allow-undeclared-statuses``: start although entities sit at undeclared statuses."""
    parser.add_argument(
        "--allow-undeclared-statuses",
        action="store_true",
        help="start although an entity table holds statuses its workflow does not declare "
        "(a forgotten migration, WF112): each is logged as a WARNING",
    )


def add_log_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--log-format json|text``: JSON lines on standard output, or text on stderr."""
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line on stdout (ADR 0100); text: lines on stderr",
    )


def add_recovery_arguments(parser: argparse.ArgumentParser) -> None:
    """``--recovery-interval``, ``--stalled-after`` and ``--recovery-cron``.

    The values are checked by ``RecoveryPolicy`` (WF400 for a negative or non-finite one).
    """
    parser.add_argument(
        "--recovery-interval",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="seconds between recovery passes (stalled jobs, lost timers); 0 disables",
    )
    parser.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="a worker silent this long is dead and its jobs are retried (same on every worker)",
    )
    parser.add_argument(
        "--recovery-cron",
        type=cron_expression,
        default=None,
        help="run the recovery pass on this cron instead of the interval; '' disables recovery",
    )


def recovery_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ProcrastinateQueue`` keywords the recovery arguments ask for."""
    cron: str | None = args.recovery_cron
    interval: float | None = args.recovery_interval or None
    if cron is not None:  # a cron replaces the interval; '' turns recovery off
        interval, cron = None, cron or None
    return {
        "recovery_interval": interval,
        "recovery_cron": cron,
        "stalled_after": args.stalled_after,
    }


def _configure_logging(*, verbose: bool, log_format: Literal["json", "text"]) -> None:
    """INFO records of every logger: JSON lines on stdout, or text lines on stderr.

    The handler goes on the root logger, so procrastinate's records (WARNING and up,
    everything with ``--verbose``) come out in the same format as wfnb's run records.
    """
    stream: Literal["stdout", "stderr"] = "stdout" if log_format == "json" else "stderr"
    configure_logging(log_format, logging.INFO, stream, logger="")
    logging.getLogger("wfnb").setLevel(logging.INFO)
    logging.getLogger("procrastinate").setLevel(logging.NOTSET if verbose else logging.WARNING)


def engine_factory(
    paths: Sequence[str],
    janitors: str | None,
    *,
    allow_undeclared_statuses: bool = False,
    audit_trigger: bool = False,
) -> RunnerFactory:
    """A factory building the ``Engine`` over ``paths`` on the queue's database.

    ``Engine.install()`` refuses entities at undeclared statuses (WF112, exit 1) unless
    ``allow_undeclared_statuses``; ``audit_trigger`` installs the audit trigger (ADR 0104).
    """

    def build(queue: ProcrastinateQueue) -> TimerRunner:
        from wfnb.engine import Engine  # noqa: PLC0415  # the worker's only engine import
        from wfnb.validation import load_workflows  # noqa: PLC0415

        workflows = load_workflows(list(paths))
        janitor_factory = load_factory(janitors, "--janitors") if janitors else None
        require_entity_tables(workflows.values(), queue.db_url)  # before anything is created
        engine = Engine(workflows, queue.db_url, queue=queue)
        engine.install(
            allow_undeclared_statuses=allow_undeclared_statuses, audit_trigger=audit_trigger
        )
        if janitor_factory is not None:
            for module, janitor in janitor_factory().items():  # type: ignore[call-arg, attr-defined]
                engine.register_janitor(module, janitor)
        return engine

    return build


def require_entity_tables(workflows: Iterable[Workflow], db_url: str) -> None:
    """Refuse to start when a workflow's entity table does not exist (WF112).

    Without it every timer and every recovery pass would fail on a missing table.

    Raises:
        ConfigError: one WF112 problem per missing table.
        StoreError: the database cannot be read (WF300).
    """
    import sqlalchemy as sa  # noqa: PLC0415

    from wfnb.problems import Problem, Severity  # noqa: PLC0415

    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        problems = []
        for wf in workflows:
            schema, _, table = wf.entity.table.rpartition(".")
            if not inspector.has_table(table, schema=schema or None):
                where = wf.source_file or f"<workflow {wf.name}>"
                message = (
                    f"table {wf.entity.table!r} does not exist: create the entity tables "
                    "before starting the worker"
                )
                problems.append(Problem("WF112", Severity.ERROR, where, "/entity/table", message))
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read the database: {type(exc).__name__}: {exc}") from None
    finally:
        engine.dispose()
    if problems:
        raise ConfigError(problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker; 0 after a clean stop, 1 on a queue error, 2 on a usage error."""
    args = build_parser().parse_args(argv)
    from wfnb.timers.durable import ProcrastinateQueue  # noqa: PLC0415  # optional extra

    try:
        factory = (
            engine_factory(
                args.workflows,
                args.janitors,
                allow_undeclared_statuses=args.allow_undeclared_statuses,
                audit_trigger=args.audit_trigger,
            )
            if args.workflows
            else load_factory(args.runner)
        )
        for spec in args.subscriber:  # a bad spec stops the worker before it connects
            load_factory(spec, "--subscriber")
        with ProcrastinateQueue(
            args.db,
            queue_name=args.queue_name,
            outbox_cron=args.outbox_cron or None,
            **recovery_options(args),
        ) as queue:
            if args.install:
                queue.install()
            # before the runner: its start-up warnings (WF112 allowed) come out formatted
            _configure_logging(verbose=args.verbose, log_format=args.log_format)
            runner = factory(queue)
            subscribe(runner, args.subscriber)
            queue.bind(runner)
            # --once: the start-up pass repairs, then everything due runs.
            queue.run_worker(wait=not args.once, poll_interval=args.poll_interval)
    except WfnbError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        return 2 if isinstance(exc, WfnbUsageError) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
