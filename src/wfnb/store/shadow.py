"""Shadow tables: writable, initially empty copies of the tables a sandboxed run writes.

A shadow has the source table's columns, types, primary key and CHECK constraints, and
nothing that points outside the sandbox (no foreign keys, no sequences shared with the
source: its own sequence continues from the source's value). It lives where unqualified
names find it first: SQLite's ``main`` (the source is an attached read-only schema),
PostgreSQL's ``pg_temp``. A schema-qualified entity table (``"evs.things"``) gets a shadow
under a name of its own there, which the sandbox's store is told to use. Rows are copied
into it one entity at a time with ``INSERT ... SELECT`` on the sandbox's own connection,
with the tenant filter the engine applies (ADR 0063): a tenant's copy holds only what that
tenant may see.

One exception to the faithful copy: the status column of an entity table accepts every
status the sandbox's workflows declare. A status restriction (a ``status IN (...)`` CHECK,
a PostgreSQL enum) that lacks some is widened in the shadow (an enum becomes text plus a
CHECK), so a prototype status can be dry-run before its migration; ``Shadows.widened``
tells which statuses the real table does not accept yet, and the one-line migration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCLASS

from wfnb.exceptions import StoreError
from wfnb.spec import EntitySpec
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG
from wfnb.store.widening import Widened, enums_of, uncast, widenings
from wfnb.validation.database import allowed_values

__all__ = ["Shadows", "typed_ids"]

ENGINE_TABLES = (HISTORY, PERMANENT_FAILURE_LOG)
_TENANT = "wfnb_tenant"
SEE_ALL = "wfnb.sandbox_all"
"""PostgreSQL setting: ``on`` lets the sandbox's own reads past its mirrored policies."""
_BYPASS = f"current_setting('{SEE_ALL}', true) = 'on'"
_SUBJECT_TO_RLS = sa.text(
    "SELECT c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls"
    " AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))"
    " FROM pg_class c JOIN pg_roles r ON r.rolname = current_user"
    " WHERE c.oid = CAST(:t AS regclass)"
)
_POLICIES = sa.text(
    "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies"
    " WHERE schemaname = :s AND tablename = :t ORDER BY policyname"
)


def _server_default(column: sa.Column[Any]) -> Any:
    default = column.server_default
    text = str(getattr(default, "arg", ""))
    return None if "nextval(" in text else default  # a serial's own sequence is made anew


def _copy_shape(
    table: sa.Table,
    metadata: sa.MetaData,
    schema: str | None,
    name: str | None = None,
    *,
    statuses: Mapping[str, Sequence[str]] | None = None,
    dialect: sa.Dialect | None = None,
    spelled: str | None = None,
) -> tuple[sa.Table, dict[str, Widened]]:
    """A table shaped like ``table`` in ``schema``: columns, primary key, CHECKs only.

    ``statuses``: status column → the statuses the sandbox's workflows declare for it; a
    restriction of that column lacking some is widened (see the module docstring), and
    its migration names the table as ``spelled`` (as the workflows name it).

    Returns:
        The shadow table and, per widened status column, what the source accepts.
    """
    widen = widenings(table, statuses or {}, dialect, spelled)
    columns = [
        sa.Column(
            c.name,
            sa.Text() if c.name in widen and enums_of(c) else c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            server_default=_server_default(c),
            autoincrement=c.autoincrement,
        )
        for c in table.columns
    ]
    checks: list[sa.CheckConstraint] = []
    for c in table.constraints:
        if not isinstance(c, sa.CheckConstraint):
            continue
        text = str(c.sqltext)
        if any(allowed_values(text, col) is not None for col in widen):
            continue  # replaced by the widened check below
        for col in widen:
            text = uncast(text, table.c[col])
        checks.append(sa.CheckConstraint(text, name=c.name))
    for col, wanted in (statuses or {}).items():
        if col in widen:
            values = [*wanted, *sorted(widen[col].accepts - set(wanted))]
            status: sa.ColumnClause[str] = sa.column(col, sa.String)
            checks.append(sa.CheckConstraint(status.in_(values), name=f"wfnb_{col}_widened"))
    target = sa.Table(name or table.name, metadata, *columns, *checks, schema=schema)
    return target, widen


