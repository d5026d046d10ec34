"""Reading workflow sources: a file, a folder, a dict, or the files at a git revision.

The loader turns sources into ``Workflow`` models and reports what breaks while doing it
(WF100 unreadable, not a regular file, bad JSON or nested deeper than ``MAX_FILE_DEPTH``;
WF101 schema violation; WF111 malformed duration) as ``Problem``s, never as an exception.
The cross-reference checks live in ``wfnb.validation``, which is what ``load_workflows`` calls.

Git revisions are read with the ``git`` command (``git ls-tree`` + ``git cat-file``), see
docs/adr/0002-reading-git-revisions.md.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wfnb.problems import Problem, Severity, pointer
from wfnb.spec import DURATION_ERROR, Workflow

__all__ = [
    "MAX_FILE_DEPTH",
    "Source",
    "SourceLike",
    "git_files",
    "git_revisions",
    "parse_source",
    "read_document",
    "read_sources",
]

MAX_FILE_DEPTH = 64
"""How deeply a workflow document's objects and arrays may nest (a real one needs about 6)."""

SourceLike = str | Path | Mapping[str, Any] | Workflow
"""What ``load_workflows``/``validate`` accept: a path (file or folder), a dict, or a model."""


@dataclass(frozen=True, slots=True)
class Source:
    """One workflow document before parsing."""

    file: str
    text: str | None = None
    data: Mapping[str, Any] | None = None
    model: Workflow | None = None
    rev: str | None = None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _inside_git(path: Path) -> bool:
    """A cheap look for a ``.git`` above ``path``, so files outside a repo cost no process."""
    return any((p / ".git").exists() for p in [path, *path.parents])


class _WorkTree:
    """The work trees one load touches: their root and dirty files (one ``git status`` each).

    A file's ``config_rev`` is the last commit that changed it, so it stays the same across
    commits that touch other files (a saved notebook showing it does not go stale).
    """

    def __init__(self) -> None:
        self._trees: dict[Path, tuple[Path, set[str]] | None] = {}

    def _tree(self, folder: Path) -> tuple[Path, set[str]] | None:
        if folder not in self._trees:
            state = None
            top = _git(folder, "rev-parse", "--show-toplevel") if _inside_git(folder) else None
            if top is not None and top.strip():
                root = Path(top.strip()).resolve()
                status = _git(root, "status", "--porcelain", "--no-renames", "-uall") or ""
                state = (root, {line[3:] for line in status.splitlines()})
            self._trees[folder] = state
        return self._trees[folder]

    def rev(self, path: Path) -> str | None:
        """The last commit of ``path``, ``+dirty`` when the file differs; None outside git."""
        state = self._tree(path.parent.resolve())
        if state is None:
            return None
        root, dirty = state
        rel = path.resolve().relative_to(root).as_posix()
        last = (_git(root, "log", "-1", "--format=%H", "--", rel) or "").strip()
        if not last:
            return None  # never committed
        return last + ("+dirty" if rel in dirty else "")


def _from_path(path: Path, work_tree: _WorkTree) -> list[Source]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    out = []
    for f in files:
        if not f.is_file():  # a FIFO or a device would block the read, or never end
            out.append(Source(file=str(f), data={"__unreadable__": "not a regular file"}))
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.append(Source(file=str(f), data={"__unreadable__": str(exc)}))
            continue
        out.append(Source(file=str(f), text=text, rev=work_tree.rev(f)))
    return out


