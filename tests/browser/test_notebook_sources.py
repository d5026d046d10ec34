"""The shipped notebooks are built from notebooks/src/ and show users no test plumbing.

No browser here: these read the .ipynb files and scripts/make-notebooks, which turns a
jupytext-style ``# %% tags=[...]`` header into cell-metadata tags (where nbval reads
``nbval-ignore-output``) instead of leaving ``# NBVAL_IGNORE_OUTPUT`` in the cell.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _make_notebooks() -> ModuleType:
    path = REPO / "scripts" / "make-notebooks"
    loader = importlib.machinery.SourceFileLoader("make_notebooks", str(path))
    spec = importlib.util.spec_from_loader("make_notebooks", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _cells(path: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return cells


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_there_are_notebooks() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        p.stem for p in sorted((REPO / "notebooks" / "src").glob("*.py"))
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_nbval_marker_is_visible_in_a_cell(path: Path) -> None:
    visible = [_source(c) for c in _cells(path) if "NBVAL" in _source(c).upper()]
    assert visible == []


def test_ignored_outputs_are_marked_in_cell_metadata() -> None:
    tagged = [
        (path.stem, _source(cell).splitlines()[0])
        for path in NOTEBOOKS
        for cell in _cells(path)
        if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])
    ]
    assert len(tagged) >= 10
    assert any(line.startswith("%wfnb graph") for _, line in tagged)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_is_built_from_its_source(path: Path) -> None:
    src = REPO / "notebooks" / "src" / f"{path.stem}.py"
    built = _make_notebooks().cells(src.read_text(encoding="utf-8"))
    shipped = _cells(path)
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in built] == [
        (c["cell_type"], _source(c), c.get("metadata", {}).get("tags", [])) for c in shipped
    ], f"notebooks/{path.name} is stale: run scripts/make-notebooks {path.stem}"


def test_a_header_tag_and_a_legacy_marker_become_cell_tags() -> None:
    text = "\n".join([
        "# %% [markdown]",
        "# # Title",
        '# %% tags=["nbval-ignore-output"]  (a note for maintainers)',
        "x = 1",
        "# %%",
        "# NBVAL_IGNORE_OUTPUT",
        "y = 2",
        "# %%",
        "z = 3  # %% inside a line is code",
    ])  # fmt: skip
    md, tagged, legacy, plain = _make_notebooks().cells(text)
    assert (md.cell_type, md.source) == ("markdown", "# Title")
    assert (tagged.source, tagged.metadata["tags"]) == ("x = 1", ["nbval-ignore-output"])
    assert (legacy.source, legacy.metadata["tags"]) == ("y = 2", ["nbval-ignore-output"])
    assert plain.source == "z = 3  # %% inside a line is code"
    assert "tags" not in plain.metadata
