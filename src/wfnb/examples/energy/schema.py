"""The example domain's tables (SQLAlchemy Core) and small factories that insert entities.

Entity tables (``users``, ``sharing_groups``, ``invoices``, ``billing_periods``) carry the
workflow state in their ``status`` column; its CHECK constraint is generated from the
workflow file's ``status_types``, so the database refuses any status the config does not
declare (the validator's WF112 compares the two). Ids are prefixed text (``usr_...``), see
ADR 0040. Auxiliary tables belong to the module whose actions write them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem

from wfnb.exceptions import ConfigError
from wfnb.problems import Problem, Severity
from wfnb.spec import Workflow

__all__ = [
    "ID_PREFIXES",
    "WORKFLOW_FILES",
    "allowed_statuses",
    "billing_period_totals",
    "billing_periods",
    "create_schema",
    "example_workflows",
    "hub_requests",
    "insert_billing_period",
    "insert_invoice",
    "insert_sharing_group",
    "insert_user",
    "invoice_payments",
    "invoices",
    "metadata",
    "new_id",
    "notifications",
    "registration_notes",
    "sharing_group_members",
    "sharing_groups",
    "status_check_name",
    "user_documents",
    "users",
    "workflows_dir",
]

WORKFLOW_FILES: Mapping[str, str] = {
    "users": "user_registration.json",
    "sharing_groups": "sharing_group.json",
    "invoices": "invoice.json",
    "billing_periods": "billing_period.json",
}
"""Entity table -> the workflow file that owns its status column."""

ID_PREFIXES: Mapping[str, str] = {
    "users": "usr",
    "sharing_groups": "grp",
    "invoices": "inv",
    "billing_periods": "bp",
}

ID = sa.String(40)
TS = sa.DateTime(timezone=True)


def workflows_dir() -> Path | None:
    """The example workflow folder: the repo's ``workflows/``, or one shipped in the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[4] / "workflows", here.parent / "workflows"):
        if all((candidate / name).is_file() for name in WORKFLOW_FILES.values()):
            return candidate
    return None


@cache
def example_workflows() -> Mapping[str, Workflow]:
    """The four example workflows by entity table, read from :func:`workflows_dir`.

    Raises:
        ConfigError: the workflow files cannot be found (a wheel built without them).
    """
    folder = workflows_dir()
    if folder is None:
        problem = Problem(
            "WF101", Severity.ERROR, "workflows/", "", "example workflow files not found"
        )
        raise ConfigError([problem])
    return {
        table: Workflow.model_validate_json((folder / name).read_text(encoding="utf-8"))
        for table, name in WORKFLOW_FILES.items()
    }


def status_check_name(table: str, status_column: str = "status") -> str:
    """Name of the CHECK constraint that lists a table's allowed statuses."""
    return f"ck_{table}_{status_column}"


def _entity_columns(table: str) -> list[SchemaItem]:
    """id, status (CHECKed against the workflow), version and, if scoped, tenant_id."""
    wf = example_workflows()[table]
    spec = wf.entity
    items: list[SchemaItem] = [
        sa.Column(spec.id_column, ID, primary_key=True),
        sa.Column(spec.status_column, sa.String(40), nullable=False),
        sa.Column(spec.version_column, sa.Integer, nullable=False, default=1, server_default="1"),
        sa.CheckConstraint(
            sa.column(spec.status_column).in_(wf.status_types),
            name=status_check_name(table, spec.status_column),
        ),
    ]
    if spec.tenant_column:
        items.append(sa.Column(spec.tenant_column, sa.String(64), nullable=False, index=True))
    return items


def _created_at() -> sa.Column[Any]:
    return sa.Column("created_at", TS, nullable=False, server_default=sa.func.current_timestamp())


metadata = sa.MetaData()

