"""Benchmark: ``wfnb.conformance`` over N history rows, against reading them and pm4py.

Generates the ``ticket`` workflow's history (``wfnb.testing``): each entity is submitted,
triaged, claimed, resolved, reopened, claimed and resolved again, and closed (8 rows), and
about 1% of the entities get a deviation planted (an undeclared move, a wrong requester, a
manual UPDATE). Rows are bulk-loaded (executemany on SQLite, COPY on PostgreSQL). Then,
best of N runs:

- ``conformance(db, wfs)``: the whole check, reading included;
- the floor: ``pandas.read_sql`` of the same columns of the same rows (target: at most 3x);
- pm4py's token-based replay (``pm4py.conformance_diagnostics_token_based_replay``) of the
  same log, on a Petri net discovered from it by the inductive miner, timed twice: on a
  frame already in memory (the replay alone), and from the database as an analyst would run
  it (``read_sql`` + ``format_dataframe`` + replay), which is what ``conformance`` is timed
  doing (target: at least 10x slower than wfnb). Skipped when pm4py is not installed.

    python bench/conformance.py                # 1,000,000 rows on SQLite
    python bench/conformance.py --db both      # ... and on PostgreSQL (WFNB_TEST_PG_URL)
    python bench/conformance.py --smoke        # 10,000 rows, best of 1 (CI)

On PostgreSQL the rows go to a fresh schema, dropped at the end. Ratios are printed last.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from _common import best, database
from wfnb import testing
from wfnb.analysis.conformance import conformance
from wfnb.engine import Engine
from wfnb.spec import Workflow
from wfnb.store import HISTORY
from wfnb.store.audit import REPLAY_COLUMNS

START = datetime(2026, 1, 1, tzinfo=UTC)

# (kind, step, from, to, requester) of one entity's life, in order.
LIFE = [
    ("initiated", "submit", "draft", "submitted", "user"),
    ("initiated", "triage", "submitted", "triaged", "user"),
    ("claimed", "resolve", "triaged", "resolving", "admin"),
    ("initiated", "resolve", "resolving", "resolved", "admin"),
    ("initiated", "reopen", "resolved", "triaged", "user"),
    ("claimed", "resolve", "triaged", "resolving", "system"),
    ("initiated", "resolve", "resolving", "resolved", "system"),
    ("initiated", "close", "resolved", "closed", "user"),
]


def history_frame(wf: Workflow, rows: int) -> pd.DataFrame:
    """``rows`` history rows (a multiple of the life's length), built with numpy."""
    entities = max(1, rows // len(LIFE))
    life = pd.DataFrame(
        LIFE, columns=["kind", "step_key", "from_status", "to_status", "requester_type"]
    )
    frame = life.iloc[np.tile(np.arange(len(LIFE)), entities)].reset_index(drop=True)
    entity = np.repeat(np.arange(entities), len(LIFE))
    frame["entity_id"] = pd.Series(entity).map("e{:07d}".format)
    frame["changed_at"] = pd.Timestamp(START) + pd.to_timedelta(
        entity * 10 + np.tile(np.arange(len(LIFE)), entities), unit="m"
    )
    rng = np.random.default_rng(7)
    planted = rng.choice(entities, size=max(1, entities // 100), replace=False) * len(LIFE)
    frame.loc[planted[0::3] + 7, "to_status"] = "refused"  # close → refused: undeclared
    frame.loc[planted[1::3] + 4, "requester_type"] = "admin"  # reopen is the user's
    frame.loc[planted[2::3] + 5, "from_status"] = "submitted"  # a gap: a manual UPDATE
    return frame.assign(
        workflow=wf.name,
        entity_table=wf.entity.table,
        source=None,
        config_hash=wf.config_hash,
        metadata="{}",
    )


def load(db: sa.Engine, wf: Workflow, frame: pd.DataFrame) -> None:
    """Install the tables and bulk-load the history and the entities' final statuses."""
    engine = Engine([wf], db)
    engine.install()
    testing.create_entity_table(db, wf)
    last = frame.groupby("entity_id", sort=False)["to_status"].last()
    entities = pd.DataFrame({"id": last.index, "status": last.to_numpy(), "version": 8})
    columns = [c for c in frame.columns if c in HISTORY.c]
    with db.begin() as conn:
        if db.dialect.name == "postgresql":
            _copy(conn, "workflow_history", frame[columns])
            _copy(conn, "tickets", entities)
        else:
            records = frame[columns].astype(object).where(frame[columns].notna(), None)
            rows: list[dict[str, Any]] = records.to_dict(orient="records")  # type: ignore[assignment]
            for row in rows:
                row["metadata"] = {}
            conn.execute(sa.insert(HISTORY), rows)
            tickets = sa.table("tickets", *(sa.column(str(c)) for c in entities.columns))
            conn.execute(tickets.insert(), [dict(zip(entities.columns, r, strict=True))
                                            for r in entities.itertuples(index=False)])  # fmt: skip
        conn.execute(sa.text("ANALYZE"))


def _copy(conn: sa.Connection, table: str, frame: pd.DataFrame) -> None:
    """PostgreSQL ``COPY table (columns) FROM STDIN`` (CSV) through psycopg."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(f'"{c}"' for c in frame.columns)  # fixed bench columns, not user input
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def floor(db: sa.Engine, wf: Workflow, columns: tuple[str, ...] = REPLAY_COLUMNS) -> pd.DataFrame:
    stmt = sa.select(*(HISTORY.c[c] for c in columns)).where(HISTORY.c.workflow == wf.name)
    with db.connect() as conn:
        return pd.read_sql(stmt, conn)


def pm4py_replay(
    frame: pd.DataFrame, read: Callable[[], pd.DataFrame], runs: int
) -> tuple[float, float] | None:
    """Best times of pm4py's token-based replay on a discovered net: (replay alone, from the
    database: ``read`` + format + replay); None without pm4py."""
    try:
        import pm4py  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        print("pm4py is not installed: skipping its comparison")
        return None

    def as_log(rows: pd.DataFrame) -> pd.DataFrame:
        return pm4py.format_dataframe(
            rows.assign(activity=rows["step_key"] + ":" + rows["kind"]),
            case_id="entity_id", activity_key="activity", timestamp_key="changed_at",
        )  # fmt: skip

    log = as_log(frame)
    net, im, fm = pm4py.discover_petri_net_inductive(log)
    seconds, fitness = best(
        lambda: pm4py.conformance_diagnostics_token_based_replay(log, net, im, fm), runs
    )
    whole, _ = best(
        lambda: pm4py.conformance_diagnostics_token_based_replay(as_log(read()), net, im, fm),
        runs,
    )
    fit = sum(1 for r in fitness if r["trace_is_fit"]) / max(1, len(fitness))
    print(f"  pm4py token replay:    {seconds * 1000:10.1f} ms ({fit:.3f} of traces fit)")
    print(f"  pm4py from the db:     {whole * 1000:10.1f} ms (read_sql + format + replay)")
    return seconds, whole


@contextmanager
def engine_on(kind: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database of ``kind`` (see ``_common.database``)."""
    with database(kind) as url:
        db = sa.create_engine(url)
        try:
            yield db
        finally:
            db.dispose()


def run(kind: str, rows: int, runs: int, pm4py_too: bool) -> list[str]:
    wf = testing.make_workflow()
    frame = history_frame(wf, rows)
    ratios = []
    with engine_on(kind) as db:
        start = time.perf_counter()
        load(db, wf, frame)
        print(f"{kind}: {len(frame):,} rows loaded in {time.perf_counter() - start:.1f} s")
        now = START + timedelta(days=365)
        t_conf, k = best(lambda: conformance(db, [wf], now=now), runs)
        t_floor, read = best(lambda: floor(db, wf), runs)
        assert len(read) == k.rows == len(frame)
        print(f"  conformance:           {t_conf * 1000:10.1f} ms (fitness {k.fitness:.4f}, "
              f"{len(k.deviations):,} deviations)")  # fmt: skip
        print(f"  floor (pandas.read_sql): {t_floor * 1000:8.1f} ms")
        ratios.append(f"{kind}: conformance / floor = {t_conf / t_floor:.2f}x (target <= 3x)")
        if pm4py_too:
            log_columns = ("entity_id", "step_key", "kind", "changed_at")
            timed = pm4py_replay(frame, lambda: floor(db, wf, log_columns), runs)
            if timed is not None:
                replay, whole = timed
                ratios.append(
                    f"{kind}: pm4py replay alone / conformance = {replay / t_conf:.1f}x; "
                    f"pm4py from the db / conformance = {whole / t_conf:.1f}x (target >= 10x)"
                )
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="10,000 rows, best of 1")
    parser.add_argument("--rows", type=int, help="history rows (default 1,000,000)")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--no-pm4py", action="store_true", help="skip the pm4py comparison")
    args = parser.parse_args(argv)
    rows = args.rows or (10_000 if args.smoke else 1_000_000)
    runs = 1 if args.smoke else 2
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios: list[str] = []
    for i, kind in enumerate(kinds):
        ratios += run(kind, rows, runs, pm4py_too=not args.no_pm4py and i == 0)
    print("\n".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
