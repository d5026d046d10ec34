"""Every notebook, run in real JupyterLab in Chromium, shows people only readable output.

For each notebook of notebooks/: open it in JupyterLab (``lab_server``, notebook windowing
off so every cell is in the page), clear the saved outputs, run all cells, then read what
a person sees in each output (``innerText``: collapsed details are not visible) and fail
on any of

- ``nan`` / ``NaN`` as a word (a missing value shown as such),
- ``None →`` or ``→ None`` (a missing status drawn as Python's ``None``),
- a Python repr of a path (``PosixPath(``, ``WindowsPath(``),
- an escaped string (a literal backslash-n, e.g. a help text printed as a repr),
- ``Traceback``,
- a diagram with a horizontal scrollbar: an ``svg`` (inline, or the ``img`` JupyterLab
  renders ``image/svg+xml`` as; any image) whose scrolling container (the first ancestor
  up to the output whose ``overflow-x`` is not ``visible``) has ``overflow-x``
  ``auto``/``scroll`` and ``scrollWidth > clientWidth``,
- a cell that did not run (an earlier cell failed), and the "official Jupyter news?"
  toast covering the page.

Screenshots of every code cell with output go to ``test-artifacts/notebooks/<name>/`` for
review, whether the test passes or not. The failure message lists each finding with its
notebook, cell number, the cell's first line and the offending text, one line per cell
and problem with a count.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    FLAGS,
    LabServer,
    lab_server,
    wait_for_a_connected_idle_kernel,
)
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
NO_WINDOWING = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}
UNREADABLE = [
    ("nan shown", re.compile(r"\bnan\b", re.IGNORECASE)),
    ("None as a status", re.compile(r"None\s*→|→\s*None")),
    ("Python repr of a path", re.compile(r"(?:Posix|Windows|Pure\w*)Path\(")),
    ("escaped string", re.compile(r"\\n")),
    ("traceback", re.compile(r"Traceback")),
]
READ_CELLS = """() => {
  const outputOf = (el) => el.closest('.jp-OutputArea-output');
  function scrollbar(svg) {
    const output = outputOf(svg);
    for (let el = svg.parentElement; el; el = el.parentElement) {
      const overflow = getComputedStyle(el).overflowX;
      if (overflow !== 'visible') {
        const scrolls = overflow === 'auto' || overflow === 'scroll';
        if (scrolls && el.scrollWidth > el.clientWidth + 1) {
          return {container: el.tagName.toLowerCase() + '.' + [...el.classList].join('.'),
                  scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                  svgWidth: Math.round(svg.getBoundingClientRect().width)};
        }
        return null;
      }
      if (el === output) return null;
    }
    return null;
  }
  return [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map((cell, index) => {
    const code = cell.classList.contains('jp-CodeCell');
    const prompt = (cell.querySelector('.jp-InputPrompt') || {}).innerText || '';
    const editor = cell.querySelector('.cm-content');
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
    // JupyterLab shows image/svg+xml as an <img>; HTML and widgets inline their <svg>
    const pictures = '.jp-OutputArea-output svg, .jp-OutputArea-output img';
    const diagrams = [...cell.querySelectorAll(pictures)]
      .filter((el) => el.getBoundingClientRect().width > 48 && !el.parentElement.closest('svg'));
    return {
      index, code, prompt: prompt.trim(),
      source: editor ? editor.innerText : '',
      outputs: outputs.map((o) => o.innerText),
      scrollbars: diagrams.map(scrollbar).filter((s) => s !== null),
    };
  });
}"""
STATE = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map((p) => p.innerText.trim());
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, status: indicator ? indicator.getAttribute('data-status') : null};
}"""


@dataclass(frozen=True)
class Finding:
    """One unreadable thing a person would see."""

    notebook: str
    cell: int
    first_line: str
    problem: str
    text: str

    def __str__(self) -> str:
        return f"{self.notebook} cell {self.cell} `{self.first_line}`: {self.problem}: {self.text}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    if not (REPO / "notebooks" / "demo.db").exists():
        pytest.fail("notebooks/demo.db is missing: wfnb demo --db sqlite:///notebooks/demo.db")
    with lab_server(tmp_path_factory.mktemp("readable"), settings=NO_WINDOWING) as server:
        yield server


def _menu(page: Any, menu: str, item: str) -> None:
    page.click(f"div.lm-MenuBar-itemLabel:text-is('{menu}')")
    page.click(f"li.lm-Menu-item:has-text('{item}')")


def _run_all(page: Any, seconds: float = 900) -> None:
    """Clear the saved outputs, run every cell, wait until the kernel is done with them."""
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
        ".every((p) => !/\\d/.test(p.innerText))",
        timeout=30_000,
    )
    _menu(page, "Run", "Run All Cells")
    deadline = time.monotonic() + seconds
    settled = 0
    while time.monotonic() < deadline:
        state = page.evaluate(STATE)
        ran = any(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        busy = any("*" in p for p in state["prompts"]) or state["status"] != "idle"
        settled = settled + 1 if ran and not busy else 0
        if settled >= 3:  # idle for three polls in a row: the queue is empty
            return
        time.sleep(1)
    pytest.fail(f"the cells did not finish within {seconds}s: {page.evaluate(STATE)}")


def _findings(notebook: str, cells: list[dict[str, Any]]) -> list[Finding]:
    found: list[Finding] = []
    for cell in cells:
        if not cell["code"]:
            continue
        first = next((ln for ln in cell["source"].splitlines() if ln.strip()), "")[:70]

        def add(problem: str, text: str, cell: dict[str, Any] = cell, first: str = first) -> None:
            found.append(Finding(notebook, cell["index"], first, problem, text))

        if not re.fullmatch(r"\[\d+\]:", cell["prompt"]):
            add("did not run", f"prompt {cell['prompt']!r}")
        for text in cell["outputs"]:
            for problem, pattern in UNREADABLE:
                for match in pattern.finditer(text):
                    start, end = max(0, match.start() - 50), match.end() + 50
                    add(problem, repr(text[start:end].replace("\n", " ⏎ ")))
        for bar in cell["scrollbars"]:
            add("diagram scrolls sideways", str(bar))
    return found


def _screenshots(page: Any, notebook: str) -> None:
    folder = ARTIFACTS / "notebooks" / Path(notebook).stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    page.screenshot(path=str(folder / "top.png"))
    page.set_viewport_size({"width": 1400, "height": 3000})  # tall cells whole, same width
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        if cell.locator(".jp-OutputArea-output").count() == 0:
            continue
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(folder / f"cell-{i:02d}.png"))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_a_notebook_run_in_jupyterlab_shows_only_readable_output(
    lab: LabServer, chromium: Path, notebook: str
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab.alone(notebook))
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            wait_for_a_connected_idle_kernel(lab, notebook)
            _run_all(page)
            page.wait_for_timeout(2000)  # widgets and diagrams render after the kernel replies
            cells = page.evaluate(READ_CELLS)
            news = page.get_by_text("official Jupyter news").count()
            _screenshots(page, notebook)
        finally:
            browser.close()
    findings = _findings(notebook, cells)
    if news:
        findings.append(Finding(notebook, -1, "", "news toast", "covers the page"))
    assert sum(c["code"] for c in cells) > 5
    assert not findings, _summary(findings)


def _summary(findings: list[Finding]) -> str:
    """One line per cell and problem: how often, and the first two places it shows."""
    groups: dict[tuple[int, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.cell, f.first_line, f.problem), []).append(f)
    lines = [f"{len(findings)} unreadable things in {findings[0].notebook}:"]
    for (cell, first, problem), found in groups.items():
        examples = " | ".join(f.text for f in found[:2])
        lines.append(f"  cell {cell} `{first}`: {problem} (x{len(found)}): {examples}")
    return "\n".join(lines)
