"""Benchmark: wfnb.frames against raw pandas on N history rows.

1. ``frames.history(db)`` vs the floor ``pandas.read_sql`` of the same SELECT (target <= 1.5x).
2. ``frames.dwell_times`` (LEAD + percentiles in SQL) vs computing it in pandas from the
   whole table read with ``pandas.read_sql`` (target >= 5x faster).

Rows are bulk-loaded (executemany in big chunks on SQLite, COPY on PostgreSQL); the
PostgreSQL run uses a fresh schema, dropped at the end. Ratios print last.

    python bench/frames.py --db sqlite|pg|both [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from _common import best, database
from wfnb import frames, testing
from wfnb.engine import Engine
from wfnb.store import HISTORY, reads

STATUSES = ["draft", "submitted", "triaged", "resolving", "resolved", "closed"]
COLUMNS = ["workflow", "entity_table", "entity_id", "tenant_id", "step_key", "kind",
           "from_status", "to_status", "requester_type", "config_hash", "metadata",
           "duration_ms", "changed_at", "entity_version"]  # fmt: skip


def rows(n: int) -> Iterator[dict[str, Any]]:
    """Entities walking the statuses in order, a few hours per stay."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entity, step, at = 0, 0, start
    for _ in range(n):
        if step == len(STATUSES) - 1 or rng.random() < 0.1:
            entity, step = entity + 1, 0
            at = start + timedelta(minutes=entity)
        frm = STATUSES[step - 1] if step else None
        at += timedelta(seconds=rng.randint(60, 36_000))
        yield {"workflow": "ticket", "entity_table": "tickets", "entity_id": f"e{entity}",
               "tenant_id": None, "step_key": f"to_{STATUSES[step]}", "kind": "initiated",
               "from_status": frm, "to_status": STATUSES[step], "requester_type": "user",
               "config_hash": "h" * 64, "metadata": {"n": step}, "duration_ms": 1.5,
               "changed_at": at, "entity_version": step + 1}  # fmt: skip
        step += 1


def load(url: str, n: int) -> None:
    engine = Engine([testing.make_workflow()], url)
    engine.install()
    db = engine.db
    if db.dialect.name == "postgresql":
        raw = db.raw_connection()
        try:
            cur = raw.driver_connection.cursor()  # type: ignore[union-attr]
            with cur.copy(f"COPY workflow_history ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for r in rows(n):
                    copy.write_row([json.dumps(r[c]) if c == "metadata" else r[c] for c in COLUMNS])
            raw.commit()
        finally:
            raw.close()
        with db.connect() as conn:
            conn.execute(sa.text("ANALYZE workflow_history"))
            conn.commit()
    else:
        batch: list[dict[str, Any]] = []
        with db.begin() as conn:
            for r in rows(n):
                batch.append(r)
                if len(batch) == 50_000:
                    conn.execute(sa.insert(HISTORY), batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(HISTORY), batch)
    engine.dispose()


def pandas_dwell(url: str) -> pd.DataFrame:
    """What an analyst without pushdown does: read the workflow's whole history, then pandas."""
    engine = sa.create_engine(url)
    stmt = reads.select_history(reads.Filters(workflow="ticket"), engine.dialect.name)
    with engine.connect() as conn:
        h = pd.read_sql(stmt, conn)
    engine.dispose()
    h["changed_at"] = pd.to_datetime(h["changed_at"], utc=True)
    h = h.sort_values(["entity_id", "changed_at", "id"])
    seconds = (h.groupby("entity_id")["changed_at"].shift(-1) - h["changed_at"]).dt.total_seconds()
    g = seconds.groupby(h["to_status"])
    return pd.DataFrame({"count": g.count(), "mean": g.mean(), "p50": g.quantile(0.5),
                         "p95": g.quantile(0.95)})  # fmt: skip


def run(kind: str, n: int) -> dict[str, float]:
    with database(kind) as url:
        t = time.perf_counter()
        load(url, n)
        print(f"[{kind}] loaded {n} history rows in {time.perf_counter() - t:.1f}s")
        engine = sa.create_engine(url)
        stmt = reads.select_history(reads.Filters(), engine.dialect.name, newest_first=True)

        def floor() -> pd.DataFrame:
            with engine.connect() as conn:
                return pd.read_sql(stmt, conn)

        t_floor, raw = best(floor, 3)
        t_hist, ours = best(lambda: frames.history(engine, progress=False), 3)
        assert len(raw) == len(ours) == n
        t_pd, expected = best(lambda: pandas_dwell(url), 3)
        t_dwell, got = best(lambda: frames.dwell_times(engine, "ticket"), 3)
        got = got.set_index("status")
        assert (got["count"] == expected["count"].reindex(got.index)).all()
        engine.dispose()
    print(f"[{kind}] history: read_sql floor {t_floor:.2f}s, frames.history {t_hist:.2f}s")
    print(f"[{kind}] dwell: pandas {t_pd:.2f}s, frames.dwell_times {t_dwell:.3f}s")
    return {"history": t_hist / t_floor, "dwell": t_pd / t_dwell}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--smoke", action="store_true", help="10,000 rows instead of 1,000,000")
    args = parser.parse_args()
    n = 10_000 if args.smoke else 1_000_000
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios = {kind: run(kind, n) for kind in kinds}
    for kind, r in ratios.items():
        print(f"ratio frames.history / read_sql floor [{kind}, {n} rows]: "
              f"{r['history']:.2f}x (target <= 1.5x)")  # fmt: skip
        print(f"ratio pandas dwell / frames.dwell_times [{kind}, {n} rows]: "
              f"{r['dwell']:.1f}x faster (target >= 5x)")  # fmt: skip


if __name__ == "__main__":
    main()