def _serial(table: sa.Table) -> sa.Column[Any] | None:
    """The table's one integer primary-key column (the one a sequence numbers), if any."""
    keys = list(table.primary_key)
    if len(keys) != 1:
        return None
    try:
        return keys[0] if keys[0].type.python_type is int else None
    except NotImplementedError:
        return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _regname(table: sa.Table) -> str:
    """``"schema"."name"`` as ``pg_get_serial_sequence`` reads a table's name."""
    return ".".join(_quoted(p) for p in (table.schema, table.name) if p)


class Shadows:
    """The shadow tables of one sandbox and what has been copied into them.

    Args:
        conn: the sandbox's connection (shadows are created on it).
        source_schema: where the source's unqualified tables are read (SQLite: the
            attached source; PostgreSQL, None: the session's current schema).
        shadow: the schema shadows are created in (PostgreSQL: ``pg_temp``).
        aliases: a schema as the workflows spell it → as the sandbox reads it (SQLite:
            ``main`` is the attached source).
    """

    def __init__(
        self,
        conn: sa.Connection,
        source_schema: str | None,
        shadow: str | None,
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        if source_schema is None:
            source_schema = conn.execute(sa.select(sa.func.current_schema())).scalar_one()
        self.source_schema = source_schema
        self.shadow_schema = shadow
        self._aliases = dict(aliases or {})
        self._postgres = conn.dialect.name == "postgresql"
        self.mirrored = False
        """Whether a shadow has row-level security (then the sandbox's reads ``see_all``)."""
        self.widened: dict[str, dict[str, Widened]] = {}
        """Table → status column → what the source accepts, where the shadow takes more."""
        self._source_md = sa.MetaData(schema=source_schema)
        self._shadow_md = sa.MetaData()
        self._tables: dict[str, tuple[sa.Table, sa.Table]] = {}
        self._sequences: dict[str, sa.Select[Any]] = {}
        self._copied: set[tuple[str, str]] = set()
        self._stmts: dict[tuple[str, ...], sa.Executable] = {}
        for table in ENGINE_TABLES:
            source = table.to_metadata(self._source_md, schema=source_schema)
            self._add(conn, table.name, source)

    def _add(
        self,
        conn: sa.Connection,
        name: str,
        source: sa.Table,
        statuses: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[sa.Table, sa.Table]:
        shadow_name = name.replace(".", "__")  # "evs.things": its own name beside the others
        target, widened = _copy_shape(
            source,
            self._shadow_md,
            self.shadow_schema,
            shadow_name,
            statuses=statuses,
            dialect=conn.dialect,
            spelled=name,
        )
        target.create(conn)
        if widened:
            self.widened[name] = widened
        self._tables[name] = (source, target)
        if self._postgres:
            self._follow_sequence(conn, name, source, target)
            self._mirror_row_security(conn, source, target)
        return source, target

    def table(
        self,
        conn: sa.Connection,
        name: str,
        *,
        statuses: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[sa.Table, sa.Table]:
        """``(source, shadow)`` for table ``name``, the shadow created on first use.

        ``name`` may be schema-qualified (``"evs.things"``). ``statuses``: status column →
        the statuses the workflows declare; the shadow's column accepts them all (only
        when the shadow is created here).

        Raises:
            StoreError: the source has no such table (WF300).
        """
        found = self._tables.get(name)
        if found is None:
            schema, _, bare = name.rpartition(".")
            schema = self._aliases.get(schema, schema) if schema else self.source_schema
            try:
                source = sa.Table(bare, self._source_md, autoload_with=conn, schema=schema)
            except sa.exc.NoSuchTableError as exc:
                raise StoreError(f"table {name!r} does not exist", table=name) from exc
            except sa.exc.OperationalError as exc:  # SQLite: no database attached as schema
                if "unknown database" not in str(exc.orig):
                    raise
                raise StoreError(f"table {name!r} does not exist", table=name) from exc
            found = self._add(conn, name, source, statuses)
        return found

    def _follow_sequence(
        self, conn: sa.Connection, name: str, source: sa.Table, target: sa.Table
    ) -> None:
        """PostgreSQL: make the shadow's serial continue from the source's sequence.

        A fresh serial would start at 1 and collide with the rows copied in (a module
        table copied whole); it continues from the source sequence's last value (when
        the role may read it) or the highest id in the shadow, whichever is higher. The
        statement is kept and run again after every copy (``sync_sequence``).
        """
        column = _serial(target)
        if column is None:
            return
        mine = conn.execute(
            sa.select(sa.func.pg_get_serial_sequence(_regname(target), column.name))
        ).scalar()
        theirs = conn.execute(
            sa.select(sa.func.pg_get_serial_sequence(_regname(source), column.name))
        ).scalar()
        if mine is None:
            return
        source_value: Any = sa.literal(0)
        if theirs is not None:
            readable = sa.func.has_sequence_privilege(theirs, "SELECT, USAGE")
            last = sa.func.pg_sequence_last_value(sa.cast(sa.literal(theirs), REGCLASS))
            source_value = sa.func.coalesce(sa.case((readable, last), else_=None), 0)
        highest = sa.func.coalesce(sa.select(sa.func.max(column)).scalar_subquery(), 0)
        value = sa.func.greatest(source_value, highest)
        stmt = sa.select(sa.func.setval(mine, sa.func.greatest(value, 1), value > 0))
        self._sequences[name] = stmt
        conn.execute(stmt)

    def _mirror_row_security(self, conn: sa.Connection, source: sa.Table, target: sa.Table) -> None:
        """PostgreSQL: give the shadow the source's row-level security, when it binds us.

        A shadow holds rows copied under one tenant; without the source's policies a
        later call as another tenant, in the same sandbox, would see them (a table whose
        tenancy is row-level security alone). The policies are recreated as the catalog
        deparses them, each also passing when ``wfnb.sandbox_all`` is on: the sandbox's
        own bookkeeping (its diff, its reset) reads every shadow row. FORCE, as the
        session owns its temporary tables.
        """
        schema = source.schema or self.source_schema
        binds = conn.execute(_SUBJECT_TO_RLS, {"t": _regname(source)}).scalar()
        if not binds:
            return
        shadow = _regname(target)
        for name, permissive, roles, cmd, qual, check in conn.execute(
            _POLICIES, {"s": schema, "t": source.name}
        ):
            to = ", ".join("PUBLIC" if r == "public" else _quoted(r) for r in roles)
            ddl = f"CREATE POLICY {_quoted(name)} ON {shadow} AS {permissive} FOR {cmd} TO {to}"
            if qual is not None:
                ddl += f" USING (({qual}) OR {_BYPASS})"
            if check is not None:
                ddl += f" WITH CHECK (({check}) OR {_BYPASS})"
            conn.execute(sa.text(ddl))
        for switch in ("ENABLE", "FORCE"):
            conn.execute(sa.text(f"ALTER TABLE {shadow} {switch} ROW LEVEL SECURITY"))
        self.mirrored = True

    def see_all(self, conn: sa.Connection, *, on: bool = True) -> None:
        """PostgreSQL: let this transaction's reads past the mirrored policies (or not)."""
        if self.mirrored:
            conn.execute(self.see_all_statement(on=on))

    @staticmethod
    def see_all_statement(*, on: bool = True) -> sa.Select[Any]:
        """``SELECT set_config('wfnb.sandbox_all', 'on'|'off', true)``."""
        return sa.select(sa.func.set_config(SEE_ALL, "on" if on else "off", True))

    def sync_sequence(self, conn: sa.Connection, name: str) -> None:
        """PostgreSQL: move shadow ``name``'s sequence past the source's and its own rows."""
        stmt = self._sequences.get(name)
        if stmt is not None:
            conn.execute(stmt)

    def copy_table(self, conn: sa.Connection, name: str) -> int:
        """Copy every row of ``name`` (a module table the use cases write): the row count."""
        source, target = self.table(conn, name)
        stmt = sa.insert(target).from_select([c.name for c in source.columns], sa.select(source))
        count = conn.execute(stmt).rowcount
        self.sync_sequence(conn, name)
        return count

    def missing(self, table: str, ids: Iterable[Any]) -> list[Any]:
        """The ids whose rows are not in shadow ``table`` yet."""
        return [i for i in ids if (table, str(i)) not in self._copied]

    def copy_entities(
        self,
        conn: sa.Connection,
        workflow: str,
        entity: EntitySpec,
        ids: Iterable[Any],
        *,
        tenant_id: str | None = None,
        logs: bool = True,
    ) -> list[str]:
        """Copy the entity rows (with ``logs``, their history and failure-log rows too).

        With ``tenant_id``, only what that tenant may see is copied, as the engine filters:
        entity rows of that tenant (a table with a tenant column) and log rows of that
        tenant; an entity copied by no call stays out and is tried again by the next.
        A step never reads the logs; claim recovery reads the latest ``claimed`` row.

        Returns:
            The ids copied by this call (as text).
        """
        new = self.missing(entity.table, ids)
        if not new:
            return []
        source, target = self.table(conn, entity.table)
        keys = typed_ids(source.c[entity.id_column], new)
        scoped = tenant_id is not None and entity.tenant_column is not None
        params: dict[str, Any] = {"wfnb_ids": keys}
        if scoped:
            params[_TENANT] = tenant_id
        conn.execute(self._copy_rows(entity, scoped=scoped), params)
        column = target.c[entity.id_column]
        found = conn.execute(sa.select(column).where(column.in_(keys))).scalars()
        texts = [str(i) for i in found]
        for table in ENGINE_TABLES if logs and texts else ():
            log_params: dict[str, Any] = {"wfnb_wf": workflow, "wfnb_ids": texts}
            if tenant_id is not None:
                log_params[_TENANT] = tenant_id
            conn.execute(self._copy_log(table.name, scoped=tenant_id is not None), log_params)
        self._copied.update((entity.table, t) for t in texts)
        return texts

    def copy_entity(
        self,
        conn: sa.Connection,
        entity: EntitySpec,
        entity_id: Any,
        *,
        tenant_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Copy one entity row (no logs) and return it as copied (None: not in the source).

        With ``tenant_id``, a row of another tenant is not copied (None), as the engine
        would not find it. The copy's ``RETURNING`` hands back the shadow row, so a caller
        that needs it (a dry-run's "before") saves the round trip of reading it again.
        """
        source, _target = self.table(conn, entity.table)
        scoped = tenant_id is not None and entity.tenant_column is not None
        params: dict[str, Any] = {"wfnb_ids": typed_ids(source.c[entity.id_column], [entity_id])}
        if scoped:
            params[_TENANT] = tenant_id
        row = conn.execute(self._copy_rows(entity, scoped=scoped, returning=True), params).first()
        if row is None:
            return None
        self._copied.add((entity.table, str(entity_id)))
        return row._asdict()

    def _copy_rows(self, entity: EntitySpec, *, scoped: bool, returning: bool = False) -> sa.Insert:
        """``INSERT INTO shadow SELECT * FROM source WHERE id IN (:ids) [AND tenant = :t]``.

        Built once per shape.
        """
        name = ("copy", entity.table, str(scoped), str(returning))
        stmt = self._stmts.get(name)
        if stmt is None:
            source, target = self._tables[entity.table]
            ids: sa.BindParameter[Any] = sa.bindparam("wfnb_ids", expanding=True)
            rows = sa.select(source).where(source.c[entity.id_column].in_(ids))
            if scoped and entity.tenant_column is not None:
                rows = rows.where(source.c[entity.tenant_column] == sa.bindparam(_TENANT))
            insert = sa.insert(target).from_select([c.name for c in source.columns], rows)
            stmt = self._stmts[name] = insert.returning(*target.columns) if returning else insert
        return stmt  # type: ignore[return-value]

    def _copy_log(self, name: str, *, scoped: bool) -> sa.Insert:
        """The entities' rows of an engine-owned log table, renumbered; built once.

        ``scoped``: only the rows of tenant ``:wfnb_tenant`` (what row-level security
        shows that tenant).
        """
        key = ("log", name, str(scoped))
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
            if scoped:
                rows = rows.where(source.c.tenant_id == sa.bindparam(_TENANT))
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

    def holds_rows(self) -> sa.Select[Any]:
        """``SELECT EXISTS (a row in any shadow)``: after a rollback it must be false.

        A sandbox whose outer transaction a use case ended (a raw ``COMMIT``) has rows
        its rollback cannot undo; this tells.
        """
        found = [
            sa.exists(sa.select(sa.literal(1)).select_from(t)) for _, t in self._tables.values()
        ]
        return sa.select(sa.or_(*found))

    def forget(self) -> None:
        """Forget what was copied (the rows are gone: rolled back or cleared)."""
        self._copied.clear()

    def last_id(self, conn: sa.Connection, name: str) -> int:
        """The highest ``id`` in shadow ``name`` (0 when empty)."""
        target = self.shadow(name)
        return int(conn.execute(sa.select(sa.func.max(target.c.id))).scalar() or 0)

    def shadowed(self, name: str) -> bool:
        """Whether table ``name`` has a shadow (unqualified names find it first)."""
        return name in self._tables

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
