"""Benchmark on realistic histories: conformance, frames and dwell times vs their floors and pm4py.

The history is simulated (``wfnb.simulation.build_demo``: the energy community's
workflows, many variants, rejections and retries, timers, janitors, a config change,
long tails), then replicated to N rows: each copy of the seed's history gets its own
entity ids (``<id>~<copy>``), and about one copy row in 500 is moved by hand (its
``from_status`` rewritten: a manual fix, which conformance reports as a gap or an
undeclared move). Copies have no entity rows, so entity checks judge the seed's entities.
Every measurement runs in its own child process, timed there, with its peak RSS
(``resource.getrusage``) beside the RSS after imports; below 100,000 rows the call runs
twice and the second is timed (imports and first connections are not the check's cost):

- ``arrow``: the Arrow read of the replay rows (ADBC): the floor;
- ``read_sql``: ``pandas.read_sql`` of the same rows: the old floor;
- ``conformance``: ``wfnb.conformance`` of every workflow (paged, bounded memory);
- ``history`` / ``history_read_sql``: ``frames.history()`` vs ``pandas.read_sql`` of it;
- ``dwell`` / ``dwell_pandas``: ``frames.dwell_times`` vs reading the history and
  computing the same in pandas;
- ``pm4py_db`` / ``pm4py_mem``: pm4py's token replay (a net discovered from the log),
  from the database (read_sql + format + replay) and of a log already in memory; only
  when pm4py is importable (it is AGPL: never a dependency of wfnb).

    python bench/realistic.py --smoke            # ~10k rows, quick
    python bench/realistic.py --rows 1000000 --db both
    python bench/realistic.py --rows 10000000    # long

Ratios against the issue-17 targets print last. Other processes on the machine make the
numbers noisy: compare ratios from one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from _common import database

HERE = Path(__file__).resolve()
MAIN_WORKFLOW = "invoice"
"""The workflow whose dwell times are measured (the demo's longest history)."""
WORKFLOWS = HERE.parent.parent / "workflows"
CLONE_COLUMNS = (
    "workflow", "entity_table", "tenant_id", "step_key", "kind", "from_status", "to_status",
    "requester_type", "user_id", "correlation_id", "source", "config_hash", "config_rev",
    "metadata", "duration_ms", "changed_at", "entity_version",
)  # fmt: skip


def build(url: str, rows: int, users: int) -> int:
    """Simulate the seed, replicate it to about ``rows`` rows; the rows there are."""
    from wfnb.simulation.demo import build_demo

    build_demo(url, users=users, months=6, progress=False)
    db = sa.create_engine(url)
    try:
        with db.begin() as conn:
            seed = int(conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one())
            copies = max(0, -(-rows // seed) - 1)
            names = ", ".join(CLONE_COLUMNS)
            for k in range(1, copies + 1):  # fixed bench columns and numbers, no user input
                conn.execute(sa.text(
                    f"INSERT INTO workflow_history (entity_id, {names}) "
                    f"SELECT entity_id || '~{k}', {names} FROM workflow_history "
                    f"WHERE id <= {seed} ORDER BY id"
                ))  # fmt: skip
            conn.execute(sa.text(
                f"UPDATE workflow_history SET from_status = 'manual' "
                f"WHERE id > {seed} AND id % 500 = 7 AND from_status IS NOT NULL"
            ))  # fmt: skip
            conn.execute(sa.text("ANALYZE"))
            return int(conn.execute(sa.text("SELECT count(*) FROM workflow_history")).scalar_one())
    finally:
        db.dispose()


def _replay_stmt(wfs: Any) -> Any:
    from wfnb.store import replay

    return replay.select_replay_page(list(wfs), None, None)


def _pm4py_log(frame: Any) -> Any:
    import pm4py  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return pm4py.format_dataframe(
        frame.assign(activity=frame["step_key"].fillna("") + ":" + frame["kind"]),
        case_id="entity_id", activity_key="activity", timestamp_key="changed_at",
    )  # fmt: skip


def _dwell_pandas(db: sa.Engine, workflow: str) -> int:
    """What an analyst without pushdown does: read the workflow's history, then pandas."""
    import pandas as pd

    from wfnb.store import reads

    stmt = reads.select_history(reads.Filters(workflow=workflow), db.dialect.name)
    with db.connect() as conn:
        h = pd.read_sql(stmt, conn)
    h["changed_at"] = pd.to_datetime(h["changed_at"], utc=True)
    h = h.sort_values(["entity_id", "changed_at", "id"])
    gone = h.groupby("entity_id")["changed_at"].shift(-1) - h["changed_at"]
    g = gone.dt.total_seconds().groupby(h["to_status"])
    return len(pd.DataFrame({"count": g.count(), "mean": g.mean(), "p50": g.quantile(0.5),
                             "p95": g.quantile(0.95)}))  # fmt: skip


def _tasks(db: sa.Engine, wfs: Any, now: Any) -> dict[str, Any]:
    """Each measurement as a call (what it returns is printed beside its time)."""
    import pandas as pd

    from wfnb import frames
    from wfnb.analysis.conformance import conformance
    from wfnb.store import arrow, reads

    def arrow_read() -> int:
        with db.connect() as conn, arrow.mirror(conn) as adbc:
            return int(arrow.read_arrow(adbc, _replay_stmt(wfs), db.dialect.name).num_rows)

    def read_sql(stmt: Any) -> int:
        with db.connect() as conn:
            return len(pd.read_sql(stmt, conn))

    from wfnb.simulation import demo_configs

    known = demo_configs(db)  # the demo's old invoice config, as an analyst passes it

    def check() -> dict[str, Any]:
        k = conformance(db, wfs, now=now, known_configs=known)
        return {"rows": k.rows, "deviations": len(k.deviations), "fitness": round(k.fitness, 5)}

    history = reads.select_history(reads.Filters(), db.dialect.name, newest_first=True)
    return {
        "arrow": arrow_read,
        "read_sql": lambda: read_sql(_replay_stmt(wfs)),
        "conformance": check,
        "history": lambda: len(frames.history(db, progress=False)),
        "history_read_sql": lambda: read_sql(history),
        "dwell": lambda: len(frames.dwell_times(db, MAIN_WORKFLOW)),
        "dwell_pandas": lambda: _dwell_pandas(db, MAIN_WORKFLOW),
    }


def _pm4py_tasks(db: sa.Engine) -> dict[str, Any]:
    import pandas as pd
    import pm4py  # type: ignore[import-not-found,import-untyped,unused-ignore]

    from wfnb.store import HISTORY

    c = HISTORY.c
    columns = sa.select(c.entity_id, c.step_key, c.kind, c.changed_at)

    def read() -> Any:
        with db.connect() as conn:
            return _pm4py_log(pd.read_sql(columns, conn))

    mem = read()
    net = pm4py.discover_petri_net_inductive(mem)
    replay = pm4py.conformance_diagnostics_token_based_replay
    return {
        "pm4py_db": lambda: len(replay(read(), *net)),
        "pm4py_mem": lambda: len(replay(mem, *net)),
    }


def task(name: str, url: str, *, warm: bool = False) -> dict[str, Any]:
    """Run one measurement in this (child) process: seconds, peak RSS and what it saw."""
    import pandas as pd

    from wfnb.store import HISTORY
    from wfnb.validation import load_workflows

    wfs = load_workflows([WORKFLOWS])
    db = sa.create_engine(url)
    with db.connect() as conn:
        end = pd.Timestamp(conn.execute(sa.select(sa.func.max(HISTORY.c.changed_at))).scalar_one())
    now = (end.tz_localize("UTC") if end.tzinfo is None else end).to_pydatetime()
    calls = _pm4py_tasks(db) if name.startswith("pm4py") else _tasks(db, wfs, now)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if warm:  # a small history: time a second call (imports and first connections done)
        calls[name]()
    start = time.perf_counter()
    out = calls[name]()
    seconds = time.perf_counter() - start
    db.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss, "rss_after_imports_mb": rss0, "out": out}


def measure(name: str, url: str, *, warm: bool) -> dict[str, Any] | None:
    """``task(name)`` in a child process (its own peak RSS); None when it cannot run."""
    done = subprocess.run(
        [sys.executable, str(HERE), "--task", name, "--url", url, *(["--warm"] * warm)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {name}: skipped ({tail})")
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    seconds, peak, base = result["seconds"], result["rss_mb"], result["rss_after_imports_mb"]
    print(f"  {name:17s} {seconds:8.2f} s  peak RSS {peak:7.0f} MB "
          f"(after imports {base:.0f})  {result['out']}", flush=True)  # fmt: skip
    return result


def _pm4py_here() -> bool:
    try:
        import pm4py  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


TASKS = ("arrow", "read_sql", "conformance", "history", "history_read_sql", "dwell",
         "dwell_pandas")  # fmt: skip


def _ratio(t: dict[str, float], a: str, b: str) -> float:
    return t[a] / t[b] if a in t and b in t else float("nan")


def run(kind: str, rows: int, users: int, pm4py_too: bool, only: list[str]) -> list[str]:
    names = [n for n in TASKS if n in only] + (["pm4py_db", "pm4py_mem"] if pm4py_too else [])
    with database(kind) as url:
        start = time.perf_counter()
        n = build(url, rows, users)
        print(f"{kind}: {n:,} history rows built in {time.perf_counter() - start:.0f} s "
              f"({datetime.now():%H:%M})", flush=True)  # fmt: skip
        got = {name: measure(name, url, warm=n < 100_000) for name in names}
    t = {k: v["seconds"] for k, v in got.items() if v is not None}
    rss = {k: v["rss_mb"] for k, v in got.items() if v is not None}
    tag = f"{kind}, {n:,} rows"
    ratios = [
        f"[{tag}] conformance / Arrow read floor = {_ratio(t, 'conformance', 'arrow'):.2f}x "
        "(target <= 2x)",
        f"[{tag}] conformance / pandas.read_sql floor = "
        f"{_ratio(t, 'conformance', 'read_sql'):.2f}x",
        f"[{tag}] pandas.read_sql / Arrow read = {_ratio(t, 'read_sql', 'arrow'):.1f}x",
        f"[{tag}] frames.history: read_sql / frames.history = "
        f"{_ratio(t, 'history_read_sql', 'history'):.1f}x faster (target >= 2x)",
        f"[{tag}] dwell: pandas / frames.dwell_times = {_ratio(t, 'dwell_pandas', 'dwell'):.1f}x "
        "faster (target >= 5x)",
        f"[{tag}] conformance peak RSS = {rss.get('conformance', float('nan')):.0f} MB "
        "(target <= 1536 MB at 10M, within 20% of 1M)",
    ]
    if n <= 20_000 and "conformance" in t:
        ratios.append(f"[{tag}] conformance = {t['conformance'] * 1000:.0f} ms "
                      "(target <= 100 ms at 10k rows)")  # fmt: skip
    if "pm4py_db" in t and "pm4py_mem" in t:
        ratios.append(
            f"[{tag}] pm4py from the db / conformance = {t['pm4py_db'] / t['conformance']:.1f}x "
            f"(target >= 10x); pm4py in memory / conformance = "
            f"{t['pm4py_mem'] / t['conformance']:.1f}x (target > 1x); pm4py peak RSS "
            f"{rss['pm4py_db']:.0f} MB"
        )
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="about 10,000 rows, quick")
    parser.add_argument("--rows", type=int, help="history rows (default 1,000,000)")
    parser.add_argument("--users", type=int, help="members the simulated seed signs up")
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--no-pm4py", action="store_true", help="skip pm4py even if installed")
    parser.add_argument("--only", help=f"comma-separated measurements of: {', '.join(TASKS)}")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        print(json.dumps(task(args.task, args.url, warm=args.warm), default=str))
        return 0
    rows = args.rows or (10_000 if args.smoke else 1_000_000)
    users = args.users or (60 if args.smoke else 1500)
    pm4py_too = not args.no_pm4py and _pm4py_here()
    if not pm4py_too:
        print("pm4py is not importable (or --no-pm4py): its comparison is skipped")
    kinds = ["sqlite", "pg"] if args.db == "both" else [args.db]
    ratios: list[str] = []
    for kind in kinds:
        ratios += run(kind, rows, users, pm4py_too, (args.only or ",".join(TASKS)).split(","))
    print("\n".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
