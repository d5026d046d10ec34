"""Every analytic SELECT the data layer runs, as named statement builders (a test lists them).

Each function returns a SQLAlchemy Core statement; ``wfnb.frames`` executes it. Filters,
grouping, window functions and percentiles all run in the database, so a summary of a
ten-million-row history never crosses the wire. Dialect differences (JSONB containment vs
``json_extract``, ``percentile_cont`` vs a ranking trick, ``date_trunc`` vs ``strftime``)
live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from wfnb.exceptions import WfnbUsageError
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG

__all__ = [
    "FREQUENCIES",
    "READ_NAMES",
    "Filters",
    "count_rows",
    "select_completed_stays",
    "select_dwell_stats",
    "select_entities",
    "select_failures",
    "select_history",
    "select_stays",
    "select_throughput",
    "select_transition_counts",
]

OneOrMany = str | Sequence[str] | None
FREQUENCIES = ("h", "D", "W", "M")
"""Buckets ``select_throughput`` knows: hour, day, week (starting Monday), month."""
_TRUNC = {"h": "hour", "D": "day", "W": "week", "M": "month"}
_STRFTIME = {"h": "%Y-%m-%d %H:00:00", "D": "%Y-%m-%d", "M": "%Y-%m-01"}


@dataclass(frozen=True, slots=True)
class Filters:
    """What a history or failure-log read keeps; every field becomes a WHERE clause.

    ``metadata`` maps a JSON path (``"a.b"`` or a tuple of keys) to the value it must hold.
    """

    workflow: OneOrMany = None
    entity_id: Any = None
    tenant_id: OneOrMany = None
    since: datetime | None = None
    until: datetime | None = None
    step: OneOrMany = None
    kind: OneOrMany = None
    from_status: OneOrMany = None
    to_status: OneOrMany = None
    error_code: OneOrMany = None
    metadata: Mapping[Any, Any] | None = None
    user_id: OneOrMany = None


def _values(value: Any) -> list[Any]:
    if isinstance(value, str | int) or not isinstance(value, Sequence):
        return [str(value)] if isinstance(value, int) else [value]
    return [str(v) if isinstance(v, int) else v for v in value]


def _match(column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
    values = _values(value)
    return column == values[0] if len(values) == 1 else column.in_(values)


def _path(key: Any) -> tuple[str, ...]:
    return tuple(key.split(".")) if isinstance(key, str) else tuple(str(k) for k in key)


def _json_equals(
    column: sa.ColumnElement[Any], path: tuple[str, ...], value: Any
) -> sa.ColumnElement[bool]:
    """``json_extract(column, path) = value`` with the value's JSON type (SQLite side)."""
    element: Any = column[path] if len(path) > 1 else column[path[0]]
    clause: sa.ColumnElement[bool]
    if isinstance(value, bool):
        clause = element.as_boolean() == value
    elif isinstance(value, int):
        clause = element.as_integer() == value
    elif isinstance(value, float):
        clause = element.as_float() == value
    elif value is None:
        clause = element.as_string().is_(None)
    else:
        clause = element.as_string() == str(value)
    return clause


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    nested: Any = value
    for key in reversed(path):
        nested = {key: nested}
    return dict(nested)


