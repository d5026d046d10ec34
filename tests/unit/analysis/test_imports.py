"""The analysis package imports without the drawing and notebook stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import wfnb.analysis


def test_graph_paths_and_diff_need_neither_graphviz_nor_pandas():
    code = (
        "import sys\n"
        "from wfnb.analysis import graph, paths, diff, diagram\n"
        "from tests.unit.analysis.builders import registration\n"
        "wf = registration()\n"
        "graph(wf); paths(wf); diff(wf, wf); diagram(wf).mermaid()\n"
        "print(sorted({'graphviz', 'pandas', 'IPython'} & set(sys.modules)))\n"
    )
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo
    )
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported_and_sorted():
    expected = {"graph", "paths", "PathReport", "diagram", "Diagram", "diff", "WorkflowDiff"}
    assert expected | {"Change"} <= set(wfnb.analysis.__all__)
    assert wfnb.analysis.__all__ == sorted(wfnb.analysis.__all__)
    for name in wfnb.analysis.__all__:
        assert getattr(wfnb.analysis, name) is not None
