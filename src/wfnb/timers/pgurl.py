"""SQLAlchemy URLs to libpq connection strings, for libraries that speak psycopg directly."""

from __future__ import annotations

import sqlalchemy as sa

from wfnb.exceptions import QueueError

__all__ = ["libpq_conninfo", "psycopg_url"]


def psycopg_url(db: str | sa.URL | sa.Engine) -> sa.URL:
    """The URL of ``db`` with the psycopg 3 driver (``postgresql+psycopg``).

    Raises:
        QueueError: ``db`` is not a PostgreSQL URL.
    """
    url = db.url if isinstance(db, sa.Engine) else sa.make_url(db)
    if url.get_backend_name() != "postgresql":
        raise QueueError(
            f"durable timers need PostgreSQL, not {url.get_backend_name()!r} "
            f"({url.render_as_string(hide_password=True)})",
            url=url.render_as_string(hide_password=True),
        )
    return url.set(drivername="postgresql+psycopg")


def libpq_conninfo(db: str | sa.URL | sa.Engine) -> str:
    """A libpq ``key=value`` string for ``db``, query parameters included.

    ``?host=/run/postgresql`` (a socket directory) and ``?options=-csearch_path=...``
    are libpq parameters and are kept as such, so a schema chosen through
    ``search_path`` is honoured by every connection.

    Raises:
        QueueError: ``db`` is not a PostgreSQL URL or has a parameter libpq rejects.
    """
    import psycopg.conninfo  # noqa: PLC0415  # psycopg is the optional "pg" extra

    url = psycopg_url(db)
    params: dict[str, str | int | None] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    try:
        return psycopg.conninfo.make_conninfo(
            "", **{k: v for k, v in params.items() if v is not None}
        )
    except psycopg.ProgrammingError as exc:
        raise QueueError(f"cannot build a libpq connection string: {exc}") from exc