def metadata_clause(
    column: sa.ColumnElement[Any], wanted: Mapping[Any, Any], dialect: str
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for ``{json_path: value}``.

    PostgreSQL: ``metadata @> :json`` (uses the GIN index); elsewhere ``json_extract``.
    """
    if dialect == "postgresql":
        jsonb = sa.type_coerce(column, JSONB)
        return [jsonb.contains(_nest(_path(k), v)) for k, v in wanted.items()]
    return [_json_equals(column, _path(k), v) for k, v in wanted.items()]


def _where(table: sa.Table, stamp: str, f: Filters, dialect: str) -> list[Any]:
    c = table.c
    pairs: list[tuple[str, Any]] = [
        ("workflow", f.workflow),
        ("entity_id", f.entity_id),
        ("tenant_id", f.tenant_id),
        ("step_key", f.step),
        ("kind", f.kind),
        ("from_status", f.from_status),
        ("to_status", f.to_status),
        ("error_code", f.error_code),
        ("user_id", f.user_id if "user_id" in c else None),
    ]
    where = [_match(c[name], value) for name, value in pairs if value is not None]
    if f.since is not None:
        where.append(c[stamp] >= f.since)
    if f.until is not None:
        where.append(c[stamp] < f.until)
    if f.metadata:
        where += metadata_clause(c["metadata"], f.metadata, dialect)
    return where


def _check_columns(table: sa.Table, f: Filters) -> None:
    for field, column in (("kind", "kind"), ("error_code", "error_code")):
        if getattr(f, field) is not None and column not in table.c:
            raise WfnbUsageError(f"{table.name} has no {column!r} column to filter on")


def _order(table: sa.Table, stamp: str, newest_first: bool) -> tuple[Any, ...]:
    keys = (table.c[stamp], table.c.id)
    return tuple(k.desc() for k in keys) if newest_first else keys


def select_history(
    f: Filters, dialect: str, limit: int | None = None, *, newest_first: bool = False
) -> sa.Select[Any]:
    """``SELECT * FROM workflow_history WHERE <filters> ORDER BY changed_at, id [LIMIT n]``.

    ``newest_first`` orders by ``changed_at DESC, id DESC`` (a limit then keeps the newest).
    """
    _check_columns(HISTORY, f)
    stmt = sa.select(HISTORY).where(*_where(HISTORY, "changed_at", f, dialect))
    stmt = stmt.order_by(*_order(HISTORY, "changed_at", newest_first))
    return stmt.limit(limit) if limit is not None else stmt


def _failure_user(table: sa.Table) -> sa.ScalarSelect[Any]:
    """The ``user_id`` of the history row the failing call wrote (same correlation id).

    The row entering the failure status: a timer shares its arming call's correlation
    id, and the arming user is not the one who failed it.
    """
    h = HISTORY.alias("h")
    return (
        sa.select(h.c.user_id)
        .where(
            h.c.workflow == table.c.workflow,
            h.c.entity_id == table.c.entity_id,
            h.c.correlation_id == table.c.correlation_id,
            h.c.to_status == table.c.status,
        )
        .order_by(h.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def select_failures(
    f: Filters, dialect: str, limit: int | None = None, *, newest_first: bool = False
) -> sa.Select[Any]:
    """``SELECT *, <user_id of the call> FROM workflow_permanent_failure_log WHERE <filters>``.

    Ordered by ``failed_at, id`` (``newest_first``: descending). ``to_status`` filters the
    failure ``status``; ``kind`` and ``from_status`` do not apply. The failure log has no
    user column: ``user_id`` is the one of the history row written by the same call.
    """
    table = PERMANENT_FAILURE_LOG
    if f.kind is not None or f.from_status is not None:
        raise WfnbUsageError("the failure log has no kind or from_status to filter on")
    plain = Filters(**{**_asdict(f), "to_status": None, "user_id": None})
    where = _where(table, "failed_at", plain, dialect)
    if f.to_status is not None:
        where.append(_match(table.c.status, f.to_status))
    user = _failure_user(table)
    if f.user_id is not None:
        where.append(_match(user, f.user_id))
    stmt = sa.select(table, user.label("user_id")).where(*where)
    stmt = stmt.order_by(*_order(table, "failed_at", newest_first))
    return stmt.limit(limit) if limit is not None else stmt


def _asdict(f: Filters) -> dict[str, Any]:
    return {name: getattr(f, name) for name in f.__slots__}


def count_rows(stmt: sa.Select[Any]) -> sa.Select[Any]:
    """``SELECT count(*) FROM (<stmt>)``: the size of a read, for its progress bar."""
    return sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())


def select_entities(
    table: sa.Table,
    status_column: str,
    statuses: OneOrMany = None,
    tenant: tuple[str, str] | None = None,
) -> sa.Select[Any]:
    """``SELECT * FROM <entity table> [WHERE status IN (...)] [AND tenant = :t]``."""
    stmt = sa.select(table)
    if statuses is not None:
        stmt = stmt.where(_match(table.c[status_column], statuses))
    if tenant is not None:
        stmt = stmt.where(table.c[tenant[0]] == tenant[1])
    return stmt


def select_transition_counts(f: Filters, dialect: str) -> sa.Select[Any]:
    """``SELECT from_status, to_status, step_key, kind, count(*) ... GROUP BY`` those four."""
    c = HISTORY.c
    keys = (c.from_status, c.to_status, c.step_key, c.kind)
    return (
        sa.select(*keys, sa.func.count().label("count"))
        .where(*_where(HISTORY, "changed_at", f, dialect))
        .group_by(*keys)
        .order_by(sa.desc("count"), *keys)
    )


def _instant(stamp: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A timestamp as ``_seconds`` subtracts it: as is (PostgreSQL), a day number (SQLite)."""
    return stamp if dialect == "postgresql" else sa.func.julianday(stamp)


def _seconds(later: Any, earlier: Any, dialect: str) -> sa.ColumnElement[Any]:
    """Seconds between two ``_instant`` values."""
    if dialect == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    # julianday is a double (~20 µs of error at today's dates): exact to the millisecond
    return sa.func.round((later - earlier) * 86400.0, 3)


def select_stays(f: Filters, dialect: str) -> sa.Select[Any]:
    """Each stay at a status and how long it lasted, in seconds (NULL: still there).

    ``LEAD(changed_at) OVER (PARTITION BY workflow, entity_id ORDER BY changed_at, id)``
    is when the entity left the status its row entered (``workflow`` leaves the partition
    when the filter pins one: a constant key only lengthens the sort). Each stamp is
    turned into an ``_instant`` once, in the inner query, and LEAD carries that along
    (SQLite would otherwise parse every stamp twice: as the row's entry and as its
    predecessor's exit); the difference is taken in the same SELECT as the window.
    """
    c = HISTORY.c
    one_workflow = f.workflow is not None and len(_values(f.workflow)) == 1
    parsed = (
        sa.select(c.to_status, c.workflow, c.entity_id, c.changed_at, c.id)
        .add_columns(_instant(c.changed_at, dialect).label("at"))
        .where(*_where(HISTORY, "changed_at", f, dialect))
        .subquery("parsed")
    )
    p = parsed.c
    partition = (p.entity_id,) if one_workflow else (p.workflow, p.entity_id)
    left = sa.func.lead(p.at).over(partition_by=partition, order_by=(p.changed_at, p.id))
    seconds = _seconds(left, p.at, dialect).label("seconds")
    return sa.select(p.to_status.label("status"), seconds)


def select_completed_stays(f: Filters, dialect: str) -> sa.Select[Any]:
    """``select_stays`` without the stays still open: ``(status, seconds)`` of every exit."""
    inner = select_stays(f, dialect).subquery("stays")
    return sa.select(inner).where(inner.c.seconds.is_not(None))


def _quantile(
    p: float,
    value: sa.ColumnElement[Any],
    first: sa.ColumnElement[Any],
    upto: sa.ColumnElement[Any],
    n: sa.ColumnElement[Any],
) -> sa.ColumnElement[Any]:
    """Linear-interpolated quantile from 0-based rank spans (what ``percentile_cont`` computes).

    Each aggregated row is one distinct ``value`` holding the completed stays ranked
    ``first`` (inclusive) to ``upto`` (exclusive); ``n`` is the group's completed count.
    """
    pos = (n - 1) * p
    low = sa.cast(pos, sa.Integer)  # positions are non-negative: truncation is floor

    def at(rank: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.max(sa.case((sa.and_(first <= rank, rank < upto), value)))

    lo, hi = at(low), at(low + 1)
    return lo + sa.func.coalesce(hi - lo, 0.0) * (pos - low)


def _ranks(p: float, n: sa.ColumnElement[Any]) -> list[sa.ColumnElement[Any]]:
    """The two 0-based ranks ``_quantile`` interpolates between for quantile ``p``."""
    low = sa.cast((n - 1) * p, sa.Integer)
    return [low, low + 1]


def select_dwell_stats(f: Filters, dialect: str) -> sa.Select[Any]:
    """Per status: completed stays, still-open stays, mean / p50 / p95 seconds.

    PostgreSQL uses ``percentile_cont``. SQLite groups the stays by ``(status, seconds)``
    (one sort of every stay, and no CTE written to disk: duplicate durations collapse
    into one row with its count ``c``), then, over those groups only, a running
    ``SUM(c)`` gives each distinct duration its span of ranks and whole-partition sums
    give each status's completed / total counts and total seconds. Only the first group
    of each status (open stays sort first: NULL) and the groups holding the (at most
    four) ranks p50 and p95 interpolate between are kept and aggregated.
    """
    stays = select_stays(f, dialect).subquery("stays")
    if dialect == "postgresql":
        done = sa.func.count(stays.c.seconds)
        q = (sa.func.percentile_cont(p).within_group(stays.c.seconds) for p in (0.5, 0.95))
        labelled = (x.label(n) for x, n in zip(q, ("p50", "p95"), strict=True))
        return (
            sa.select(
                stays.c.status,
                done.label("count"),
                (sa.func.count() - done).label("open"),
                sa.func.avg(stays.c.seconds).label("mean"),
                *labelled,
            )
            .group_by(stays.c.status)
            .order_by(stays.c.status)
        )
    s = stays.c
    running = sa.func.sum(sa.func.count()).over(
        partition_by=s.status, order_by=s.seconds, rows=(None, 0)
    )
    grouped = (
        sa.select(
            s.status,
            s.seconds,
            sa.func.count().label("c"),
            running.label("upto_all"),
            sa.func.sum(sa.func.count(s.seconds)).over(partition_by=s.status).label("n"),
            sa.func.sum(sa.func.count()).over(partition_by=s.status).label("total"),
            sa.func.sum(sa.func.sum(s.seconds)).over(partition_by=s.status).label("tot"),
        )
        .group_by(s.status, s.seconds)
        .subquery("grouped")
    )
    g = grouped.c
    upto = g.upto_all - g.total + g.n  # past the open stays, which rank first
    spans = sa.select(
        g.status,
        g.seconds,
        g.n,
        g.total,
        g.tot,
        (g.upto_all == g.c).label("head"),
        (upto - g.c).label("first"),
        upto.label("upto"),
    ).subquery("spans")
    r = spans.c
    holds = [
        sa.and_(r.first <= rank, rank < r.upto) for p in (0.5, 0.95) for rank in _ranks(p, r.n)
    ]
    needed = sa.select(spans).where(sa.or_(r.head, *holds)).subquery("needed")
    k = needed.c
    return (
        sa.select(
            k.status,
            k.n.label("count"),
            (k.total - k.n).label("open"),
            (k.tot / sa.func.nullif(k.n, 0)).label("mean"),
            _quantile(0.5, k.seconds, k.first, k.upto, k.n).label("p50"),
            _quantile(0.95, k.seconds, k.first, k.upto, k.n).label("p95"),
        )
        .group_by(k.status, k.n, k.total, k.tot)
        .order_by(k.status)
    )


def _bucket(freq: str, dialect: str) -> sa.ColumnElement[Any]:
    stamp = HISTORY.c.changed_at
    if freq not in FREQUENCIES:
        raise WfnbUsageError(f"freq must be one of {', '.join(FREQUENCIES)}, got {freq!r}")
    if dialect == "postgresql":
        return sa.func.date_trunc(_TRUNC[freq], sa.func.timezone("UTC", stamp))
    if freq == "W":  # the Monday on or before the day
        return sa.func.date(stamp, "weekday 0", "-6 days")
    return sa.func.strftime(_STRFTIME[freq], stamp)


def select_throughput(f: Filters, dialect: str, freq: str = "D") -> sa.Select[Any]:
    """``SELECT <bucket>, count(*), count(DISTINCT entity_id) ... GROUP BY bucket``."""
    bucket = _bucket(freq, dialect).label("bucket")
    return (
        sa.select(
            bucket,
            sa.func.count().label("transitions"),
            sa.func.count(sa.distinct(HISTORY.c.entity_id)).label("entities"),
        )
        .where(*_where(HISTORY, "changed_at", f, dialect))
        .group_by(bucket)
        .order_by(bucket)
    )


READ_NAMES: tuple[str, ...] = tuple(n for n in __all__ if n.startswith(("select_", "count_")))
"""The name of every statement builder here, in one list (tests compare it to the module)."""
