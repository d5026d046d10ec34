"""WF112: the live database agrees with the config (SQLite and PostgreSQL).

Read through SQLAlchemy's ``Inspector`` (see docs/adr/0020-wf112-reading-constraints.md):
the entity table and its id / status / version / tenant columns must exist, and when the
status column restricts its values, by a ``CHECK`` constraint of the ``status IN (...)`` form
or by a PostgreSQL enum type, those values must equal ``status_types``. A status column with no
such restriction is fine. A database that cannot be reached is one problem naming the URL.

Whatever the column's kind (a free TEXT column too), its live values are read as well, one
grouped query per entity table (``wfnb.store.audit.count_by_status``): each status the
table holds that ``status_types`` does not declare (a forgotten migration) is a WF112 error
with its entity count and the one-line UPDATE that would move those entities to the initial
status (review it; ``wfnb diff`` against the old config suggests a better-informed target).
``undeclared_statuses`` runs that check alone: ``Engine.install()`` refuses to start on it.
On PostgreSQL under forced row-level security the count sees the rows the role may see.

The statements live in ``wfnb.store`` (imported only when a database is checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import ReflectedColumn

from wfnb.exceptions import StoreError
from wfnb.problems import Problem, Severity
from wfnb.spec import Workflow
from wfnb.validation.context import Checked

__all__ = ["DatabaseLike", "allowed_values", "check_database", "undeclared_statuses"]

DatabaseLike = str | sa.URL | sa.Engine
"""What ``validate(db=...)`` accepts: a SQLAlchemy URL (string or object) or an Engine."""

# A cast as PostgreSQL renders it: ::text, ::character varying, ::varchar(20), ::text[]
_CAST = re.compile(
    r"::\s*(?:character\s+varying|\"[^\"]+\"|[A-Za-z_][\w.]*)(?:\s*\(\s*\d+\s*\))?(?:\s*\[\s*\])*",
    re.IGNORECASE,
)
_TOKEN = re.compile(
    r"""(?P<string>'(?:[^']|'')*')
      | (?P<name>"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][\w$]*)
      | (?P<symbol>\S)""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"in", "any", "array", "or"})
_SYMBOLS = frozenset("(),=[]")


def _unquote(name: str) -> str:
    if name[:1] in '"`[':
        return name[1:-1].replace('""', '"')
    return name.lower()


def allowed_values(sqltext: str, column: str) -> set[str] | None:
    """The values a CHECK constraint allows ``column`` to take, or None if it is not that kind.

    Accepted shapes (as SQLite keeps them and PostgreSQL renders them):
    ``status IN ('a', 'b')``, ``status::text = ANY (ARRAY['a'::character varying]::text[])``,
    ``status = 'a'::text`` and ``status = 'a' OR status = 'b'``. Anything else (another
    column, ``NOT``, ``AND``, a function call) is not a plain set of statuses: None.
    """
    values: set[str] = set()
    mentions = False
    for match in _TOKEN.finditer(_CAST.sub(" ", sqltext)):
        kind, token = match.lastgroup, match.group()
        if kind == "string":
            values.add(token[1:-1].replace("''", "'"))
        elif kind == "name" and _unquote(token) in (column, column.lower()):
            mentions = True
        elif not (kind == "name" and token.lower() in _KEYWORDS) and token not in _SYMBOLS:
            return None
    return values if mentions and values else None


def _find(columns: Sequence[ReflectedColumn], name: str) -> ReflectedColumn | None:
    exact = next((col for col in columns if col["name"] == name), None)
    return exact or next((col for col in columns if col["name"].lower() == name.lower()), None)


def _restrictions(
    inspector: sa.Inspector, table: str, schema: str | None, column: ReflectedColumn
) -> Iterator[set[str]]:
    """Every set of values the database restricts the status column to."""
    enums = getattr(column["type"], "enums", None)
    if enums:
        yield set(enums)
    for check in inspector.get_check_constraints(table, schema=schema):
        values = allowed_values(str(check["sqltext"]), column["name"])
        if values is not None:
            yield values


def _check_table(
    conn: sa.Connection, inspector: sa.Inspector, c: Checked, tenants: Iterable[Workflow] = ()
) -> Iterator[Problem]:
    entity = c.workflow.entity
    schema, _, table = entity.table.rpartition(".")
    schema_name = schema or None
    if not inspector.has_table(table, schema=schema_name):
        yield c.problem("WF112", "/entity/table", f"table {entity.table!r} does not exist")
        return
    columns = inspector.get_columns(table, schema=schema_name)
    wanted = {
        "id_column": entity.id_column,
        "status_column": entity.status_column,
        "version_column": entity.version_column,
        "tenant_column": entity.tenant_column,
    }
    for field, name in wanted.items():
        if name is not None and _find(columns, name) is None:
            message = f"table {entity.table!r} has no column {name!r} ({field})"
            yield c.problem("WF112", f"/entity/{field}", message)
    tenant = _find(columns, entity.tenant_column) if entity.tenant_column else None
    if tenant is not None:
        yield from _check_tenant_names(c, tenant, tenants)
    status = _find(columns, entity.status_column)
    if status is not None:
        yield from _check_values(c, _restrictions(inspector, table, schema_name, status))
        yield from _check_live(conn, c)


