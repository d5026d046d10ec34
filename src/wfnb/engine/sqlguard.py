"""Which SQL controls the transaction or the session: the one classifier both guards use.

``ctx.conn`` (``wfnb.engine.guard``) and a sandbox's PostgreSQL session
(``wfnb.sandbox.connection``) refuse SQL that would end, start or re-open for writing the
transaction they run in. Deciding that with regular expressions failed on comments and on
quotes inside comments, so the text is tokenized (``sqlparse``'s lexer: quotes, dollar
quotes, comments), split into statements at every top-level ``;`` and each statement is
judged by its leading words (comments and punctuation between them skipped):

- ``COMMIT``, ``END``, ``ABORT``, ``BEGIN``, ``START TRANSACTION``, ``PREPARE TRANSACTION``,
  ``ROLLBACK`` (but not ``ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT]``), ``COMMIT PREPARED``,
  ``DISCARD``, ``ATTACH``, ``DETACH``;
- ``SET [SESSION|LOCAL] TRANSACTION ...`` / ``SESSION CHARACTERISTICS`` /
  ``[default_]transaction_*``, ``RESET ALL`` / ``[default_]transaction_*``;
- ``RELEASE [SAVEPOINT]`` too unless ``savepoints`` (a sandbox's store releases its own).

Where the lexer and a server may disagree on where a quote or comment ends (a backslash
before a quote, which only ``E''`` strings escape; a ``/*`` nested in a comment, which
PostgreSQL nests), text holding any of the words above anywhere is refused whole: the
guard fails closed. ``#`` (a comment to the lexer, an operator to PostgreSQL) is read as
an operator. Text with no quote, comment or dollar at all needs no lexer: it is split on
``;`` and its words read directly. Results are cached by text: SQLAlchemy's statements
repeat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import islice
from typing import Any, cast

from sqlparse import tokens as T  # noqa: N812  # sqlparse's own spelling
from sqlparse.lexer import tokenize as _tokenize

__all__ = ["transaction_control"]

tokenize = cast("Callable[[str], Iterator[tuple[Any, str]]]", _tokenize)
"""``sqlparse``'s lexer: (token type, text) pairs (the library has no annotations)."""
_MAYBE = re.compile(
    r"commit|rollback|end|abort|begin|start|prepare|release|set|discard|attach|detach",
    re.IGNORECASE,
)
"""A cheap first look: only text holding one of these is tokenized ("reset" holds "set")."""
_AMBIGUOUS = re.compile(r"\\['\"]")
_LEXED = re.compile(r"['\"$`\[\\#]|--|/\*")
"""What only a tokenizer reads right: quotes, dollar quotes, comments, brackets, ``#``."""
_WORD = re.compile(r"(?<![\w$])[A-Za-z_][\w$]*")
_ALWAYS = frozenset({"commit", "end", "abort", "begin", "discard", "attach", "detach"})
_TRANSACTION_PREFIXES = ("transaction_", "default_transaction_")
_WORDS = 4
"""How many leading words of a statement decide."""


def _word(ttype: object, value: str) -> str | None:
    if ttype in T.Keyword or ttype in T.Name:
        return value.lower()
    if ttype in T.String.Symbol and value.startswith('"'):
        return value[1:-1].replace('""', '"').lower()  # a quoted name: "transaction_read_only"
    return None


def _statements(sql: str) -> Iterator[list[str]]:
    """The leading words of each statement of ``sql`` (comments and punctuation skipped)."""
    if _LEXED.search(sql) is None:  # no quote, comment or dollar: ';' splits, words are words
        for statement in sql.split(";"):
            yield [m.group().lower() for m in islice(_WORD.finditer(statement), _WORDS)]
        return
    words: list[str] = []
    for ttype, value in tokenize(sql.replace("#", "+")):
        if ttype in T.Punctuation and value == ";":
            yield words
            words = []
        elif len(words) < _WORDS and (word := _word(ttype, value)) is not None:
            words.append(word)
    yield words


def _controls(words: list[str], *, savepoints: bool) -> bool:  # noqa: PLR0911
    """Whether a statement starting with ``words`` controls the transaction or session."""
    if not words:
        return False
    first, rest = words[0], words[1:]
    if first in _ALWAYS:
        return True
    if first == "rollback":
        if rest[:1] in (["work"], ["transaction"]):
            rest = rest[1:]
        return rest[:1] != ["to"]
    if first in ("start", "prepare"):
        return rest[:1] == ["transaction"]
    if first == "release":
        return not savepoints
    if first in ("set", "reset"):
        if rest[:1] in (["session"], ["local"]):
            rest = rest[1:]
        target = rest[0] if rest else ""
        return target in ("transaction", "characteristics", "all") or target.startswith(
            _TRANSACTION_PREFIXES
        )
    return False


@lru_cache(maxsize=4096)
def transaction_control(sql: str, *, savepoints: bool = False) -> str | None:
    """The first statement of ``sql`` that controls the transaction or session, or None.

    Returned as its leading words (``"set session characteristics as"``) for a message.
    ``savepoints``: ``RELEASE`` is allowed (``ROLLBACK TO`` and ``SAVEPOINT`` always are).
    """
    if _MAYBE.search(sql) is None:
        return None
    for words in _statements(sql):
        if _controls(words, savepoints=savepoints):
            return " ".join(words)
    if _AMBIGUOUS.search(sql) is not None or _nested_comment(sql):
        return "text whose quoting is ambiguous (pass values as parameters)"
    return None


def _nested_comment(sql: str) -> bool:
    """Whether a block comment holds ``/*`` (PostgreSQL nests them; the lexer does not)."""
    if "/*" not in sql:
        return False
    return any(
        ttype in T.Comment and value.startswith("/*") and "/*" in value[2:]
        for ttype, value in tokenize(sql)
    )
