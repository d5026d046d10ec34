"""A diff's text reads as sentences: counted nouns, no Python reprs, no ``None -> 'x'``."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.conftest import WORKFLOWS
from wfnb.analysis import diff
from wfnb.analysis.diff import sentence


def write(tmp_path: Path, name: str, data: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def invoice() -> dict[str, object]:
    data: dict[str, object] = json.loads((WORKFLOWS / "invoice.json").read_text())
    return data


def test_one_change_is_singular_and_a_sentence(tmp_path: Path) -> None:
    old = invoice()
    new = copy.deepcopy(old)
    steps = new["steps"]
    assert isinstance(steps, list)
    new["steps"] = [s for s in steps if s["key"] != "cancel_approved"]
    text = str(diff(write(tmp_path, "new.json", new), write(tmp_path, "old.json", old)))
    assert ": 1 change\n" in text
    assert "1 changes" not in text
    assert "  step cancel_approved added" in text
    assert "None" not in text
    assert "'" not in text


def test_field_changes_read_from_and_to_without_reprs(tmp_path: Path) -> None:
    old = invoice()
    new = copy.deepcopy(old)
    steps = new["steps"]
    assert isinstance(steps, list)
    steps[0]["successful_state"] = "sent"
    terminal = old["terminal_statuses"]
    assert isinstance(terminal, list)
    new["terminal_statuses"] = [s for s in terminal if s != "undeliverable"]
    new["description"] = "changed"
    d = diff(write(tmp_path, "old.json", old), write(tmp_path, "new.json", new))
    lines = [sentence(c) for c in d.changes]
    assert f"step {steps[0]['key']}: its successful state changed from approved to sent" in lines
    assert any(
        line.startswith("the terminal statuses of the workflow changed from ") for line in lines
    )
    assert any(line.startswith("the description of the workflow changed from ") for line in lines)
    text = str(d)
    assert f": {len(d.changes)} changes\n" in text
    for repr_marker in ("None", "['", "{'", "'", "->  "):
        assert all(repr_marker not in line for line in lines), (repr_marker, lines)


def test_no_change_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "same.json", invoice())
    text = str(diff(path, path))
    assert ": 0 changes\n" in text
    assert "no changes" in text