def _from_rev(path: Path, rev: str) -> list[Source]:
    """Files of ``path`` (file or folder) as they were at git revision ``rev``."""
    anchor = path if path.is_dir() else path.parent
    if not anchor.exists():
        anchor = Path.cwd()
    top = _git(anchor, "rev-parse", "--show-toplevel")
    commit = _git(anchor, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if top is None or commit is None:
        return [Source(file=str(path), data={"__unreadable__": f"no git revision {rev!r}"})]
    root = Path(top.strip())
    commit = commit.strip()
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    listing = _git(root, "ls-tree", "-r", "--name-only", commit, "--", rel) or ""
    names = [n for n in listing.splitlines() if n.endswith(".json")]
    if not path.suffix:
        names = [n for n in names if "/" not in n[len(rel) + 1 :]]  # the folder itself only
    out = []
    for name in sorted(names):
        text = _git(root, "show", f"{commit}:{name}")
        out.append(Source(file=name, text=text, rev=commit))
    if not out:
        return [Source(file=rel, data={"__unreadable__": f"nothing at {rel!r} in {rev!r}"})]
    return out


def read_sources(
    sources: SourceLike | Iterable[SourceLike], *, rev: str | None = None
) -> list[Source]:
    """Expand files, folders, dicts and models into one ``Source`` per workflow document.

    Args:
        sources: one path / dict / Workflow, or an iterable of them.
        rev: a git revision (``HEAD~3``, a tag, a sha): paths are read as they were there.
    """
    if isinstance(sources, str | Path | Mapping | Workflow):
        sources = [sources]
    out: list[Source] = []
    work_tree = _WorkTree()
    for i, item in enumerate(sources):
        if isinstance(item, Workflow):
            out.append(Source(file=item.source_file or f"<workflow {item.name}>", model=item))
        elif isinstance(item, Mapping):
            out.append(Source(file=f"<dict {i}>", data=item))
        elif rev is not None:
            out.extend(_from_rev(Path(item), rev))
        else:
            out.extend(_from_item(item, work_tree))
    return out


def _from_item(item: str | Path, work_tree: _WorkTree) -> list[Source]:
    """The sources of one path; a path the system cannot even look at is unreadable."""
    path = Path(item)
    try:
        if not path.exists():
            return [Source(file=str(path), data={"__unreadable__": "no such file"})]
        return _from_path(path, work_tree)
    except (OSError, ValueError) as exc:  # a NUL in the path, a name too long, no permission
        return [Source(file=str(path), data={"__unreadable__": str(exc)})]


def _pydantic_problems(file: str, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        code = "WF111" if err["type"] == DURATION_ERROR else "WF101"
        where = pointer(*[str(p) for p in loc])
        msg = err["msg"]
        if err["type"] == "missing":
            msg = f"missing required field {str(loc[-1])!r}"
        elif err["type"] == "extra_forbidden":
            msg = f"unknown field {str(loc[-1])!r}"
        elif code == "WF101":
            msg = f"{msg}: got {err.get('input')!r}"[:300]
        problems.append(Problem(code, Severity.ERROR, file, where, msg))
    return problems


def read_document(source: Source, *, what: str = "workflow") -> tuple[Any, Problem | None]:
    """The JSON object of a text or dict source, or the WF100/WF101 problem of reading it.

    ``what`` names the document in messages (a ``"tenant overlay"`` is read the same way).
    """
    data: Any
    if source.text is not None:
        try:
            data = json.loads(source.text)
        except json.JSONDecodeError as exc:
            msg = f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            return None, Problem("WF100", Severity.ERROR, source.file, "", msg)
        except (RecursionError, ValueError) as exc:
            # the parser recurses per level (far past MAX_FILE_DEPTH); or a number of more
            # digits than Python converts
            msg = (
                _too_deep()
                if isinstance(exc, RecursionError)
                else f"not a readable JSON document: {str(exc).split(';')[0]}"[:300]
            )
            return None, Problem("WF100", Severity.ERROR, source.file, "", msg)
    else:
        data = dict(source.data or {})
        if "__unreadable__" in data:
            msg = f"cannot read {what}: {data['__unreadable__']}"
            return None, Problem("WF100", Severity.ERROR, source.file, "", msg)
    if not isinstance(data, dict):
        msg = f"a {what} file holds one JSON object, got {type(data).__name__}"
        return None, Problem("WF101", Severity.ERROR, source.file, "", msg)
    if _deeper_than(data, MAX_FILE_DEPTH):
        return None, Problem("WF100", Severity.ERROR, source.file, "", _too_deep())
    return data, None


def parse_source(source: Source) -> tuple[Workflow | None, dict[str, Any] | None, list[Problem]]:
    """Parse one source: the model (or None), the raw dict (for pointers), and its problems."""
    if source.model is not None:
        return source.model, source.model.model_dump(mode="json", by_alias=True), []
    data, problem = read_document(source)
    if problem is not None:
        return None, None, [problem]
    try:
        wf = Workflow.model_validate(data)
    except ValidationError as exc:
        return None, data, _pydantic_problems(source.file, exc)
    return wf.with_origin(source.file, source.rev), data, []


def _too_deep() -> str:
    return f"nested more than {MAX_FILE_DEPTH} levels deep: not a workflow document"


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels.

    Measured without recursion; a cycle (a dict source referring to itself) is too deep.
    """
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def git_revisions(path: str | Path, *, limit: int = 200) -> list[str]:
    """Commits that changed ``path`` (newest first): where old configs are found again."""
    p = Path(path)
    anchor = p if p.is_dir() else p.parent
    out = _git(anchor, "log", f"-{limit}", "--format=%H", "--", p.name if p.is_file() else ".")
    return out.split() if out else []


def git_files(folder: str | Path, rev: str) -> list[Source]:
    """Every file under ``folder`` (at any depth) as it was at git revision ``rev``.

    ``folder`` may be gone from the work tree since; each ``Source.file`` is the path from
    the repository's root. Empty outside git or when nothing was there.
    """
    wanted = Path(folder).resolve()
    anchor = wanted
    while not anchor.is_dir() and anchor != anchor.parent:
        anchor = anchor.parent
    if not _inside_git(anchor):
        return []
    rel = wanted.relative_to(anchor).as_posix()  # "." when the folder is still there
    args = ("ls-tree", "-r", "--name-only", "--full-name", rev, "--", rel)
    names = [n for n in (_git(anchor, *args) or "").splitlines() if n]  # one call when empty
    return [Source(file=n, text=_git(anchor, "show", f"{rev}:{n}"), rev=rev) for n in names]
