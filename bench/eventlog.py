"""Benchmark: importing a large XES.gz in bounded memory, and export throughput (ADR 0120).

A synthetic XES.gz of N events (invoices of 40 events each walking draft -> approved ->
draft ... -> sent -> paid, times with offsets) is written, then imported into a fresh
database in a CHILD process that prints its peak RSS (``resource.getrusage``, the child's
own high-water mark) before and after the import; the same import of a quarter of the
events runs too, so the growth from N/4 to N events shows whether memory follows the
file (it should not: the reader holds one 64 KiB piece, the writer one batch, the builder
one small state per case). Then the imported history is exported to XES.gz, CSV and
Parquet and timed against the floor of merely streaming the same rows from the database.

    python bench/eventlog.py [--db sqlite|pg] [--events N] [--smoke]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import database
from wfnb.store import Store
from wfnb.store import eventlog as sql

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
TRACE = 40
_CYCLE = ["approved", "draft"]


def write_log(path: Path, events: int) -> None:
    """A foreign-looking XES.gz: no wfnb attributes, activities are invoice statuses."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<log xes.version="1849.2016" xmlns="http://www.xes-standard.org/">\n')
        for case in range(events // TRACE):
            out.write(f'<trace><string key="concept:name" value="inv {case}"/>\n')
            names = ["draft", *(_CYCLE * ((TRACE - 3) // 2)), "approved", "sent"][: TRACE - 1]
            names.append("paid")
            for i, name in enumerate(names):
                stamp = (start + timedelta(minutes=case + i)).astimezone()
                out.write(
                    f'<event><string key="concept:name" value="{name}"/>'
                    f'<date key="time:timestamp" value="{stamp.isoformat()}"/>'
                    f'<string key="org:resource" value="clerk {case % 7}"/></event>\n'
                )
            out.write("</trace>\n")
        out.write("</log>\n")


_CHILD = """
import json, resource, sys, time
import wfnb.eventlog, wfnb.validation
path, url, folder = sys.argv[1:4]
wf = wfnb.validation.load_workflows([folder])["invoice"]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
report = wfnb.eventlog.import_log(path, url, workflow=wf, mapping={"requester": "admin"})
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"events": report.events, "seconds": seconds, "before_kb": before,
                  "peak_kb": after}))
"""


def import_in_child(path: Path, url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), url, str(WORKFLOWS)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def stream_only(url: str) -> int:
    store = Store(url)
    rows = 0
    try:
        with store.transaction(readonly=True) as conn:
            for chunk in sql.stream_history(conn):
                rows += len(chunk)
    finally:
        store.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="20,000 events")
    args = parser.parse_args()
    events = 20_000 if args.smoke else args.events
    from wfnb.eventlog import export_log

    with tempfile.TemporaryDirectory(prefix="wfnb-bench-el-") as folder:
        runs = {}
        for n in (events // 4, events):
            log = Path(folder) / f"log-{n}.xes.gz"
            write_log(log, n)
            with database(args.db) as url:
                r = runs[n] = import_in_child(log, url)
                size = log.stat().st_size / 1e6
                print(
                    f"[{args.db}] import {int(r['events']):,} events ({size:.1f} MB gz): "
                    f"{r['seconds']:.1f}s, {r['events'] / r['seconds']:,.0f} events/s; "
                    f"peak RSS {r['peak_kb'] / 1024:.0f} MB "
                    f"(after start-up {r['before_kb'] / 1024:.0f} MB)",
                    flush=True,
                )
                if n == events:
                    t0 = time.perf_counter()
                    rows = stream_only(url)
                    floor = time.perf_counter() - t0
                    print(f"[{args.db}] streaming {rows:,} rows alone: {floor:.2f}s", flush=True)
                    for name in ("out.xes.gz", "out.csv", "out.parquet"):
                        seconds = export_log(url, Path(folder) / name).seconds
                        speed = f"{rows / seconds:,.0f} events/s"
                        ratio = f"{seconds / floor:.1f}x the streaming floor"
                        print(f"[{args.db}] export {name}: {seconds:.2f}s, {speed}, {ratio}",
                              flush=True)  # fmt: skip
        small, large = runs[events // 4], runs[events]
        grow_small = small["peak_kb"] - small["before_kb"]
        grow_large = large["peak_kb"] - large["before_kb"]
        print(
            f"[{args.db}] peak RSS growth during import: {grow_small / 1024:.0f} MB for "
            f"{events // 4:,} events, {grow_large / 1024:.0f} MB for {events:,} "
            f"(x{grow_large / max(grow_small, 1):.2f} for x4 the events; bounded if well under 4)"
        )


if __name__ == "__main__":
    main()
