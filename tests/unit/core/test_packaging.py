"""Packaging stays coherent: Binder installs what wfnb[all] needs, the scripts exist."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_binder_requirements_match_the_all_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {_name(r) for r in project["dependencies"]}
    (everything,) = extras["all"]  # "wfnb[pg,jupyter,...]"
    for extra in everything.partition("[")[2].rstrip("]").split(","):
        wanted |= {_name(r) for r in extras[extra]}
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    have = {_name(line) for line in lines if line.strip() and not line.startswith("#")}
    assert have == wanted


def test_ci_runs_exactly_readme_command_2() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/lab" in readme
    assert "./scripts/test" in readme
    ci = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci[-1] == "exec ./scripts/test"
