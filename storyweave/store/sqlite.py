"""The SQLite store: a single file in WAL mode.

Every article is written in one transaction together with its story's new state, the document
frequencies and the calibration, so a process killed mid-ingest loses nothing already committed
and never leaves a half-written story. Several processes on one machine may write at once: the
clustering step runs under SQLite's write lock and first catches up with the others' stories
(:meth:`SQLiteStore.clustering_lock`, :meth:`SQLiteStore.refresh`), as on PostgreSQL.

The queries are :class:`~storyweave.store.sql.SQLStore`'s, shared with PostgreSQL; this module
holds the schema and what only SQLite does: its connection, write lock, value types and FTS5.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .keywords import BODY_WEIGHT, TITLE_WEIGHT, Term
from .sql import Cursor, SearchHit, SQLStore

__all__ = ["MIGRATIONS", "SQLiteStore", "fts_query"]

# Versioned schema migrations, applied in order; PRAGMA user_version records the last one applied.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE stories (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE articles (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        fingerprint TEXT NOT NULL,
        origin TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        language TEXT NOT NULL,
        published TEXT,
        published_precision TEXT NOT NULL,
        published_origin TEXT NOT NULL,
        ingested_at TEXT NOT NULL,
        duplicate_of TEXT REFERENCES articles(id),
        story_id TEXT NOT NULL REFERENCES stories(id),
        decision TEXT NOT NULL,
        score REAL NOT NULL,
        name_keys TEXT NOT NULL,
        vector BLOB
    );
    CREATE INDEX articles_fingerprint ON articles(fingerprint);
    CREATE INDEX articles_story ON articles(story_id, published);
    CREATE TABLE story_aliases (
        alias TEXT PRIMARY KEY,
        story_id TEXT NOT NULL REFERENCES stories(id)
    );
    CREATE TABLE term_frequencies (
        term TEXT PRIMARY KEY,
        documents INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE clusterer (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE story_analysis (
        story_id TEXT PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        analysis TEXT NOT NULL
    );
    """,
    # The watcher's sources, their schedules and conditional-GET validators, and the item URLs
    # already handled (storyweave/watch.py).
    """
CREATE TABLE sources (
    url TEXT PRIMARY KEY,                  -- normalised; may carry credentials, always shown redacted
    parent TEXT REFERENCES sources(url) ON DELETE CASCADE,  -- the OPML list or sitemap index listing it
    interval REAL NOT NULL,                -- seconds between polls while all is well
    added_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',         -- what it was at its last poll: rss20, atom10, opml, urlset, page...
    etag TEXT NOT NULL DEFAULT '',         -- validators of the last complete poll (conditional GET)
    last_modified TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,   -- consecutive failed polls: the backoff exponent
    next_poll TEXT,                        -- ISO 8601 UTC; NULL means due now
    last_poll TEXT,
    last_success TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    last_error_at TEXT,
    articles INTEGER NOT NULL DEFAULT 0    -- articles stored from it
);
CREATE INDEX sources_parent ON sources(parent);
CREATE TABLE seen_items (
    url TEXT PRIMARY KEY,                  -- an item URL as a source listed it, normalised
    status TEXT NOT NULL,                  -- 'done' (stored, or a copy of a stored article) or 'failed'
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX articles_url ON articles(url);
""",
    # Concurrent writers: what changed since a clusterer's last sync, stamped with the articles
    # seq of the save that changed it; and full-text search over title and body.
    """
    ALTER TABLE stories ADD COLUMN updated_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX stories_updated ON stories(updated_seq);
    ALTER TABLE story_aliases ADD COLUMN merged_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX story_aliases_merged ON story_aliases(merged_seq);
    CREATE INDEX story_aliases_story ON story_aliases(story_id);
    ALTER TABLE term_frequencies ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX term_frequencies_seq ON term_frequencies(seq);
    CREATE VIRTUAL TABLE articles_text USING fts5(
        title, body, content='articles', content_rowid='seq', tokenize='unicode61 remove_diacritics 0'
    );
    CREATE TRIGGER articles_text_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_text (rowid, title, body) VALUES (new.seq, new.title, new.body);
    END;
    CREATE TRIGGER articles_text_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_text (articles_text, rowid, title, body) VALUES ('delete', old.seq, old.title, old.body);
    END;
    INSERT INTO articles_text (articles_text) VALUES ('rebuild');
    """,
    # The keyword index behind search_text (store/sql.py, store/keywords.py): normalised text in a
    # contentless FTS5 table keyed by articles.seq, caught up from the articles by its state's
    # seq; it replaces articles_text, which indexed the raw text. An older web app created these
    # two tables on first use, hence IF NOT EXISTS: an index it built is kept.
    """
    DROP TRIGGER IF EXISTS articles_text_insert;
    DROP TRIGGER IF EXISTS articles_text_delete;
    DROP TABLE IF EXISTS articles_text;
    CREATE VIRTUAL TABLE IF NOT EXISTS web_search USING fts5(
        title, body, content='',
        tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
    );
    CREATE TABLE IF NOT EXISTS web_search_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO web_search_state (key, value) VALUES ('version', 0), ('seq', 0) ON CONFLICT (key) DO NOTHING;
    """,
    # Foreign keys are checked at commit, so inserting an article makes SQLite look for articles
    # that name it as their original: without this index that was a scan of the whole table per
    # article, and ingest slowed linearly with the store (50 -> 12 articles/s from 5k to 50k).
    """
    CREATE INDEX articles_duplicate_of ON articles(duplicate_of);
    """,
    # The calibration one row per histogram and per language mean (store/codec.py), stamped with
    # the seq of the save that changed it: it was one JSON value, rewritten whole by every save
    # (78 KB per article with the 11 languages of `storyweave bench`, growing with the square of
    # the languages). The value is split into rows; a value stored before language means were
    # learnt is a plain object of histograms.
    """
    CREATE TABLE calibration (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX calibration_seq ON calibration(seq);
    INSERT INTO calibration (key, value)
        SELECT 'histogram:' || h.key, h.value FROM clusterer c,
            json_each(CASE WHEN json_type(c.value, '$.histograms') IS NULL THEN c.value ELSE json_extract(c.value, '$.histograms') END) h
        WHERE c.key = 'calibration';
    INSERT INTO calibration (key, value)
        SELECT 'language:' || l.key, l.value FROM clusterer c, json_each(c.value, '$.languages') l
        WHERE c.key = 'calibration';
    DELETE FROM clusterer WHERE key = 'calibration';
    """,
)


