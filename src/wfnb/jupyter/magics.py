"""``%wfnb`` and ``%%wfnb_usecase``: parse, route to a small command, return a real object.

Thin on purpose: every command calls the public API (``wfnb.jupyter.commands``). Any bad
argument, unknown workflow or database error becomes IPython's ``UsageError``, which a cell
shows as one line with its code, never a traceback. ``{variable}`` in a line is expanded from
the user namespace by IPython itself.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import CaselessStrEnum, Integer, TraitError, Unicode, validate

from wfnb.arguments import MAX_WHOLE, parse_whole
from wfnb.exceptions import ConfigError, WfnbError
from wfnb.jupyter import eventlog_magics  # noqa: F401  # registers %wfnb export / import
from wfnb.jupyter.audit import AuditRecord, capture, result_hash
from wfnb.jupyter.commands import AUDITED, ROUTES, define_use_case
from wfnb.jupyter.parser import (
    HelpRequested,
    PlainText,
    build_parser,
    check_command,
    check_window,
    command_help,
)
from wfnb.jupyter.session import Session
from wfnb.workflow_files import check_workflow_paths, empty_folders

__all__ = ["WfnbMagics"]


_ROW_LIMIT_RULE = f"a whole number from 0 to {MAX_WHOLE} (0 or a magic's --all: every row)"


class _RowLimit(Integer):  # type: ignore[type-arg]  # traitlets' generics are loose
    """``row_limit``: anything but a whole number is one WF400 line, not a bare trait error."""

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # refused below, with the rule
                value = parse_whole(value, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TraitError(
                f"WF400: WfnbMagics.row_limit must be {_ROW_LIMIT_RULE}, got {value!r}"
            )
        return super().validate(obj, value)


@magics_class
class WfnbMagics(Magics):
    """The wfnb magics; options are changeable with ``%config WfnbMagics.<option> = ...``."""

    database_url = Unicode(
        "", help="Database used when %wfnb connect was not called (a SQLAlchemy URL)."
    ).tag(config=True)
    row_limit = _RowLimit(
        0, help="Most rows a magic returns in a DataFrame (0: every row; the display pages)."
    ).tag(config=True)
    diagram_direction = CaselessStrEnum(
        ["LR", "TB", "RL", "BT"], default_value="LR", help="Direction of workflow diagrams."
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session = Session()
        self.parser: argparse.ArgumentParser = build_parser()
        self._pending_audit: list[AuditRecord] = []
        if shell is not None:
            shell.events.register("post_run_cell", self._show_audit)

    @validate("row_limit")
    def _non_negative_row_limit(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 0 <= value <= MAX_WHOLE:
            raise TraitError(f"WF400: WfnbMagics.row_limit must be {_ROW_LIMIT_RULE}, got {value}")
        return value

    @line_magic("wfnb")  # type: ignore[arg-type]  # IPython types the decorator loosely
    def wfnb(self, line: str) -> Any:
        """Workflow tools: ``%wfnb COMMAND ...`` (``%wfnb help`` lists the commands)."""
        if self.session.db_url is None and self.database_url:
            self.session.db_url = self.database_url
        try:
            try:
                argv = shlex.split(line)  # POSIX quoting, as a shell
            except ValueError as exc:  # shlex: "No closing quotation"
                raise UsageError(f"cannot parse the arguments: {exc}") from None
            if argv in (["--help"], ["-h"]):
                return PlainText(command_help(self.parser, None))
            if argv and not argv[0].startswith("-"):
                check_command(argv[0])
            try:
                args = self.parser.parse_args(argv)
            except HelpRequested as shown:
                return PlainText(shown.text)
            if args.command in {None, "help"}:
                return PlainText(command_help(self.parser, getattr(args, "topic", None)))
            check_window(args)
            _check_files(args)
            return self._run(line, args)
        except argparse.ArgumentTypeError as exc:  # a typed value checked inside a command
            raise UsageError(f"WF400: {' '.join(str(exc).split())}") from None
        except UsageError as exc:
            message = " ".join(str(exc).split())
            coded = message if message.startswith("WF") else f"WF400: {message}"
            raise UsageError(coded) from None
        except WfnbError as exc:
            raise UsageError(exc.one_line()) from None

    def _run(self, line: str, args: Any) -> Any:
        """Run a route; when it read the database, keep its audit record for the footer."""
        route = ROUTES[args.command]
        db = self.session.engine_if_connected()
        if args.command not in AUDITED or db is None:
            result = route(self, args)
            return PlainText(result) if isinstance(result, str) else _say_when_empty(result)
        with capture(db) as statements:
            result = _say_when_empty(route(self, args))
        if statements:
            record = AuditRecord(
                command=f"%wfnb {line.strip()}",
                config_hashes=self.session.config_hashes(),
                sql=tuple(statements),
                result_sha256=result_hash(result),
                database=db.url.render_as_string(hide_password=True),
            )
            attrs = getattr(result, "attrs", None)
            if isinstance(attrs, dict):
                attrs["wfnb_audit"] = record.as_dict()
            self._pending_audit.append(record)
        return result

    def _show_audit(self, *_: Any) -> None:
        """After the cell's result: the compact footer (and the metadata) of each record."""
        from IPython.display import display  # noqa: PLC0415

        while self._pending_audit:
            display(self._pending_audit.pop(0))

    @cell_magic("wfnb_usecase")  # type: ignore[arg-type]
    def wfnb_usecase(self, line: str, cell: str) -> Any:
        """Define a use case in the cell; it replaces the use case of that name in dry-runs.

        ``%%wfnb_usecase [NAME]``: the cell must define a function (named NAME if given).
        """
        try:
            return define_use_case(self, line.strip(), cell)
        except WfnbError as exc:
            raise UsageError(exc.one_line()) from None


def _check_files(args: argparse.Namespace) -> None:
    """Workflow paths are regular files (a FIFO would hang the cell); folders hold some."""
    paths = [p for p in (getattr(args, n, None) for n in ("old", "new")) if p]
    listed = list(getattr(args, "paths", None) or [])
    check_workflow_paths([*listed, *paths])
    empty = empty_folders(listed)
    if empty:
        raise ConfigError(empty)


def _say_when_empty(result: Any) -> Any:
    """An empty plain DataFrame says so in words (its display alone is a bare header).

    ``wfnb.frames`` tables that display their own row count are left to say it themselves.
    """
    plain = type(result).__name__ == "DataFrame" and type(result).__module__.startswith("pandas")
    if plain and result.empty:
        print("0 rows match")  # noqa: T201  # shown above the (empty) table in the cell
    return result
