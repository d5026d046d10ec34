"""The store: engine-owned tables, every SQL statement, and the driver-error boundary."""

from wfnb.store import checkpoints as _checkpoints  # noqa: F401  # its tables join METADATA
from wfnb.store.database import Store, configure_sqlite, make_engine
from wfnb.store.errors import wrap_errors
from wfnb.store.tables import HISTORY, PERMANENT_FAILURE_LOG

__all__ = [
    "HISTORY",
    "PERMANENT_FAILURE_LOG",
    "Store",
    "configure_sqlite",
    "make_engine",
    "wrap_errors",
]
