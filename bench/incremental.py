"""Benchmark: an incremental conformance re-check after 1% new rows, against a full check.

Builds the ``ticket`` history of ``bench/conformance.py`` (8-row lives, ~1% of entities
with a deviation planted), but with lives overlapping in time (each step two days after
the last, entities a minute apart), so the newest 1% of rows continue thousands of
entities already judged as well as starting new ones. The first 99% of rows (by time) are
loaded and judged incrementally once (the checkpoint); the last 1% are appended and the
entity tables brought up to date. Then:

- ``conformance(db, wfs)``: a full check of every row (best of N);
- ``conformance(db, wfs, incremental=True)``: the re-check of the new rows (timed once: a
  second run has nothing new), whose report must equal the full one (exit 1 otherwise).

    python bench/incremental.py              # 1,000,000 rows on SQLite
    python bench/incremental.py --db both    # ... and on PostgreSQL (WFNB_TEST_PG_URL)
    python bench/incremental.py --smoke      # 20,000 rows, best of 1 (CI)

Target: incremental / full <= 5% at 1M rows. Ratios are printed last.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from _common import best
from conformance import START, _copy, engine_on, history_frame
from wfnb import testing
from wfnb.analysis.conformance import conformance
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.store import HISTORY

STEP_APART = pd.Timedelta(days=2)


def overlapping(wf: Workflow, rows: int) -> pd.DataFrame:
    """``history_frame`` with lives overlapping in time, in time order."""
    frame = history_frame(wf, rows)
    entity = frame["entity_id"].str[1:].astype(int).to_numpy()
    step = frame.groupby("entity_id").cumcount().to_numpy()
    frame["changed_at"] = (
        pd.Timestamp(START) + pd.to_timedelta(entity, unit="m") + step * STEP_APART
    )
    return frame.sort_values(["changed_at", "entity_id"], ignore_index=True, kind="stable")


def load(db: sa.Engine, wf: Workflow, base: pd.DataFrame) -> None:
    """Install the engine's tables and the entity table, then append ``base``."""
    Engine([wf], db).install()
    testing.create_entity_table(db, wf)
    append(db, wf, base, base)
    with db.begin() as conn:  # only these tables: the server may hold other databases' work
        for table in ("workflow_history", "tickets"):
            conn.execute(sa.text(f"ANALYZE {table}"))


def append(db: sa.Engine, wf: Workflow, new: pd.DataFrame, whole: pd.DataFrame) -> None:
    """Insert ``new`` history rows; set touched entities to their status in ``whole``."""
    columns = [c for c in new.columns if c in HISTORY.c]
    touched = new["entity_id"].unique()
    last = whole[whole["entity_id"].isin(touched)].groupby("entity_id")["to_status"].last()
    entities = pd.DataFrame({"id": last.index, "status": last.to_numpy(), "version": 8})
    tickets = sa.table("tickets", *(sa.column(str(c)) for c in entities.columns))
    with db.begin() as conn:
        ids = list(entities["id"])
        for start in range(0, len(ids), 500):
            conn.execute(tickets.delete().where(tickets.c.id.in_(ids[start : start + 500])))
        if db.dialect.name == "postgresql":
            _copy(conn, "workflow_history", new[columns])
            _copy(conn, "tickets", entities)
        else:
            records = new[columns].astype(object).where(new[columns].notna(), None)
            rows: list[dict[str, Any]] = records.to_dict(orient="records")  # type: ignore[assignment]
            for row in rows:
                row["metadata"] = {}
            conn.execute(sa.insert(HISTORY), rows)
            conn.execute(tickets.insert(), entities.to_dict(orient="records"))


def same(a: Any, b: Any) -> bool:
    try:
        pd.testing.assert_frame_equal(a.deviations, b.deviations)
        pd.testing.assert_frame_equal(a.by_config, b.by_config)
    except AssertionError as exc:
        print(f"  reports differ: {exc}")
        return False
    return bool(a.rows == b.rows and a.fitness == b.fitness)


def run(kind: str, rows: int, runs: int) -> tuple[list[str], bool]:
    wf = testing.make_workflow()
    whole = overlapping(wf, rows)
    cut = len(whole) - max(1, len(whole) // 100)
    base, new = whole.iloc[:cut], whole.iloc[cut:]
    now = START + timedelta(days=3650)
    with engine_on(kind) as db:
        start = time.perf_counter()
        load(db, wf, base)
        primed = conformance(db, [wf], now=now, incremental=True)
        print(f"{kind}: {len(base):,} rows loaded and judged once in "
              f"{time.perf_counter() - start:.1f} s ({primed.rows:,} rows)")  # fmt: skip
        append(db, wf, new, whole)
        t_inc, inc = best(lambda: conformance(db, [wf], now=now, incremental=True), 1)
        t_full, full = best(lambda: conformance(db, [wf], now=now), runs)
        t_again, _ = best(lambda: conformance(db, [wf], now=now, incremental=True), 1)
        touched = new["entity_id"].nunique()
        print(f"  {len(new):,} new rows touching {touched:,} entities")
        print(f"  full check:          {t_full * 1000:10.1f} ms ({full.rows:,} rows, "
              f"{len(full.deviations):,} deviations)")  # fmt: skip
        print(f"  incremental re-check: {t_inc * 1000:9.1f} ms")
        print(f"  nothing new:          {t_again * 1000:9.1f} ms")
        ok = same(inc, full) and full.rows == len(whole)
        ratio = f"{kind}: incremental / full = {t_inc / t_full:.1%} (target <= 5%)" + (
            ", identical report" if ok else ", REPORTS DIFFER"
        )
        return [ratio], ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, best of 1")
    parser.add_argument("--rows", type=int, help="history rows (default 1,000,000)")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    args = parser.parse_args(argv)
    rows = args.rows or (20_000 if args.smoke else 1_000_000)
    runs = 1 if args.smoke else 2
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios: list[str] = []
    ok = True
    for kind in kinds:
        lines, same_report = run(kind, rows, runs)
        ratios += lines
        ok = ok and same_report
    print("\n".join(ratios))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
