"""The durable job queue: timers as procrastinate jobs on PostgreSQL (see ADR 0050).

One procrastinate ``App`` on a ``PsycopgConnector`` serves both sides: deferring from sync
code (the engine, after a commit) goes through the connector's sync pool, and the worker
(``run_worker``) opens the async pool in the same process. Inside the worker, a runner
that arms new timers defers through the worker's own loop. Each arming is claimed in the
timer ledger first, so a dedup key is armed once even after its job ran; the worker records
in the ledger when a job's runner returned, so a key whose job never finished can be armed
again. A running worker heartbeats, and its recovery pass (``wfnb.timers.recovery``: at
start, then every ``recovery_interval`` seconds) hands the jobs of dead workers back to the
queue before the runner's own repair (ADR 0052). Timer jobs and recovery passes run in
cron contexts (``wfnb.cron``: ``wfnb.timers``, ``wfnb.recovery``; ADR 0103).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import procrastinate
import sqlalchemy as sa
from procrastinate import exceptions as pexc
from procrastinate import utils as putils

from wfnb.engine.cron import cron
from wfnb.exceptions import QueueError, StoreError, WfnbError
from wfnb.store import ledger
from wfnb.timers import recovery
from wfnb.timers.execution import RECOVERY_CRON, log_event, outcome_of, run_job
from wfnb.timers.outbox_task import register_outbox_task
from wfnb.timers.pgurl import libpq_conninfo, psycopg_url
from wfnb.timers.port import MAX_REARMS, RecoveryRunner, TimerJob, TimerRunner

__all__ = ["RECOVER_TASK", "TIMER_TASK", "ProcrastinateQueue"]

TIMER_TASK = "wfnb.timers.fire"
"""procrastinate task name of a timer job (payload: ``job=TimerJob.to_json()``)."""
RECOVER_TASK = "wfnb.timers.recover"
"""procrastinate task name of the periodic recovery pass."""

logger = logging.getLogger("wfnb.timers")

_RETRY = procrastinate.RetryStrategy(
    max_attempts=5, exponential_wait=10, retry_exceptions=[StoreError]
)
"""A runner raising ``StoreError`` (database down, ...) is retried after 10 s, 100 s, ..."""


class ProcrastinateQueue:
    """A ``JobQueue`` whose jobs are procrastinate jobs in PostgreSQL.

    Args:
        db_url: A SQLAlchemy URL (``postgresql+psycopg://...``, query parameters such as
            ``host`` and ``options=-csearch_path=...`` honoured) or a SQLAlchemy engine.
        queue_name: The procrastinate queue the timers and recovery jobs go to.
        recovery_interval: Seconds between two recovery passes of a running worker (the
            first runs when it starts): stalled jobs retried, then ``runner.recover()``.
            ``None`` runs no pass.
        stalled_after: Seconds without a heartbeat after which a worker counts as dead and
            its running jobs as stalled (the same value for every worker of a queue).
        recovery_cron: Also defer the pass as a procrastinate periodic job on this cron
            (one pass per tick across all workers); the start-up pass runs as well.
        outbox_cron: Deliver the outbox on this cron (``"* * * * * *"``: every second) as
            a procrastinate periodic job calling ``runner.deliver_outbox()`` (ADR 0102).
        max_rearms: How often the ledger re-arms a key whose job never finished.
        pool_size: Most connections each of procrastinate's pools opens.

    Example:
        >>> queue = ProcrastinateQueue("postgresql+psycopg://app@db/app")
        >>> queue.install()                     # idempotent
        >>> engine = Engine(wfs, db, queue=queue)
        >>> queue.run_worker()                  # or: wfnb worker
    """

    def __init__(
        self,
        db_url: str | sa.URL | sa.Engine,
        *,
        queue_name: str = "wfnb_timers",
        recovery_interval: float | None = 300.0,
        stalled_after: float = 30.0,
        recovery_cron: str | None = None,
        outbox_cron: str | None = None,
        max_rearms: int = MAX_REARMS,
        pool_size: int = 4,
    ) -> None:
        self.queue_name = queue_name
        self.recovery_policy = recovery.RecoveryPolicy(
            interval=recovery_interval, stalled_after=stalled_after
        )
        self.recovery_cron = recovery_cron
        self.max_rearms = max_rearms
        self.url = psycopg_url(db_url)
        self._owns_engine = not isinstance(db_url, sa.Engine)
        self._sa = db_url if isinstance(db_url, sa.Engine) else sa.create_engine(self.url)
        self._connector = procrastinate.PsycopgConnector(
            conninfo=libpq_conninfo(self.url), min_size=1, max_size=pool_size
        )
        self.app = procrastinate.App(connector=self._connector)
        self._runner: TimerRunner | None = None
        self._timer_task = self.app.task(name=TIMER_TASK, queue=queue_name, retry=_RETRY)(
            self._fire
        )
        if recovery_cron is not None:
            recover = self.app.task(name=RECOVER_TASK, queue=queue_name)(self._recover)
            self.app.periodic(cron=recovery_cron, periodic_id=queue_name)(recover)
        if outbox_cron:
            register_outbox_task(self.app, queue_name, outbox_cron, lambda: self._runner)

    @property
    def db_url(self) -> str:
        """The database URL (password included), for runner factories."""
        return self.url.render_as_string(hide_password=False)

    def bind(self, runner: TimerRunner) -> None:
        """Set who runs due jobs (the engine)."""
        self._runner = runner

    def install(self) -> bool:
        """Install procrastinate's schema and the timer ledger where absent.

        Idempotent and safe to race: installers of one schema serialise on an advisory
        lock, and procrastinate's schema (not idempotent itself) is applied only when its
        jobs table is not visible on the ``search_path``.

        Returns:
            Whether procrastinate's schema was applied by this call.
        """
        with self._store("install"), self._sa.begin() as conn:
            ledger.lock_install(conn)
            applied = not ledger.procrastinate_installed(conn)
            if applied:
                with self._procrastinate("install"):
                    self._sync().schema_manager.apply_schema()
            ledger.create_ledger(conn)
        log_event(logger, logging.INFO, "queue_installed", queue=self.queue_name, applied=applied)
        return applied

    def enqueue(self, job: TimerJob) -> bool:
        """Arm ``job`` as a procrastinate job scheduled at ``job.due_at``.

        Returns:
            ``False`` when ``job.dedup_key`` was armed before (a retry never arms twice).

        Raises:
            QueueError: The database refused or failed.
        """
        key = job.dedup_key
        with self._store("enqueue"), self._sa.begin() as conn:
            rearmed = False
            claimed = ledger.claim_key(
                conn,
                dedup_key=key,
                workflow=job.workflow,
                entity_id=job.entity_id,
                timer_key=job.timer_key,
                entered_version=job.entered_version,
                due_at=job.due_at,
            )
            if not claimed:
                claimed = rearmed = ledger.rearm_key(
                    conn, key, due_at=job.due_at, max_rearms=self.max_rearms
                )
            if not claimed:
                return False
            deferrer = self._timer_task.configure(
                schedule_at=job.due_at, queueing_lock=key, queue=self.queue_name
            )
            try:
                with self._procrastinate("enqueue"):
                    self._sync()
                    job_id = deferrer.defer(job=job.to_json())
            except pexc.AlreadyEnqueued:  # armed before the ledger knew it: that job stands
                waiting = ledger.waiting_job_id(conn, key)
                if waiting is not None:
                    ledger.record_job_id(conn, key, waiting)
                return False
            ledger.record_job_id(conn, key, job_id)
        if rearmed:
            log_event(
                logger, logging.WARNING, "timer_rearmed", queue=self.queue_name, dedup_key=key
            )
        return True

    def pending(self) -> list[TimerJob]:
        """Timer jobs still waiting (procrastinate status ``todo``), earliest due first."""
        with self._procrastinate("pending"):
            rows = self._sync().job_manager.list_jobs(
                task=TIMER_TASK, status="todo", queue=self.queue_name
            )
        jobs = [TimerJob.from_json(_payload(row.task_kwargs)) for row in rows]
        return sorted(jobs, key=lambda j: (j.due_at, j.dedup_key))

    def armed_keys(self, workflow: str, entity_id: str) -> list[str]:
        """Every dedup key ever armed for one entity (from the ledger), oldest first."""
        with self._store("armed_keys"), self._sa.connect() as conn:
            return ledger.ledger_keys(conn, workflow, str(entity_id))

    def run_worker(
        self,
        *,
        wait: bool = True,
        install_signal_handlers: bool = True,
        poll_interval: float = 5.0,
        concurrency: int = 1,
    ) -> None:
        """Run the procrastinate worker on this queue until stopped (SIGINT/SIGTERM).

        A recovery pass runs first (unless recovery is off), then every
        ``recovery_interval`` seconds while the worker waits for jobs. With ``wait=False``
        it returns once no job is due. Logs ``event=worker_started`` and
        ``event=worker_stopped`` lines around the run, one line per job and per pass in
        between. Not from inside a running event loop (a notebook): use
        ``run_worker_async``.
        """
        asyncio.run(
            self.run_worker_async(
                wait=wait,
                install_signal_handlers=install_signal_handlers,
                poll_interval=poll_interval,
                concurrency=concurrency,
            )
        )

    async def run_worker_async(
        self,
        *,
        wait: bool = True,
        install_signal_handlers: bool = True,
        poll_interval: float = 5.0,
        concurrency: int = 1,
    ) -> None:
        """``run_worker`` inside a running event loop."""
        if self._runner is None:
            raise QueueError(f"{self.queue_name}: no runner bound; call queue.bind(engine) first")
        self.close()  # the worker opens the async pool; the sync one would sit idle
        policy = self.recovery_policy
        log_event(
            logger,
            logging.INFO,
            "worker_started",
            queue=self.queue_name,
            wait=wait,
            recovery_interval=policy.interval,
            stalled_after=policy.stalled_after,
        )
        with self._procrastinate("worker"):
            async with self.app.open_async():
                side, stop = None, asyncio.Event()
                if self.recovers and not wait:  # repair first, then run everything due
                    await self._recovery_pass("start", raise_errors=False)
                elif self.recovers:  # beside the worker, whose signal handlers then hold
                    side = asyncio.create_task(self._recovery_loop(policy.interval, stop))
                try:
                    await self.app.run_worker_async(
                        queues=[self.queue_name],
                        name=self.queue_name,
                        wait=wait,
                        install_signal_handlers=install_signal_handlers,
                        fetch_job_polling_interval=poll_interval,
                        concurrency=concurrency,
                        delete_jobs="successful",
                        update_heartbeat_interval=policy.heartbeat_interval,
                        stalled_worker_timeout=policy.stalled_after,
                    )
                finally:
                    stop.set()
                    if side is not None:
                        await side  # a pass under way ends first: its thread holds the pool
        log_event(logger, logging.INFO, "worker_stopped", queue=self.queue_name)

    @property
    def recovers(self) -> bool:
        """Whether a worker runs recovery passes (an interval or a cron is set)."""
        return self.recovery_policy.interval is not None or self.recovery_cron is not None

    def retry_stalled(self) -> list[int]:
        """Hand the stalled jobs of this queue back to it now; return their ids.

        What the worker's recovery pass does first, for an operator's shell. Not from
        inside a running event loop.

        Raises:
            QueueError: The database failed.
        """

        async def run() -> list[int]:
            async with self.app.open_async():
                return await recovery.retry_stalled(
                    self.app, self._sa, self.queue_name, self.recovery_policy
                )

        with self._store("retry_stalled"), self._procrastinate("retry_stalled"):
            return asyncio.run(run())

    def close(self) -> None:
        """Release the sync connection pool (and the SQLAlchemy engine this queue made)."""
        with self._procrastinate("close"):
            self._connector.get_sync_connector().close()

    def dispose(self) -> None:
        """``close`` plus the SQLAlchemy engine, when this queue created it."""
        self.close()
        if self._owns_engine:
            self._sa.dispose()

    def __enter__(self) -> ProcrastinateQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        url = self.url.render_as_string(hide_password=True)
        return f"<ProcrastinateQueue {self.queue_name!r} on {url}>"

    def _fire(self, job: dict[str, Any]) -> str:
        """The procrastinate task: rebuild the job, hand it to the runner, record the finish.

        The finish goes to the ledger only after the runner returned (whatever the step's
        outcome): a job killed before that stays unfinished, and its retry, finding the
        entity moved on when the step had committed, does nothing.
        """
        try:
            timer = TimerJob.from_json(job)
        except WfnbError as exc:
            log_event(  # procrastinate logs the traceback once
                logger,
                logging.ERROR,
                "timer_failed",
                queue=self.queue_name,
                error=exc.code,
                payload=job,
            )
            raise
        outcome = outcome_of(run_job(self._runner, timer, queue=self.queue_name))
        with self._store("finish"), self._sa.begin() as conn:
            ledger.mark_finished(conn, timer.dedup_key)
        return outcome

    async def _recover(self, timestamp: int) -> str:
        """The periodic task (``recovery_cron``): one recovery pass."""
        return await self._recovery_pass(timestamp, raise_errors=True)

    async def _recovery_loop(self, interval: float | None, stop: asyncio.Event) -> None:
        """A pass now, then every ``interval`` seconds until ``stop``; failures are logged."""
        await self._recovery_pass("start", raise_errors=False)
        while interval is not None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                await self._recovery_pass("interval", raise_errors=False)
            else:
                return

    async def _recovery_pass(self, tick: object, *, raise_errors: bool) -> str:
        """Stalled jobs back to the queue, then ``runner.recover()`` (in a thread).

        Logs ``event=recovery_ran`` (with ``stalled=N`` jobs retried), or
        ``event=recovery_failed`` and, unless ``raise_errors``, carries on.
        """
        runner = self._runner
        try:
            with self._store("recover"), self._procrastinate("recover"):
                retried = await recovery.retry_stalled(
                    self.app, self._sa, self.queue_name, self.recovery_policy
                )
            outcome, counts = "skipped", dict[str, Any]()
            if isinstance(runner, RecoveryRunner):
                # as procrastinate runs a sync task: deferrals inside go through this loop;
                # in the thread, inside the pass's own cron context (ADR 0103)
                done = await putils.sync_to_async(_in_cron(RECOVERY_CRON, runner.recover))
                # the engine's pass returns its counts: fields of the record, not "dict"
                counts = dict(done) if isinstance(done, Mapping) else {}
                outcome = "ran" if isinstance(done, Mapping) else outcome_of(done)
        except Exception as exc:
            error = exc.code if isinstance(exc, WfnbError) else type(exc).__name__
            log_event(
                logger,
                logging.ERROR,
                "recovery_failed",
                exc_info=True,
                queue=self.queue_name,
                error=error,
            )
            if raise_errors:
                raise
            return "failed"
        log_event(
            logger,
            logging.INFO,
            "recovery_ran",
            queue=self.queue_name,
            tick=tick,
            outcome=outcome,
            stalled=len(retried),
            **counts,
        )
        return outcome

    def _sync(self) -> procrastinate.App:
        """The app, with a sync pool open unless the worker's async pool serves."""
        sync = self._connector.get_sync_connector()
        if sync is not self._connector:
            sync.open()
        return self.app

    @contextmanager
    def _store(self, operation: str) -> Iterator[None]:
        with _wrapped(operation, self.queue_name, sa.exc.SQLAlchemyError):
            yield

    @contextmanager
    def _procrastinate(self, operation: str) -> Iterator[None]:
        with _wrapped(operation, self.queue_name, pexc.ConnectorException, pexc.AppNotOpen):
            yield


def _in_cron(name: str, fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` run in a fresh ``wfnb.cron(name)`` context (on whatever thread calls it)."""

    def run() -> object:
        with cron(name):
            return fn()

    return run


def _payload(task_kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = task_kwargs.get("job")
    if not isinstance(payload, Mapping):
        raise QueueError(f"a {TIMER_TASK} job has no payload: {dict(task_kwargs)!r}")
    return payload


@contextmanager
def _wrapped(operation: str, queue: str, *kinds: type[Exception]) -> Iterator[None]:
    """Turn a driver or procrastinate error into ``QueueError``, once, at this boundary."""
    try:
        yield
    except kinds as exc:
        raise QueueError(f"{queue}: {operation} failed: {exc}", operation=operation) from exc
