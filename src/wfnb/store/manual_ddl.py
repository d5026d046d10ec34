"""The audit trigger's DDL text per dialect: the PostgreSQL function, the triggers (ADR 0104).

Split from :mod:`wfnb.store.manual`, which runs it. Identifiers are quoted by the dialect's
preparer; every literal (a workflow name, a column name, a config hash) goes through
``_literal``, which doubles its quotes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from wfnb.spec import EntitySpec
from wfnb.store.tables import HISTORY

__all__ = [
    "AUDIT_SETTINGS",
    "ENGINE_SETTING",
    "FUNCTION",
    "MARKER_TABLE",
    "Audited",
    "pg_function",
    "pg_trigger",
    "sqlite_trigger",
]

ENGINE_SETTING = "wfnb.writer"
"""PostgreSQL: the transaction-local setting that says "the engine is writing"."""
MARKER_TABLE = "workflow_engine_writing"
"""SQLite: the table holding one uncommitted row while an engine transaction writes."""
AUDIT_SETTINGS = (
    "app.tenant_id",
    "app.user_id",
    "app.correlation_id",
    "app.requester_type",
    "app.reason",
)
"""The session settings a PostgreSQL manual row records when set (``metadata.settings``).

PostgreSQL lists no custom settings anywhere (``pg_settings`` leaves them out), so the
trigger reads these names; ``app.reason`` is for the person fixing by hand.
"""
FUNCTION = "wfnb_record_manual"


@dataclass(frozen=True, slots=True)
class Audited:
    """One workflow's entity table, as its trigger needs it."""

    workflow: str
    entity: EntitySpec
    table: sa.Table
    config_hash: str
    config_rev: str | None


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _trigger_name(audited: Audited, dialect: str) -> str:
    """``wfnb_manual_<workflow>`` (PostgreSQL: per table; SQLite: the table's name too)."""
    base = f"wfnb_manual_{audited.workflow}"
    if dialect != "postgresql":
        base = f"wfnb_manual_{audited.entity.table}_{audited.workflow}".replace(".", "_")
    if len(base.encode()) <= 63:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:12]
    return f"{base.encode()[:45].decode(errors='ignore')}_{digest}"


def pg_function(history: str) -> str:
    """The one trigger function (per schema): arguments say which table and columns.

    ``history`` is schema-qualified and the function's ``search_path`` is ``pg_catalog,
    pg_temp``: a session's temporary table named ``workflow_history`` cannot divert the
    audit row (the function runs as the invoker, not ``SECURITY DEFINER``).
    """
    settings = ", ".join(_literal(s) for s in AUDIT_SETTINGS)
    # Identifiers are fixed or quoted by the dialect; every literal goes through _literal.
    return f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $wfnb$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    entity text := to_jsonb(NEW) ->> TG_ARGV[1];
    tenant text := CASE WHEN TG_ARGV[5] = '' THEN NULL ELSE to_jsonb(NEW) ->> TG_ARGV[5] END;
    saved text := current_setting('app.tenant_id', true);
    found jsonb := '{{}}';
    setting text;
    value text;
    last_hash text;
    last_rev text;
BEGIN
    FOREACH setting IN ARRAY ARRAY[{settings}] LOOP
        value := current_setting(setting, true);
        IF value IS NOT NULL AND value <> '' THEN
            found := found || jsonb_build_object(setting, value);
        END IF;
    END LOOP;
    -- Row-level security on the history: read and write it as the entity's tenant.
    PERFORM set_config('app.tenant_id', coalesce(tenant, ''), true);
    SELECT h.config_hash, h.config_rev INTO last_hash, last_rev FROM {history} h
        WHERE h.workflow = TG_ARGV[0] AND h.entity_id = entity ORDER BY h.id DESC LIMIT 1;
    INSERT INTO {history} (workflow, entity_table, entity_id, tenant_id, kind, from_status,
        to_status, requester_type, user_id, correlation_id, source, config_hash, config_rev,
        metadata, changed_at, entity_version)
    VALUES (TG_ARGV[0], TG_ARGV[6], entity, tenant, 'manual', to_jsonb(OLD) ->> TG_ARGV[2],
        new_row ->> TG_ARGV[2], nullif(current_setting('app.requester_type', true), ''),
        nullif(current_setting('app.user_id', true), ''),
        nullif(current_setting('app.correlation_id', true), ''), current_user,
        coalesce(last_hash, TG_ARGV[4]),
        CASE WHEN last_hash IS NULL THEN nullif(TG_ARGV[7], '') ELSE last_rev END,
        jsonb_build_object('db_role', current_user, 'session_user', session_user,
            'application_name', current_setting('application_name', true),
            'settings', found),
        statement_timestamp(), (new_row ->> TG_ARGV[3])::integer);
    PERFORM set_config('app.tenant_id', coalesce(saved, ''), true);
    RETURN NULL;
