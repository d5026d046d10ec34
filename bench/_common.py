"""What every benchmark shares: a throwaway database of either dialect, and a timer."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_URL = os.environ.get("WFNB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server benchmarks use (README command 2 exports the one it found)."""


@contextmanager
def database(kind: str) -> Iterator[str]:
    """The URL of a fresh SQLite file, or of a fresh PostgreSQL schema dropped at the end."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wfnb-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def best(fn: Callable[[], Any], runs: int = 1) -> tuple[float, Any]:
    """The fastest of ``runs`` timed calls of ``fn`` in seconds, and what the last returned."""
    fastest, out = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, out
