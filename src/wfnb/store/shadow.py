"""Shadow tables: writable, initially empty copies of the tables a sandboxed run writes.

A shadow has the source table's columns, types, primary key and CHECK constraints, and
nothing that points outside the sandbox (no foreign keys, no sequences shared with the
source). It lives where unqualified names find it first: SQLite's ``main`` (the source is
an attached read-only schema), PostgreSQL's ``pg_temp``. Rows are copied into it one
entity at a time with ``INSERT ... SELECT`` on the sandbox's own connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG

__all__ = ["Shadows", "typed_ids"]

ENGINE_TABLES = (HISTORY, PERMANENT_FAILURE_LOG)


def _server_default(column: sa.Column[Any]) -> Any:
    default = column.server_default
    text = str(getattr(default, "arg", ""))
    return None if "nextval(" in text else default  # a serial's own sequence is made anew


def _copy_shape(table: sa.Table, metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """A table shaped like ``table`` in ``schema``: columns, primary key, CHECKs only."""
    columns = [
        sa.Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            server_default=_server_default(c),
            autoincrement=c.autoincrement,
        )
        for c in table.columns
    ]
    checks = [
        sa.CheckConstraint(c.sqltext, name=c.name)
        for c in table.constraints
        if isinstance(c, sa.CheckConstraint)
    ]
    return sa.Table(table.name, metadata, *columns, *checks, schema=schema)


class Shadows:
    """The shadow tables of one sandbox and what has been copied into them."""

    def __init__(self, conn: sa.Connection, source_schema: str | None, shadow: str | None) -> None:
        if source_schema is None:
            source_schema = conn.execute(sa.select(sa.func.current_schema())).scalar_one()
        self.source_schema = source_schema
        self.shadow_schema = shadow
        self._source_md = sa.MetaData(schema=source_schema)
        self._shadow_md = sa.MetaData()
        self._tables: dict[str, tuple[sa.Table, sa.Table]] = {}
        self._copied: set[tuple[str, str]] = set()
        self._stmts: dict[tuple[str, ...], sa.Executable] = {}
        for table in ENGINE_TABLES:
            source = table.to_metadata(self._source_md, schema=source_schema)
            self._add(conn, source)

    def _add(self, conn: sa.Connection, source: sa.Table) -> tuple[sa.Table, sa.Table]:
        target = _copy_shape(source, self._shadow_md, self.shadow_schema)
        target.create(conn)
        self._tables[source.name] = (source, target)
        return source, target

    def table(self, conn: sa.Connection, name: str) -> tuple[sa.Table, sa.Table]:
        """``(source, shadow)`` for table ``name``, the shadow created on first use."""
        found = self._tables.get(name)
        if found is None:
            source = sa.Table(name, self._source_md, autoload_with=conn)
            found = self._add(conn, source)
        return found

    def copy_table(self, conn: sa.Connection, name: str) -> int:
        """Copy every row of ``name`` (a module table the use cases write): the row count."""
        source, target = self.table(conn, name)
        stmt = sa.insert(target).from_select([c.name for c in source.columns], sa.select(source))
        return conn.execute(stmt).rowcount

    def missing(self, table: str, ids: Iterable[Any]) -> list[Any]:
        """The ids not copied into shadow ``table`` yet."""
        return [i for i in ids if (table, str(i)) not in self._copied]

    def copy_entities(
        self,
        conn: sa.Connection,
        workflow: str,
        entity: EntitySpec,
        ids: Iterable[Any],
        *,
        logs: bool = True,
    ) -> list[str]:
        """Copy the entity rows (with ``logs``, their history and failure-log rows too).

        A step never reads the logs; claim recovery reads the latest ``claimed`` row.

        Returns:
            The ids copied by this call (as text).
        """
        new = self.missing(entity.table, ids)
        if not new:
            return []
        source, _target = self.table(conn, entity.table)
        key = source.c[entity.id_column]
        conn.execute(self._copy_rows(entity), {"wfnb_ids": typed_ids(key, new)})
        texts = [str(i) for i in new]
        for table in ENGINE_TABLES if logs else ():
            conn.execute(self._copy_log(table.name), {"wfnb_wf": workflow, "wfnb_ids": texts})
        self._copied.update((entity.table, t) for t in texts)
        return texts

    def copy_entity(
        self, conn: sa.Connection, entity: EntitySpec, entity_id: Any
    ) -> dict[str, Any] | None:
        """Copy one entity row (no logs) and return it as copied (None: not in the source).

        The copy's ``RETURNING`` hands back the shadow row, so a caller that needs it (a
        dry-run's "before") saves the round trip of reading it again.
        """
        source, _target = self.table(conn, entity.table)
        ids = typed_ids(source.c[entity.id_column], [entity_id])
        row = conn.execute(self._copy_rows(entity, returning=True), {"wfnb_ids": ids}).first()
        self._copied.add((entity.table, str(entity_id)))
        return row._asdict() if row is not None else None

    def _copy_rows(self, entity: EntitySpec, *, returning: bool = False) -> sa.Insert:
        """``INSERT INTO shadow SELECT * FROM source WHERE id IN (:ids)``, built once."""
        name = ("copy", entity.table, *(("returning",) if returning else ()))
        stmt = self._stmts.get(name)
        if stmt is None:
            source, target = self._tables[entity.table]
            ids: sa.BindParameter[Any] = sa.bindparam("wfnb_ids", expanding=True)
            rows = sa.select(source).where(source.c[entity.id_column].in_(ids))
            insert = sa.insert(target).from_select([c.name for c in source.columns], rows)
            stmt = self._stmts[name] = insert.returning(*target.columns) if returning else insert
        return stmt  # type: ignore[return-value]

    def _copy_log(self, name: str) -> sa.Insert:
        """The entities' rows of an engine-owned log table, renumbered; built once."""
        key = ("log", name)
        stmt = self._stmts.get(key)
        if stmt is None:
            source, target = self._tables[name]
            cols = [c.name for c in source.columns if c.name != "id"]  # numbered anew
            rows = (
                sa.select(*(source.c[c] for c in cols))
                .where(
                    source.c.workflow == sa.bindparam("wfnb_wf"),
                    source.c.entity_id.in_(sa.bindparam("wfnb_ids", expanding=True)),
                )
                .order_by(source.c.id)
            )
            stmt = self._stmts[key] = sa.insert(target).from_select(cols, rows)
        return stmt  # type: ignore[return-value]

    def select(self, name: str, columns: tuple[str, ...]) -> sa.Select[Any]:
        """``SELECT * FROM shadow WHERE col = :col AND ...`` (bind names = columns), built once."""
        key = ("select", name, *columns)
        stmt = self._stmts.get(key)
        if stmt is None:
            target = self.shadow(name)
            where = (target.c[c] == sa.bindparam(c) for c in columns)
            stmt = self._stmts[key] = sa.select(target).where(*where).order_by(*target.primary_key)
        return stmt  # type: ignore[return-value]

    def entity_and_log(self, entity: EntitySpec, log: str) -> sa.Select[Any]:
        """The entity's shadow row and its ``log`` rows of one call, in one statement.

        ``one LEFT JOIN entity LEFT JOIN log``: at least one row; the entity's columns are
        labelled ``e0..``, the log's ``l0..`` (all NULL where there is no such row), in
        the log's primary-key order. Binds: ``wfnb_key`` (the entity id as the column
        wants it), ``wfnb_wf``, ``wfnb_eid`` and ``wfnb_cid``. Built once.
        """
        key = ("entity_and_log", entity.table, entity.id_column, log)
        stmt = self._stmts.get(key)
        if stmt is None:
            target, rows = self.shadow(entity.table), self.shadow(log)
            one = sa.select(sa.literal(1, sa.Integer).label("one")).subquery("wfnb_one")
            row = sa.select(target).where(target.c[entity.id_column] == sa.bindparam("wfnb_key"))
            written = sa.select(rows).where(
                rows.c.workflow == sa.bindparam("wfnb_wf"),
                rows.c.entity_id == sa.bindparam("wfnb_eid"),
                rows.c.correlation_id == sa.bindparam("wfnb_cid"),
            )
            e, w = row.subquery("wfnb_e"), written.subquery("wfnb_l")
            stmt = self._stmts[key] = (
                sa.select(
                    *(e.c[c.name].label(f"e{i}") for i, c in enumerate(target.columns)),
                    *(w.c[c.name].label(f"l{i}") for i, c in enumerate(rows.columns)),
                )
                .select_from(one.outerjoin(e, sa.true()).outerjoin(w, sa.true()))
                .order_by(*(w.c[c.name] for c in rows.primary_key))
            )
        return stmt  # type: ignore[return-value]

    def clear(self, conn: sa.Connection) -> None:
        """Empty every shadow and forget what was copied (SQLite's reset between runs)."""
        for _, target in self._tables.values():
            conn.execute(target.delete())
        self.forget()

    def forget(self) -> None:
        """Forget what was copied (the rows are gone: rolled back or cleared)."""
        self._copied.clear()

    def last_id(self, conn: sa.Connection, name: str) -> int:
        """The highest ``id`` in shadow ``name`` (0 when empty)."""
        target = self.shadow(name)
        return int(conn.execute(sa.select(sa.func.max(target.c.id))).scalar() or 0)

    def shadow(self, name: str) -> sa.Table:
        """The shadow table ``name`` (it must exist)."""
        return self._tables[name][1]


def typed_ids(column: sa.Column[Any], ids: Sequence[Any]) -> list[Any]:
    """Ids as the column wants them (``"7"`` for an integer key becomes ``7``)."""
    try:
        wants_int = column.type.python_type is int
    except NotImplementedError:
        wants_int = False
    return [int(i) if wants_int and isinstance(i, str) and i.isdigit() else i for i in ids]
