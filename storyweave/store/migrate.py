"""Copying a SQLite store into PostgreSQL (`storyweave migrate --to postgresql://...`).

Every table is copied row for row, ``seq`` numbers included, so article ids, story ids, merge
aliases, story versions (and with them the cached analyses) and the clusterer's state are the
same on both sides: a pipeline opened on the copy continues exactly where the SQLite one stopped.
The copy runs in one transaction with COPY, under the clustering lock: it is all there or not at
all, and no writer can slip in half way.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg

from . import POSTGRES_SCHEMES
from .postgres import CLUSTERING_LOCK_KEY, PostgresStore
from .sqlite import SQLiteStore

__all__ = ["migrate_sqlite_to_postgres"]

# Tables not copied: the schema's version (the target has its own), and the keyword index, which
# on SQLite is FTS5's own format: the target builds its index from the copied articles on first
# search (or `storyweave serve`), as for any articles it has not indexed yet.
NOT_COPIED = ("schema_version", "web_search", "web_search_state")
# Columns whose SQLite text PostgreSQL cannot parse as it is; everything else (ISO dates and
# times, JSON text, floats, bytes) the server reads into its own types.
CONVERTERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("articles", "name_keys"): json.loads,  # a JSON list in SQLite, TEXT[] in PostgreSQL
}


def migrate_sqlite_to_postgres(source: str, target_url: str) -> dict[str, int]:
    """Copy the SQLite store at ``source`` (a path or ``sqlite:///path``) into the empty
    PostgreSQL database at ``target_url``; the rows copied per table.

    The source is first brought to the current schema, as any command opening it would; then it
    is read through a read-only connection.
    """
    if not target_url.startswith(POSTGRES_SCHEMES):
        raise ValueError(f"the copy goes to a postgresql:// URL, not {target_url!r}")
    if "://" in source and not source.startswith("sqlite:///"):
        raise ValueError(f"migrate copies a SQLite store (a file path), not {source!r}")
    source = source.removeprefix("sqlite:///")
    SQLiteStore(source).close()
    target = PostgresStore(target_url)  # creates the schema
    try:
        if target.article_count():
            raise ValueError(f"{target_url} already holds articles: migrate into an empty database")
    finally:
        target.close()
    uri = Path(source).expanduser().resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as reader, psycopg.connect(target_url, autocommit=True) as writer:
        return _copy(reader, writer)


def _copy(reader: sqlite3.Connection, db: psycopg.Connection[Any]) -> dict[str, int]:
    """Every table of the PostgreSQL schema (the same version as the source's, so the same
    tables), in any order: PostgreSQL checks the foreign keys at commit."""
    copied: dict[str, int] = {}
    tables = [
        r[0]
        for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        if r[0] not in NOT_COPIED
    ]
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (CLUSTERING_LOCK_KEY,))
        for table in tables:
            columns = [row[1] for row in reader.execute(f"PRAGMA table_info({table})")]
            convert = [CONVERTERS.get((table, column)) for column in columns]
            copied[table] = 0
            with db.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in reader.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                    copy.write_row([v if f is None or v is None else f(v) for f, v in zip(convert, row)])
                    copied[table] += 1
        # New articles continue the numbering after the copied ones.
        db.execute(
            "SELECT setval(pg_get_serial_sequence('articles', 'seq'), COALESCE(MAX(seq), 1), MAX(seq) IS NOT NULL) "
            "FROM articles"
        )
    return copied
