"""``sandbox(db, wfs)``: a full ``Engine`` on a throwaway copy that never writes ``db``.

The copy is lazy: the engine-owned tables start empty, and an entity row (with its
history and failure-log rows) is copied into its shadow the first time a call touches
it, with the engine's tenant filter: a call copies only what its tenant may see (ADR
0063). An entity table's shadow accepts every status the workflows declare, even one the
source's status constraint lacks yet (a prototype status; ``shadows.widened`` says which).
Every other table is read through from the source, read-only; name module tables
the use cases write in ``tables=`` to give them writable copies too. A write to a table
without a shadow fails (the source is read-only) and is noted in ``Sandbox.refused``:
``dry_run`` then shadows that table and runs again (ADR 0064).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from wfnb.engine import inputs
from wfnb.engine.clock import Clock
from wfnb.engine.core import WorkflowsLike
from wfnb.exceptions import WfnbError, WfnbUsageError
from wfnb.sandbox.connection import PLAIN, Isolated, isolate
from wfnb.sandbox.engine import SandboxEngine, prototyped, statuses_by_table
from wfnb.sandbox.relay import ClockRelay, QueueRelay
from wfnb.spec import EntitySpec
from wfnb.store.errors import refused_as_read_only, wrap_errors, written_table
from wfnb.store.shadow import Shadows, typed_ids
from wfnb.timers import InMemoryQueue, VirtualClock

__all__ = ["Sandbox"]


class Sandbox:
    """A throwaway database next to a source, and a full engine on it.

    Attributes:
        engine: the ``Engine`` (use it as any other; it only ever writes the sandbox).
        shadows: the sandbox's writable tables and what was copied into them.
        refused: unqualified tables a statement tried to write since the last reset that
            have no shadow (the read-only source refused it); name them in ``tables=``.
    """

    def __init__(
        self,
        db: sa.Engine | str | sa.URL,
        wfs: WorkflowsLike | None = None,
        *,
        clock: Clock | None = None,
        tables: Iterable[str] = (),
        use_cases: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._clock = ClockRelay(clock)
        self._queue = QueueRelay(self._clock)
        self.tables = tuple(tables)
        qualified = [t for t in self.tables if "." in t]
        if qualified:
            raise WfnbUsageError(
                f"tables= names module tables by their unqualified name; got {qualified}: "
                "a use case's writes to a schema-qualified table cannot be redirected"
            )
        self._iso: Isolated = isolate(db)
        try:
            workflows = prototyped(wfs, use_cases or {})
            self.engine = SandboxEngine(
                workflows, self._iso.engine, queue=self._queue, clock=self._clock
            )
            self.engine.sandbox = self
            for wf in self.engine.workflows.values():
                for name, fn in (use_cases or {}).items():
                    self.engine.use_cases.override(wf, name, fn)
            with self._iso.engine.begin() as conn:
                self.shadows = Shadows(
                    conn,
                    self._iso.source_schema,
                    self._iso.shadow_schema,
                    aliases=self._iso.aliases,
                )
                statuses = statuses_by_table(self.engine.workflows.values())
                for name in self.tables:
                    self.shadows.table(conn, name, statuses=statuses.get(name))
                for wf in self.engine.workflows.values():
                    # the engine's entity table IS the shadow (a schema-qualified name
                    # too), and no reflection can happen inside a step's transaction
                    table = wf.entity.table
                    _, shadow = self.shadows.table(conn, table, statuses=statuses[table])
                    self.engine.store.use_table(table, shadow)
            self._iso.settle()
            self._probe = "; ".join(
                str(stmt.compile(dialect=self.db.dialect, compile_kwargs={"literal_binds": True}))
                for stmt in (self.shadows.see_all_statement(), self.shadows.holds_rows())
            )
            self._tables_due = bool(self.tables)
            self._tenant_set = False  # may app.tenant_id be set in the open transaction?
            self.refused: set[str] = set()
            event.listen(self._iso.engine, "handle_error", self._note_refusal)
        except BaseException:
            self._iso.close()
            raise

    def _note_refusal(self, context: sa.engine.ExceptionContext) -> None:
        """A statement failed: note the table if it was a write the read-only source refused."""
        if not refused_as_read_only(context.original_exception):
            return
        table = written_table(context.statement)
        if table is not None and "." not in table and not self.shadows.shadowed(table):
            self.refused.add(table)

    @property
    def db(self) -> sa.Engine:
        """The sandbox's SQLAlchemy engine (one connection; reads see the sandbox's writes)."""
        return self._iso.engine

    @property
    def queue(self) -> InMemoryQueue:
        """The in-memory timer queue of the current run (``queue.pending()``: timers armed)."""
        return self._queue.current

    @property
    def clock(self) -> Clock:
        """The engine's clock for the current run (a ``VirtualClock`` unless one was given)."""
        return self._clock.current

    def _copy_tables(self, tenant_id: str | None = None) -> None:
        """Copy the ``tables=`` whole, once per run, when the run first needs the sandbox.

        Not at the end of a reset: on PostgreSQL the copy opens the run's transaction,
        and a kept sandbox must not sit between dry-runs in a transaction holding locks
        on the source's tables (a migration would wait on it). Copied as the run's
        first call's tenant: what its use cases would see under row-level security.
        """
        if self._tables_due:
            self._tables_due = False
            with self._copying(tenant_id) as conn:
                for name in self.tables:
                    self.shadows.copy_table(conn, name)

    def reset(self, clock: Clock | None = None) -> None:
        """Throw away every write so far; start again with a fresh clock and queue.

        A use case that sent a raw ``COMMIT`` made some of its writes outlive a rollback
        (PostgreSQL; only in the shadows: the session is read-only elsewhere): the reset
        sees rows left in the shadows and empties them, so the next run starts clean.
        """
        if self._iso.rollback is not None:
            with wrap_errors("sandbox reset"):
                committed = self._iso.rollback(self._probe)
            self.shadows.forget()
            if committed:
                with self._copying(None) as conn:
                    self.shadows.see_all(conn)
                    self.shadows.clear(conn)
                self._iso.settle()
        else:
            with wrap_errors("sandbox reset"):
                self._iso.unwind()
            with self.engine.store.transaction() as conn:
                self.shadows.clear(conn)
        self._clock.current = clock if clock is not None else VirtualClock()
        self._queue.renew(self._clock)
        self._tables_due = bool(self.tables)
        self._tenant_set = False  # rolled back (PostgreSQL; never set on SQLite)
        self.refused.clear()

    def use_clock(self, clock: Clock) -> None:
        """Run the current run on ``clock`` (an empty queue on it); the next reset drops it."""
        self._clock.current = clock
        self._queue.renew(self._clock)

    def include(
        self,
        workflow: str,
        entity_ids: Iterable[Any],
        *,
        tenant_id: str | None = None,
        logs: bool = True,
    ) -> list[str]:
        """Copy these entities of ``workflow`` into the sandbox (already copied: skipped).

        With ``logs``, their history and failure-log rows come along (claim recovery
        reads them; a single step does not).

        Returns:
            The ids copied by this call.
        """
        self._copy_tables(tenant_id)
        spec = self.engine.workflow(workflow).entity
        ids = self.shadows.missing(spec.table, self._keys(spec, entity_ids))
        if not ids:
            if tenant_id is None and self._tenant_set:
                with self._copying(None):
                    pass  # only unset the tenant an earlier call left set
            return []
        with self._copying(tenant_id) as conn:
            return self.shadows.copy_entities(
                conn, workflow, spec, ids, tenant_id=tenant_id, logs=logs
            )

    def _keys(self, spec: EntitySpec, entity_ids: Iterable[Any]) -> list[Any]:
        """The ids an entity of ``spec`` can have: the engine answers the others (WF208)."""
        table = self.shadows.shadow(spec.table)
        found = []
        for i in entity_ids:
            try:
                inputs.entity_key(table, spec.id_column, i)
            except WfnbError:
                continue
            found.append(i)
        return found

    def _include_row(
        self, workflow: str, entity_id: Any, *, tenant_id: str | None = None
    ) -> dict[str, Any] | None:
        """Copy one entity (no logs) and return its sandbox row; ``include`` + read, fused.

        An entity copied earlier is read back instead (it may have changed since), as is
        one copied where ``INSERT ... RETURNING`` is missing (SQLite before 3.35); with
        ``tenant_id``, as the engine reads it: only if it is that tenant's.
        """
        self._copy_tables(tenant_id)
        spec = self.engine.workflow(workflow).entity
        if not self._keys(spec, [entity_id]):
            return None  # an id no entity can have: the engine says so (WF208 / WF201)
        fused = self.db.dialect.insert_returning
        if not fused or not self.shadows.missing(spec.table, [entity_id]):
            self.include(workflow, [entity_id], tenant_id=tenant_id, logs=False)
            key = typed_ids(self.shadows.shadow(spec.table).c[spec.id_column], [entity_id])[0]
            where = {spec.id_column: key}
            if tenant_id is not None and spec.tenant_column is not None:
                where[spec.tenant_column] = tenant_id
            rows = self.rows(spec.table, where)
            return rows[0] if rows else None
        with self._copying(tenant_id) as conn:
            return self.shadows.copy_entity(conn, spec, entity_id, tenant_id=tenant_id)

    def called(self) -> None:
        """An engine call ran: it may have left ``app.tenant_id`` set (PostgreSQL)."""
        self._tenant_set = self.engine.store.is_postgres

    @contextmanager
    def _copying(self, tenant_id: str | None) -> Iterator[sa.Connection]:
        """A transaction for copying rows in: no savepoint (nothing to undo), the tenant set.

        PostgreSQL: ``app.tenant_id`` is transaction-local, and the sandbox's transaction
        outlives each call; a call without a tenant after one with a tenant gets it unset
        again here, as a fresh transaction of the real engine would have it.
        """
        with wrap_errors("sandbox copy"), self.db.connect() as raw:
            conn = raw.execution_options(**{PLAIN: True})
            with conn.begin():
                if self.engine.store.is_postgres and (tenant_id is not None or self._tenant_set):
                    self.engine.store.set_tenant(conn, tenant_id or "")
                    self._tenant_set = tenant_id is not None
                yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction on the sandbox (it sees all the sandbox's rows)."""
        self._copy_tables()
        with self.engine.store.transaction(readonly=True) as conn:
            self.shadows.see_all(conn)
            try:
                yield conn
            finally:  # the outer transaction carries on: engine calls see what they may
                with contextlib.suppress(sa.exc.SQLAlchemyError):  # an aborted one: moot
                    self.shadows.see_all(conn, on=False)

    def rows(
        self,
        table: str,
        where: Mapping[str, Any] | None = None,
        conn: sa.Connection | None = None,
    ) -> list[dict[str, Any]]:
        """The sandbox's rows of ``table`` (a shadow), optionally ``column == value`` filtered."""
        params = dict(where or {})
        stmt = self.shadows.select(table, tuple(params))
        if conn is not None:
            return [dict(r) for r in conn.execute(stmt, params).mappings()]
        with self.read() as own:
            return [dict(r) for r in own.execute(stmt, params).mappings()]

    def close(self) -> None:
        """Throw the sandbox away (PostgreSQL: roll the session back and close it)."""
        self._iso.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Sandbox of {self._iso.engine.dialect.name} {sorted(self.engine.workflows)}>"
