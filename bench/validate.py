"""Benchmark: validating a large workflow file against the floor of parsing it.

Generates a valid workflow of 200 statuses and 400 steps (claims, overrides, auto-advance,
timers, observed transitions, use cases in a generated module), writes it to a temporary
file, and times ``wfnb.validate(file)`` against the floor ``json.load`` +
``Workflow.model_validate`` of the same file (best of N runs each). Targets: under 0.5 s and
under 5x the floor. The ratio is printed last.

    python bench/validate.py            # 200 statuses, 400 steps, best of 15
    python bench/validate.py --smoke    # a small workflow, best of 3 (CI)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import best
from wfnb.spec import Workflow
from wfnb.validation import validate

USE_CASES = (
    "def check(ctx): ...\ndef check_admin(ctx): ...\ndef act(ctx): ...\ndef note(ctx): ...\n"
)


def generate(statuses: int, steps: int, module: str) -> dict[str, Any]:
    """A valid workflow with ``statuses`` statuses and ``steps`` steps."""
    names = [f"s{i:03}" for i in range(statuses)]
    done, failed = names[-2], names[-1]
    claims = {names[i] for i in range(5, statuses - 2, 10)}
    main = [n for n in names[:-2] if n not in claims]
    out: list[dict[str, Any]] = []
    for j, status in enumerate(main):
        nxt = main[j + 1] if j + 1 < len(main) else done
        step: dict[str, Any] = {
            "key": f"advance_{status}",
            "status": status,
            "requester_types": ["user", "admin"],
            "validation": "check",
            "action": "act",
            "successful_state": nxt,
            "rejection": {"state": status, "action": "note"},
            "auto_advance": j % 3 == 0,
        }
        between = names[names.index(status) + 1]
        if between in claims:
            step["claim"] = {"status": between, "stale_after": "PT10M"}
        if j % 7 == 0:
            step["overrides"] = {"admin": {"validation": "check_admin", "auto_advance": False}}
        out.append(step)
        out.append(
            {
                "key": f"fail_{status}",
                "status": status,
                "requester_types": ["admin", "system"],
                "action": "act",
                "successful_state": failed,
            }
        )
    for status in main[: max(0, steps - len(out))]:
        out.append(
            {
                "key": f"note_{status}",
                "status": status,
                "requester_types": ["admin"],
                "action": "note",
                "successful_state": status,
            }
        )
    timers = [
        {
            "key": f"expire_{s}",
            "status": s,
            "after": "P30D",
            "step": f"fail_{s}",
            "requester_type": "system",
        }
        for s in main[::10]
    ]
    observed = [
        {"from": a, "to": b, "source": "hub"} for a, b in zip(main[::15], main[2::15], strict=False)
    ]
    return {
        "name": "big",
        "description": f"{statuses} statuses, {len(out)} steps",
        "owning_module": "bench",
        "entity": {"table": "big", "tenant_column": "tenant_id"},
        "use_cases": module,
        "requester_types": ["user", "admin", "system"],
        "status_types": names,
        "initial_status": names[0],
        "terminal_statuses": [done, failed],
        "failure_statuses": [failed],
        "steps": out,
        "observed_transitions": observed,
        "timers": timers,
    }


def floor(path: Path) -> Workflow:
    with path.open(encoding="utf-8") as fh:
        return Workflow.model_validate(json.load(fh))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="a small workflow, few runs")
    args = parser.parse_args(argv)
    statuses, steps, runs = (20, 40, 3) if args.smoke else (200, 400, 15)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        module = "wfnb_bench_usecases"
        (folder / f"{module}.py").write_text(USE_CASES)
        sys.path.insert(0, str(folder))
        doc = generate(statuses, steps, module)
        path = folder / "big.json"
        path.write_text(json.dumps(doc, indent=2))
        report = validate(path)
        if not report.ok:
            print(report)
            return 1
        wf = report.workflows["big"]
        print(f"workflow: {len(wf.status_types)} statuses, {len(wf.steps)} steps, "
              f"{len(wf.timers)} timers, {len(wf.claim_statuses)} claim statuses")  # fmt: skip
        t_floor, _ = best(lambda: floor(path), runs)
        t_validate, _ = best(lambda: validate(path), runs)
        sys.path.remove(str(folder))
    print(f"floor (json.load + Workflow.model_validate), best of {runs}: {t_floor * 1000:.2f} ms")
    print(f"validate(file), best of {runs}: {t_validate * 1000:.2f} ms")
    print(f"ratio validate / floor: {t_validate / t_floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
