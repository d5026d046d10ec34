"""``wfnb outbox drain|status`` and the worker's outbox options (ADR 0102).

``drain`` runs delivery passes of ``workflow_outbox`` to ``--subscriber module:function``
subscribers until nothing more is delivered: what delivers on SQLite (procrastinate, and
so ``wfnb worker``, needs PostgreSQL), and an operator's tool on PostgreSQL. ``status``
prints the pending and delivered counts (counted in SQL).
"""

from __future__ import annotations

import argparse
from typing import Any

from wfnb.arguments import whole_type
from wfnb.cli_checks import existing_database

__all__ = ["OUTBOX_CRON", "add_outbox_arguments", "add_outbox_command", "cmd_outbox"]

OUTBOX_CRON = "* * * * * *"
"""The worker's default outbox delivery: every second (croniter's sixth field: seconds)."""
_SUBSCRIBER_HELP = (
    "MODULE:FUNCTION, a durable subscriber of 'transition' events (repeatable): called at "
    "least once per event, per entity in commit order; event.key is the idempotency key"
)


def add_outbox_arguments(p: argparse.ArgumentParser) -> None:
    """``wfnb worker``'s ``--subscriber`` and ``--outbox-cron``."""
    p.add_argument("--subscriber", action="append", default=[], help=_SUBSCRIBER_HELP)
    p.add_argument(
        "--outbox-cron",
        type=_cron,
        default=OUTBOX_CRON,
        help=f"deliver the outbox on this cron (default {OUTBOX_CRON!r}: every second); "
        "'' disables delivery",
    )


def _cron(text: str) -> str:
    from wfnb.timers.worker_main import outbox_cron_expression  # noqa: PLC0415

    return outbox_cron_expression(text)


def add_outbox_command(sub: Any) -> None:
    """``wfnb outbox drain`` and ``wfnb outbox status``."""
    p = sub.add_parser(
        "outbox",
        help="deliver or count the transactional outbox (workflow_outbox)",
        description="Deliver workflow_outbox to durable subscribers, or count its rows.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    drain = actions.add_parser(
        "drain", help="deliver pending events until none is left (SQLite's delivery)"
    )
    drain.add_argument("--db", required=True, help="the database (SQLAlchemy URL)")
    drain.add_argument("--subscriber", action="append", required=True, help=_SUBSCRIBER_HELP)
    drain.add_argument(
        "--limit", type=whole_type(1), default=1000, help="rows per pass (default 1000)"
    )
    status = actions.add_parser("status", help="pending and delivered counts")
    status.add_argument("--db", required=True, help="the database (SQLAlchemy URL)")


def cmd_outbox(args: argparse.Namespace) -> int:
    """Run ``wfnb outbox ACTION``; 0 when every pending event was delivered (drain)."""
    from wfnb.engine.outbox import DurableSubscribers, deliver_outbox  # noqa: PLC0415
    from wfnb.store import Store  # noqa: PLC0415
    from wfnb.store import outbox as rows  # noqa: PLC0415
    from wfnb.timers.worker_main import load_factory  # noqa: PLC0415

    existing_database(args.db)
    subscribers = DurableSubscribers()
    for spec in getattr(args, "subscriber", None) or ():
        fn: Any = load_factory(spec, "--subscriber")
        subscribers.subscribe("transition", fn)
    store = Store(args.db)
    try:
        if args.action == "status":
            with store.transaction(readonly=True) as conn:
                counts = rows.outbox_counts(conn)
            print(f"{counts['pending']:,} pending, {counts['delivered']:,} delivered")
            return 0
        delivered = failed = 0
        while True:
            report = deliver_outbox(store, subscribers, limit=args.limit)
            delivered, failed = delivered + report.delivered, failed + report.failed
            if not report.ran or report.delivered == 0 or report.pending == 0:
                break
        print(f"{delivered:,} delivered, {failed:,} failed, {report.pending:,} pending")
        return 0 if report.pending == 0 else 1
    finally:
        store.dispose()
