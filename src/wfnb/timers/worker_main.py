"""The durable timer worker as a process (``python -m wfnb.timers.worker_main``).

The runner is either an ``Engine`` built here from ``--workflows PATH`` (with
``--janitors module:function`` returning ``{owning_module: janitor}`` for stale claims), or
whatever ``--runner module:factory`` returns when called with the ``ProcrastinateQueue``. The
process stops cleanly on SIGTERM or SIGINT and exits 0 after an ``event=worker_stopped``
line. ``wfnb worker`` calls ``main`` with its own arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, cast

from wfnb.exceptions import WfnbError, WfnbUsageError
from wfnb.timers.port import RecoveryRunner, TimerRunner

if TYPE_CHECKING:
    from wfnb.timers.durable import ProcrastinateQueue

__all__ = ["RunnerFactory", "build_parser", "load_factory", "main"]

RunnerFactory = Callable[["ProcrastinateQueue"], TimerRunner]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def load_factory(spec: str) -> RunnerFactory:
    """Import ``module:attribute`` and check that it is callable.

    Raises:
        WfnbUsageError: The spec is malformed, the module or attribute is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise WfnbUsageError(f"--runner {spec!r}: expected 'module:factory'", value=spec)
    try:
        target = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise WfnbUsageError(f"--runner {spec!r}: {exc}", value=spec) from exc
    if not callable(target):
        raise WfnbUsageError(f"--runner {spec!r} is not callable", value=spec)
    return cast(RunnerFactory, target)


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
    parser.add_argument("--recovery-cron", default="*/5 * * * *", help="'' disables recovery")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds")
    parser.add_argument("--install", action="store_true", help="install the schema first")
    parser.add_argument("--once", action="store_true", help="stop when no job is due")
    parser.add_argument("--verbose", action="store_true", help="procrastinate's own logs too")
    return parser


def _configure_logging(*, verbose: bool) -> None:
    """INFO lines on stderr (a no-op where logging is already set up, e.g. under pytest)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger("wfnb").setLevel(logging.INFO)
    if not verbose:
        logging.getLogger("procrastinate").setLevel(logging.WARNING)


def engine_factory(paths: Sequence[str], janitors: str | None) -> RunnerFactory:
    """A factory building the ``Engine`` over ``paths`` on the queue's database."""

    def build(queue: ProcrastinateQueue) -> TimerRunner:
        from wfnb.engine import Engine  # noqa: PLC0415  # the worker's only engine import
        from wfnb.validation import load_workflows  # noqa: PLC0415

        engine = Engine(load_workflows(list(paths)), queue.db_url, queue=queue)
        engine.install()
        if janitors:
            for module, janitor in load_factory(janitors)().items():  # type: ignore[call-arg, attr-defined]
                engine.register_janitor(module, janitor)
        return engine

    return build


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker; 0 after a clean stop, 1 on a queue error, 2 on a usage error."""
    args = build_parser().parse_args(argv)
    from wfnb.timers.durable import ProcrastinateQueue  # noqa: PLC0415  # optional extra

    try:
        factory = (
            engine_factory(args.workflows, args.janitors)
            if args.workflows
            else load_factory(args.runner)
        )
        with ProcrastinateQueue(
            args.db, queue_name=args.queue_name, recovery_cron=args.recovery_cron or None
        ) as queue:
            if args.install:
                queue.install()
            runner = factory(queue)
            queue.bind(runner)
            _configure_logging(verbose=args.verbose)
            if args.once and args.recovery_cron and isinstance(runner, RecoveryRunner):
                # One pass means: repair, then run everything due. The periodic recovery
                # job is deferred asynchronously and could land after "nothing is due".
                runner.recover()
            queue.run_worker(wait=not args.once, poll_interval=args.poll_interval)
    except WfnbError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        return 2 if isinstance(exc, WfnbUsageError) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
