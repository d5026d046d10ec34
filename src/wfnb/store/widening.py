"""Status columns that refuse statuses a workflow declares: what they accept, and the fix.

A status column is restricted by a PostgreSQL enum type and by CHECK constraints of the
``status IN (...)`` form (as ``wfnb.validation.database.allowed_values`` reads them). A
sandbox's shadow widens such a column for a prototype status; ``diff(old, new, db)`` and
the dry-run name the one-line DDL (``status_migration``) the real table needs first. The
DDL is rendered for review, never executed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from wfnb.validation.database import allowed_values

__all__ = ["Widened", "enums_of", "status_migration", "uncast", "widenings"]


@dataclass(frozen=True, slots=True)
class Widened:
    """A status column whose shadow accepts more than the source table does.

    Attributes:
        accepts: the statuses the source table accepts.
        migration: the one-line DDL that makes the source accept the workflows' statuses.
    """

    accepts: frozenset[str]
    migration: str


_DIALECTS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def enums_of(column: sa.Column[Any]) -> list[str] | None:
    """The values of the column's enum type (None: not an enum)."""
    enums = getattr(column.type, "enums", None)
    return list(enums) if enums else None


def uncast(text: str, column: sa.Column[Any]) -> str:
    """``'paid'::invoice_status`` as ``'paid'::text``: the widened column is text."""
    kind = getattr(column.type, "name", None) if enums_of(column) else None
    if not kind:
        return text
    name = re.escape(kind)
    return re.sub(rf'::\s*(?:"?[\w$]+"?\.)?"?{name}"?(?![\w$])', "::text", text)


def widenings(
    table: sa.Table,
    statuses: Mapping[str, Sequence[str]],
    dialect: sa.Dialect | None = None,
    spelled: str | None = None,
) -> dict[str, Widened]:
    """Per status column of ``table`` whose restrictions lack a status of ``statuses``.

    A column's restrictions are its enum type and its ``status IN (...)`` CHECKs (as
    reflected); a column they let take every status is left out. Each answer says what
    the table accepts and the one-line migration (see ``status_migration``).
    """
    found: dict[str, Widened] = {}
    for col, wanted in statuses.items():
        if col not in table.c:
            continue
        column = table.c[col]
        enums = enums_of(column)
        sets = [set(enums)] if enums else []
        checks: list[str | None] = []
        for c in table.constraints:
            if isinstance(c, sa.CheckConstraint):
                values = allowed_values(str(c.sqltext), col)
                if values is not None:
                    sets.append(values)
                    checks.append(c.name if isinstance(c.name, str) else None)
        if not sets:
            continue
        accepts = frozenset(set.intersection(*sets))
        if set(wanted) <= accepts:
            continue
        ordered = [*wanted, *sorted(accepts - set(wanted))]
        enum = getattr(column.type, "name", None) if enums else None
        migration = status_migration(
            dialect, table, col, ordered, enum=enum, checks=checks, spelled=spelled
        )
        found[col] = Widened(accepts, migration)
    return found


def status_migration(
    dialect: sa.Dialect | None,
    table: sa.Table,
    column: str,
    values: Sequence[str],
    *,
    enum: str | None = None,
    checks: Sequence[str | None] = (),
    spelled: str | None = None,
) -> str:
    """The one-line DDL that lets ``table.column`` take ``values`` (rendered, never run).

    PostgreSQL enum: ``ALTER TYPE t ADD VALUE IF NOT EXISTS 'v';`` per missing value.
    PostgreSQL CHECK: ``ALTER TABLE t DROP CONSTRAINT ck, ADD CONSTRAINT ck CHECK (...);``.
    SQLite cannot alter a constraint: the line says so and gives the new CHECK to rebuild
    the table with. ``spelled``: the table's name as written (default: as reflected).
    """
    dialect = dialect or sqlite.dialect()
    quote = dialect.identifier_preparer.quote
    parts_of = spelled.split(".") if spelled else [p for p in (table.schema, table.name) if p]
    qualified = ".".join(quote(p) for p in parts_of)
    status: sa.ColumnClause[str] = sa.column(column, sa.String)
    literal = {"literal_binds": True}
    check = str(status.in_(list(values)).compile(dialect=dialect, compile_kwargs=literal))
    parts: list[str] = []
    if enum is not None:
        existing = set(enums_of(table.c[column]) or [])
        kind = getattr(table.c[column].type, "schema", None)
        name = ".".join(quote(p) for p in (kind, enum) if p)
        parts += [
            f"ALTER TYPE {name} ADD VALUE IF NOT EXISTS {_string(v)};"
            for v in values
            if v not in existing
        ]
    named = [n for n in checks if n]
    if checks and dialect.name == "postgresql" and len(named) == len(checks):
        alters = [
            f"DROP CONSTRAINT {quote(n)}, ADD CONSTRAINT {quote(n)} CHECK ({check})" for n in named
        ]
        parts.append(f"ALTER TABLE {qualified} {', '.join(alters)};")
    elif checks:
        constraint = f"CONSTRAINT {quote(named[0])} " if named else ""
        parts.append(
            f"-- {_DIALECTS.get(dialect.name, dialect.name)} cannot alter this CHECK "
            f"constraint in place: rebuild {qualified} with {constraint}CHECK ({check})"
        )
    return " ".join(parts)