def _check_tenant_names(
    c: Checked, column: ReflectedColumn, tenants: Iterable[Workflow]
) -> Iterator[Problem]:
    """WF101 on each overlay whose tenant (folder) name the tenant column cannot hold."""
    width = getattr(column["type"], "length", None)
    if not isinstance(width, int):
        return
    for wf in tenants:
        name = wf.tenant or ""
        if len(name) > width:
            message = (
                f"tenant folder name of {len(name)} characters; the tenant "
                f"column {c.workflow.entity.tenant_column!r} of {c.workflow.entity.table!r} "
                f"holds at most {width}"
            )
            file = wf.overlay_file or c.file
            yield Problem("WF101", Severity.ERROR, file, "", message, c.workflow.name)


def _check_live(conn: sa.Connection, c: Checked) -> Iterator[Problem]:
    """WF112 per status the table holds that ``status_types`` lacks: count and UPDATE."""
    from wfnb.store import audit, queries  # noqa: PLC0415  # the statements, only with a db

    wf = c.workflow
    table = queries.reflect_entity_table(conn, wf.entity.table)
    counts = audit.count_by_status(conn, wf.entity, table)
    declared = set(wf.status_types)
    for status, count in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        if status in declared:
            continue
        old = cast("str", status)  # None renders as ``IS NULL``
        update = audit.migration_update(conn.dialect, wf.entity, table, old, wf.initial_status)
        held = "NULL" if status is None else repr(status)
        message = (
            f"table {wf.entity.table!r} holds {count} entit{'y' if count == 1 else 'ies'} at "
            f"status {held}, which status_types does not declare (a forgotten migration?); "
            f"move them, e.g. to the initial status: {update}"
        )
        yield c.problem("WF112", "/entity/status_column", message)


def _has_status_column(inspector: sa.Inspector, wf: Workflow) -> bool:
    schema, _, table = wf.entity.table.rpartition(".")
    if not inspector.has_table(table, schema=schema or None):
        return False
    return (
        _find(inspector.get_columns(table, schema=schema or None), wf.entity.status_column)
        is not None
    )


def undeclared_statuses(workflows: Iterable[Workflow], db: DatabaseLike) -> list[Problem]:
    """WF112 per status an entity table holds that its workflow does not declare.

    Only the live values, and only of the tables that exist with their status column (a
    table not created yet holds nothing undeclared). What ``Engine.install()`` checks.

    Raises:
        StoreError: the database cannot be read.
    """
    engine, owned = _engine(db)
    problems: list[Problem] = []
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for wf in workflows:
                if _has_status_column(inspector, wf):
                    checked = Checked(wf, wf.source_file or f"<workflow {wf.name}>")
                    problems.extend(_check_live(conn, checked))
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot read the database {_describe(db)}: {_reason(exc)}") from exc
    finally:
        if owned:
            engine.dispose()
    return problems


def _check_values(c: Checked, restrictions: Iterable[set[str]]) -> Iterator[Problem]:
    sets = list(restrictions)
    if not sets:
        return
    allowed = set.intersection(*sets)
    wf = c.workflow
    where = f"column {wf.entity.status_column!r} of table {wf.entity.table!r}"
    for i, status in enumerate(wf.status_types):
        if status not in allowed:
            message = f"{where} does not allow status {status!r}"
            yield c.problem("WF112", c.at("status_types", i), message)
    extra = sorted(allowed - set(wf.status_types))
    if extra:
        names = ", ".join(repr(v) for v in extra)
        message = f"{where} allows {names}, which status_types does not declare"
        yield c.problem("WF112", "/entity/status_column", message)


def _describe(db: DatabaseLike) -> str:
    if isinstance(db, sa.Engine):
        return db.url.render_as_string(hide_password=True)
    try:
        return sa.make_url(db).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(db)


def _reason(exc: Exception) -> str:
    cause: Any = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _engine(db: DatabaseLike) -> tuple[sa.Engine, bool]:
    """The engine to inspect with, and whether it is ours to dispose of."""
    if isinstance(db, sa.Engine):
        return db, False
    url = sa.make_url(db)
    path = url.database or ":memory:"
    on_disk = url.get_backend_name() == "sqlite" and not path.startswith((":memory:", "file:"))
    if on_disk and not Path(path).is_file():
        # Checking must not create: SQLite would make an empty file and report on it.
        raise OSError(f"no such database file {path!r}")
    return sa.create_engine(url), True


def check_database(
    checked: Sequence[Checked],
    db: DatabaseLike,
    tenants: Mapping[str, Iterable[Workflow]] | None = None,
) -> list[Problem]:
    """WF112 for each workflow's entity table; one problem if the database cannot be read.

    ``tenants`` (workflow name -> its tenants' merged configs): WF101 on each overlay
    whose tenant name is wider than the entity table's tenant column.
    """
    problems: list[Problem] = []
    engine, owned = None, False
    try:
        engine, owned = _engine(db)
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            for c in checked:
                merged = (tenants or {}).get(c.workflow.name, ())
                problems.extend(_check_table(conn, inspector, c, merged))
    except (sa.exc.SQLAlchemyError, StoreError, ImportError, ValueError, OSError) as exc:
        message = f"cannot read the database {_describe(db)}: {_reason(exc)}"
        problems.append(Problem("WF112", Severity.ERROR, _describe(db), "", message))
    finally:
        if owned and engine is not None:
            engine.dispose()
    return problems
