"""%wfnb help in a real IPython shell: plain text, a help per command, closest-name hints,
and the README's list of magics equal to what %wfnb help prints."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO, WORKFLOWS
from tests.unit.jupyter.conftest import Shell
from tests.unit.jupyter.test_magics_core import assert_one_line_error
from wfnb.jupyter.parser import COMMANDS, magic_lines


def plain(ip: Shell, value: object) -> str:
    """What the notebook shows as text/plain for a cell's value."""
    data, _ = ip.shell.display_formatter.format(value)
    return str(data["text/plain"])


@pytest.mark.parametrize("cell", ["%wfnb", "%wfnb help", "%wfnb --help", "%wfnb -h"])
def test_the_overview_is_plain_text_listing_every_magic(ip: Shell, cell: str) -> None:
    ran = ip.run(cell)
    assert ran.success, ran.output
    text = plain(ip, ran.result)
    assert not text.startswith(("'", '"'))  # not a repr of a string
    assert "\\n" not in text
    assert "%%wfnb " not in text  # %wfnb is a line magic, not a cell magic
    for line in magic_lines():
        assert line.rstrip() in text
    assert "%wfnb help COMMAND" in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_its_own_help_both_ways(ip: Shell, name: str) -> None:
    first = ip.run(f"%wfnb {name} --help")
    second = ip.run(f"%wfnb help {name}")
    assert first.success, first.output
    assert second.success, second.output
    text = plain(ip, first.result)
    if name == "help":
        assert text == plain(ip, second.result)
        return
    assert text.startswith(f"usage: %wfnb {name}")
    assert text == plain(ip, second.result)
    assert "\\n" not in text


def test_history_help_names_its_filters(ip: Shell) -> None:
    text = plain(ip, ip.run("%wfnb history --help").result)
    for option in ("--workflow", "--since", "--until", "--user", "--limit", "--all"):
        assert option in text


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("%wfnb histroy", "did you mean 'history'?"),
        ("%wfnb help histroy", "did you mean 'history'?"),
        ("%wfnb graph invoce", "did you mean 'invoice'?"),
        ("%wfnb explain invoce x admin", "did you mean 'invoice'?"),
    ],
)
def test_unknown_names_suggest_the_closest(ip: Shell, cell: str, hint: str) -> None:
    assert ip.run(f"%wfnb load {WORKFLOWS}").success
    ran = ip.run(cell)
    assert not ran.success
    assert_one_line_error(ran.output, "WF")
    assert hint in ran.output


def test_the_readme_lists_every_magic_as_help_prints_it() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- magics:start -->\n```text\n(.*?)```\n<!-- magics:end -->", readme, re.S
    )
    assert block is not None, "README.md lacks the magics list between its markers"
    assert block.group(1).splitlines() == magic_lines()


def test_an_unknown_workflow_filter_suggests_the_closest(ip: Shell, draft_invoice: str) -> None:
    ran = ip.run("%wfnb history --workflow invoic")
    assert_one_line_error(ran.output, "WF200")
    assert "did you mean 'invoice'?" in ran.output