def fts_query(terms: Sequence[Term]) -> str | None:
    """An FTS5 MATCH expression: every term required, each quoted as a phrase (so no user text is
    read as FTS5 syntax); a prefix term ends in ``*``. None: nothing to find."""
    phrases = ['"' + words.replace('"', '""') + '"' + (" *" if prefix else "") for words, prefix in terms]
    return " AND ".join(phrases) if phrases else None


class SQLiteStore(SQLStore):
    """The store in one SQLite file (``path``; ``:memory:`` for a throwaway one)."""

    _ALL_ROWS = -1
    # name_keys is a JSON list: a key is named if its JSON string occurs in it.
    _NAMES_KEY = "instr(name_keys, ?) > 0"
    _LISTS_ENTITY = "EXISTS (SELECT 1 FROM json_each(analysis, '$.entities') e WHERE json_extract(e.value, '$.id') = ?)"
    _CLEAR_SEARCH_INDEX = "INSERT INTO web_search (web_search) VALUES ('delete-all')"
    _INDEX_ARTICLE = "INSERT INTO web_search (rowid, title, body) VALUES (?, ?, ?)"

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(Path(path).expanduser()) if path != ":memory:" else path, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._db:
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number};")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # -- dialect hooks -------------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self._db.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._db.execute(sql, params)]

    @contextmanager
    def _write(self, lock: int | None = None) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: SQLite's write lock, one writer at a time across processes, so
        ``lock`` needs nothing more. Foreign keys are checked at commit, as on PostgreSQL."""
        with self._db:
            if not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("PRAGMA defer_foreign_keys = ON")
            yield

    def _date_value(self, value: dt.date | None) -> Any:
        return None if value is None else value.isoformat()

    def _time_value(self, value: dt.datetime) -> Any:
        return value.isoformat(timespec="seconds")

    def _keys_value(self, keys: Sequence[str]) -> Any:
        return json.dumps(list(keys), ensure_ascii=False)

    def _json_value(self, doc: Mapping[str, Any]) -> Any:
        return json.dumps(doc, ensure_ascii=False)

    def _key_value(self, key: str) -> Any:
        return json.dumps(key, ensure_ascii=False)  # as _keys_value writes it inside the list

    def _entity_value(self, entity_id: str) -> Any:
        return entity_id

    def _search_index(self, terms: Sequence[Term], limit: int) -> list[SearchHit]:
        """FTS5's bm25, title weighted; made positive, so higher is better."""
        rows = self._db.execute(
            "SELECT a.id, bm25(web_search, ?, ?) AS rank FROM web_search JOIN articles a ON a.seq = web_search.rowid "
            "WHERE web_search MATCH ? ORDER BY rank, a.seq LIMIT ?",
            (TITLE_WEIGHT, BODY_WEIGHT, fts_query(terms), limit),
        )
        return [SearchHit(str(r[0]), -float(r[1])) for r in rows]