# --- identity: users and what registration writes --------------------------------------
users = sa.Table(
    "users",
    metadata,
    *_entity_columns("users"),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_token", sa.String(64)),
    sa.Column("email_verified_at", TS),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("supply_point", sa.String(18)),  # the EAN of the member's supply point
    sa.Column("hub_customer_ref", sa.String(64)),
    sa.Column("suspension_reason", sa.Text),
    _created_at(),
    sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
)
user_documents = sa.Table(
    "user_documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_by", sa.String(16), nullable=False),
    sa.Column("uploaded_at", TS, nullable=False),
)
registration_notes = sa.Table(
    "registration_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("author_type", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

# --- datahub and notifications: shared outboxes keyed by entity ------------------------
hub_requests = sa.Table(
    "hub_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(80), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("entity_table", sa.String(64), nullable=False),
    sa.Column("entity_id", ID, nullable=False),
    sa.Column("tenant_id", sa.String(64)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("requested_at", TS, nullable=False),
    sa.Index("ix_hub_requests_entity", "entity_table", "entity_id"),
)
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_table", sa.String(64), nullable=False),
    sa.Column("entity_id", ID, nullable=False),
    sa.Column("template", sa.String(100), nullable=False),
    sa.Column("recipient", sa.String(254)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempt", sa.String(80)),  # set for mails a claim janitor must find
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_notifications_entity", "entity_table", "entity_id"),
)

# --- sharing ----------------------------------------------------------------------------
sharing_groups = sa.Table(
    "sharing_groups",
    metadata,
    *_entity_columns("sharing_groups"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("allocation_method", sa.String(16), nullable=False, server_default="static"),
    sa.Column("start_date", sa.Date),
    sa.Column("hub_group_ref", sa.String(64)),
    sa.Column("dissolved_at", TS),
    _created_at(),
    sa.CheckConstraint("allocation_method IN ('static', 'dynamic')", name="ck_groups_method"),
)
sharing_group_members = sa.Table(
    "sharing_group_members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_id", ID, sa.ForeignKey("sharing_groups.id"), nullable=False, index=True),
    sa.Column("user_id", ID, nullable=False),  # no FK: identity may move to another service
    sa.Column("share_bp", sa.Integer, nullable=False),  # basis points, 10000 = 100 %
    sa.UniqueConstraint("group_id", "user_id", name="uq_group_member"),
    sa.CheckConstraint("share_bp BETWEEN 0 AND 10000", name="ck_member_share"),
)

# --- invoicing --------------------------------------------------------------------------
invoices = sa.Table(
    "invoices",
    metadata,
    *_entity_columns("invoices"),
    sa.Column("customer_id", ID, nullable=False),
    sa.Column("customer_email", sa.String(254)),
    sa.Column("billing_period_id", ID),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="CZK"),
    sa.Column("payee_iban", sa.String(34), nullable=False),
    sa.Column("approved_at", TS),
    sa.Column("sent_at", TS),
    sa.Column("due_date", sa.Date),
    sa.Column("paid_cents", sa.Integer, nullable=False, server_default="0"),
    sa.Column("written_off_reason", sa.Text),
    _created_at(),
    sa.CheckConstraint("amount_cents >= 0", name="ck_invoices_amount"),
)
invoice_payments = sa.Table(
    "invoice_payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("invoice_id", ID, sa.ForeignKey("invoices.id"), nullable=False, index=True),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("bank_reference", sa.String(64), nullable=False),
    sa.Column("received_at", TS, nullable=False),
    sa.Column("recorded_by", sa.String(16), nullable=False),
)

# --- billing ----------------------------------------------------------------------------
billing_periods = sa.Table(
    "billing_periods",
    metadata,
    *_entity_columns("billing_periods"),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),  # exclusive
    sa.Column("closed_at", TS),
    sa.Column("archived_at", TS),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("period_start", name="uq_billing_period_start"),
)
billing_period_totals = sa.Table(
    "billing_period_totals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period_id", ID, sa.ForeignKey("billing_periods.id"), nullable=False, index=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("shared_kwh", sa.Numeric(14, 3), nullable=False),
    sa.Column("amount_cents", sa.Integer, nullable=False),
    sa.Column("computed_at", TS, nullable=False),
)


def create_schema(engine: sa.Engine) -> None:
    """Create every example table that does not exist yet (idempotent)."""
    metadata.create_all(engine, checkfirst=True)


def new_id(table: str) -> str:
    """A fresh prefixed text id for an entity of ``table`` (``usr_3f9c...``)."""
    return f"{ID_PREFIXES[table]}_{uuid.uuid4().hex[:16]}"


def _insert(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> str:
    wf = example_workflows()[table.name]
    values.setdefault(wf.entity.id_column, new_id(table.name))
    values.setdefault(wf.entity.status_column, wf.initial_status)
    conn.execute(sa.insert(table).values(**values))
    return str(values[wf.entity.id_column])


def insert_user(conn: sa.Connection, **overrides: Any) -> str:
    """Insert a user at the workflow's initial status (or ``status=``); returns its id."""
    user_id = str(overrides.pop("id", None) or new_id("users"))
    values: dict[str, Any] = {
        "id": user_id,
        "tenant_id": "community_a",
        "email": f"{user_id}@example.org",
        "email_token": f"tok-{user_id[-8:]}",
        "full_name": "Jana Nováková",
        "supply_point": "859182400100000001",
        **overrides,
    }
    return _insert(conn, users, values)


def insert_sharing_group(conn: sa.Connection, **overrides: Any) -> str:
    """Insert a sharing group at ``draft`` (or ``status=``); returns its id."""
    values: dict[str, Any] = {"tenant_id": "community_a", "name": "Bytový dům Lipová", **overrides}
    return _insert(conn, sharing_groups, values)


def insert_invoice(conn: sa.Connection, **overrides: Any) -> str:
    """Insert an invoice at ``draft`` (or ``status=``); returns its id."""
    values: dict[str, Any] = {
        "tenant_id": "community_a",
        "customer_id": "usr_demo",
        "customer_email": "member@example.org",
        "amount_cents": 125_000,
        "payee_iban": "CZ6508000000192000145399",
        **overrides,
    }
    return _insert(conn, invoices, values)


def insert_billing_period(
    conn: sa.Connection, period_start: date = date(2026, 1, 1), **overrides: Any
) -> str:
    """Insert a monthly billing period at ``open`` (or ``status=``); returns its id."""
    month = period_start.month % 12 + 1
    year = period_start.year + (period_start.month == 12)
    values: dict[str, Any] = {
        "period_start": period_start,
        "period_end": date(year, month, 1),
        **overrides,
    }
    return _insert(conn, billing_periods, values)


def allowed_statuses(table: str) -> Sequence[str]:
    """The statuses the CHECK constraint of ``table`` allows (its workflow's status_types)."""
    return example_workflows()[table].status_types
