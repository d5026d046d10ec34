"""``%wfnb`` and ``%%wfnb_usecase``: parse, route to a small command, return a real object.

Thin on purpose: every command calls the public API (``wfnb.jupyter.commands``). Any bad
argument, unknown workflow or database error becomes IPython's ``UsageError``, which a cell
shows as one line with its code, never a traceback. ``{variable}`` in a line is expanded from
the user namespace by IPython itself.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser
from traitlets import CaselessStrEnum, Integer, Unicode

from wfnb.exceptions import WfnbError
from wfnb.jupyter.commands import ROUTES, build_parser, define_use_case
from wfnb.jupyter.session import Session

__all__ = ["WfnbMagics"]


@magics_class
class WfnbMagics(Magics):
    """The wfnb magics; options are changeable with ``%config WfnbMagics.<option> = ...``."""

    database_url = Unicode(
        "", help="Database used when %wfnb connect was not called (a SQLAlchemy URL)."
    ).tag(config=True)
    row_limit = Integer(1000, help="Most rows a magic returns in a DataFrame.").tag(config=True)
    diagram_direction = CaselessStrEnum(
        ["LR", "TB", "RL", "BT"], default_value="LR", help="Direction of workflow diagrams."
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session = Session()
        self.parser: MagicArgumentParser = build_parser()

    @line_magic("wfnb")  # type: ignore[arg-type]  # IPython types the decorator loosely
    def wfnb(self, line: str) -> Any:
        """Workflow tools: ``%wfnb COMMAND ...`` (``%wfnb help`` lists the commands)."""
        if self.session.db_url is None and self.database_url:
            self.session.db_url = self.database_url
        try:
            try:
                args = self.parser.parse_argstring(line)
            except ValueError as exc:  # shlex: "No closing quotation"
                raise UsageError(f"cannot parse the arguments: {exc}") from None
            return ROUTES[args.command or "help"](self, args)
        except UsageError as exc:
            message = " ".join(str(exc).split())
            coded = message if message.startswith("WF") else f"WF400: {message}"
            raise UsageError(coded) from None
        except WfnbError as exc:
            raise UsageError(exc.one_line()) from None

    @cell_magic("wfnb_usecase")  # type: ignore[arg-type]
    def wfnb_usecase(self, line: str, cell: str) -> Any:
        """Define a use case in the cell; it replaces the use case of that name in dry-runs.

        ``%%wfnb_usecase [NAME]``: the cell must define a function (named NAME if given).
        """
        try:
            return define_use_case(self, line.strip(), cell)
        except WfnbError as exc:
            raise UsageError(exc.one_line()) from None
