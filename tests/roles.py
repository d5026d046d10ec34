"""A throwaway PostgreSQL LOGIN role (no superuser, no BYPASSRLS) for attacks and tenancy tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from wfnb.sandbox.hosts import close_all


@contextmanager
def login_role(url: str, prefix: str, tables: str, sequences: str) -> Iterator[str]:
    """Create a role granted ``tables`` and ``sequences`` rights on ``url``'s schema; its URL.

    At the end the kept sandboxes are closed, the role's sessions ended and the role dropped.
    """
    role = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())
        for ddl in (
            f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS',
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT {tables} ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'GRANT {sequences} ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
        ):
            conn.execute(sa.text(ddl))
    try:
        yield (
            sa.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
        )
    finally:
        close_all()
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"
                ),
                {"r": role},
            )
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        admin.dispose()
