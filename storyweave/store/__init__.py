"""Storage: one interface, chosen by the database URL.

``open_store`` takes the ``db`` setting: a plain path or ``sqlite:///path`` opens the SQLite store
(the embedded default).
"""

from __future__ import annotations

from .sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store", "open_store"]

Store = SQLiteStore  # the one implementation so far; a second store implements the same methods


def open_store(db: str) -> Store:
    if "://" in db and not db.startswith("sqlite:///"):
        raise ValueError(f"unsupported database URL {db!r}: use a file path or sqlite:///path")
    return SQLiteStore(db.removeprefix("sqlite:///"))