END
$wfnb$ SET search_path = pg_catalog, pg_temp"""  # noqa: S608


def pg_trigger(conn: sa.Connection, audited: Audited, schema: str) -> list[str]:
    """``DROP TRIGGER IF EXISTS`` + ``CREATE TRIGGER`` on one workflow's table (PostgreSQL)."""
    q = conn.dialect.identifier_preparer
    spec = audited.entity
    status = q.quote(spec.status_column)
    args = ", ".join(
        _literal(a)
        for a in (
            audited.workflow,
            spec.id_column,
            spec.status_column,
            spec.version_column,
            audited.config_hash,
            spec.tenant_column or "",
            spec.table,
            audited.config_rev or "",
        )
    )
    name = q.quote(_trigger_name(audited, "postgresql"))
    table = q.format_table(audited.table)
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} AFTER UPDATE OF {status} ON {table} FOR EACH ROW "
        f"WHEN (OLD.{status} IS DISTINCT FROM NEW.{status} "
        f"AND current_setting('{ENGINE_SETTING}', true) IS DISTINCT FROM 'engine') "
        f"EXECUTE FUNCTION {q.quote(schema)}.{FUNCTION}({args})",
    ]


def sqlite_trigger(conn: sa.Connection, audited: Audited) -> list[str]:
    """``DROP TRIGGER IF EXISTS`` + ``CREATE TRIGGER`` on one workflow's table (SQLite)."""
    q = conn.dialect.identifier_preparer
    spec = audited.entity
    status, version = q.quote(spec.status_column), q.quote(spec.version_column)
    entity = f"CAST(NEW.{q.quote(spec.id_column)} AS TEXT)"
    tenant = f"CAST(NEW.{q.quote(spec.tenant_column)} AS TEXT)" if spec.tenant_column else "NULL"
    workflow = _literal(audited.workflow)
    last = (
        f"FROM {HISTORY.name} WHERE workflow = {workflow} AND entity_id = {entity} "
        "ORDER BY id DESC LIMIT 1"
    )
    name = q.quote(_trigger_name(audited, "sqlite"))
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} AFTER UPDATE OF {status} ON {q.format_table(audited.table)} "  # noqa: S608  # quoted identifiers, escaped literals
        f"FOR EACH ROW WHEN OLD.{status} IS NOT NEW.{status} "
        f"AND NOT EXISTS (SELECT 1 FROM {MARKER_TABLE}) BEGIN "
        f"INSERT INTO {HISTORY.name} (workflow, entity_table, entity_id, tenant_id, kind, "
        "from_status, to_status, config_hash, config_rev, metadata, changed_at, "
        "entity_version) VALUES ("
        f"{workflow}, {_literal(spec.table)}, {entity}, {tenant}, 'manual', OLD.{status}, "
        f"NEW.{status}, coalesce((SELECT config_hash {last}), {_literal(audited.config_hash)}), "
        f"CASE WHEN EXISTS (SELECT 1 {last}) THEN (SELECT config_rev {last}) "
        f"ELSE {_literal(audited.config_rev)} END, "
        "json_object('db_role', NULL, 'settings', json_object()), "
        "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000', "
        f"NEW.{version}); END",
    ]
