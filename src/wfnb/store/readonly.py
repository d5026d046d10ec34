"""Engines that cannot write: a SQLite file opened ``mode=ro``, PostgreSQL read-only sessions.

For the dashboard (``wfnb dashboard``): whatever its kernel runs, the database refuses
every write. SQLite gets a ``file:`` URI with ``mode=ro``; PostgreSQL sessions start with
``default_transaction_read_only=on`` (a write fails with "read-only transaction").
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from wfnb.exceptions import WfnbUsageError

__all__ = ["readonly_engine"]


def readonly_engine(url: str | sa.URL) -> sa.Engine:
    """An engine over ``url`` that refuses writes.

    Raises:
        WfnbUsageError: an in-memory SQLite database (nothing to open read-only), or a
            backend other than SQLite and PostgreSQL.
    """
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise WfnbUsageError("a read-only dashboard needs a SQLite file, not :memory:")
        path = quote(str(Path(parsed.database).resolve()))
        return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    if backend == "postgresql":
        given = parsed.query.get("options", "")  # a search_path, say: kept
        kept = given if isinstance(given, str) else " ".join(given)
        options = f"{kept} -c default_transaction_read_only=on".strip()
        return sa.create_engine(parsed, connect_args={"options": options})
    raise WfnbUsageError(f"a read-only dashboard reads SQLite or PostgreSQL, not {backend!r}")
