"""The SQLite store: a single file in WAL mode.

Every article is written in one transaction together with its story's new state, the document
frequencies and the calibration, so a process killed mid-ingest loses nothing already committed
and never leaves a half-written story. Several processes on one machine may write at once: the
clustering step runs under SQLite's write lock and first catches up with the others' stories
(:meth:`SQLiteStore.clustering_lock`, :meth:`SQLiteStore.refresh`), as on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..cluster import Clusterer, StoryState
from ..records import Article, Assignment, DatePrecision, PublishedDate, Story
from .codec import (
    apply_changes,
    calibration_to_json,
    clusterer_from_rows,
    state_from_json,
    state_to_json,
    story_from_members,
    vector_from_bytes,
)

__all__ = ["SQLiteStore"]

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
)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class SQLiteStore:
    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(Path(path).expanduser()) if path != ":memory:" else path, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        # The articles seq up to which each clusterer loaded from this store has seen the stories.
        self._synced: weakref.WeakKeyDictionary[Clusterer, int] = weakref.WeakKeyDictionary()
        self._locked = False
        # The clusterer refreshed under the current clustering lock: its saves advance its sync
        # point, since nobody else can write before the lock is released.
        self._fresh: Clusterer | None = None
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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # -- concurrent writers --------------------------------------------------------------------
    @contextmanager
    def clustering_lock(self) -> Iterator[None]:
        """Hold the database's write lock while the pipeline catches up (:meth:`refresh`),
        assigns an article and saves it, so writers in other processes take turns."""
        self._db.execute("BEGIN IMMEDIATE")
        self._locked = True
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                self._db.rollback()
            raise
        else:
            if self._db.in_transaction:
                self._db.commit()
        finally:
            self._locked = False
            self._fresh = None

    def refresh(self, clusterer: Clusterer) -> None:
        """Bring a clusterer loaded from this store up to date with what other writers stored:
        their new and changed stories, the stories they merged away, the document frequencies
        and the calibration. Cheap when nothing changed (one index lookup)."""
        synced = self._synced[clusterer]
        current = self._last_seq()
        if current > synced:
            apply_changes(
                clusterer,
                [state_from_json(r["id"], r["state"]) for r in self._db.execute("SELECT id, state FROM stories WHERE updated_seq > ?", (synced,))],
                [r[0] for r in self._db.execute("SELECT alias FROM story_aliases WHERE merged_seq > ?", (synced,))],
                self._db.execute("SELECT term, documents FROM term_frequencies WHERE seq > ?", (synced,)).fetchall(),
                {r["key"]: r["value"] for r in self._db.execute("SELECT key, value FROM clusterer")},
            )
            self._synced[clusterer] = current
        if self._locked:
            self._fresh = clusterer

    def _last_seq(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM articles").fetchone()[0])

    # -- writing -------------------------------------------------------------------------------
    def known_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", chunk))
        return found

    def find_fingerprint(self, fingerprint: str) -> tuple[str, str] | None:
        """The earliest stored article with this text, and its story (resolved through merges)."""
        row = self._db.execute(
            "SELECT id, story_id FROM articles WHERE fingerprint = ? AND duplicate_of IS NULL ORDER BY seq LIMIT 1",
            (fingerprint,),
        ).fetchone()
        return None if row is None else (row["id"], row["story_id"])

    def save(self, article: Article, assignment: Assignment, clusterer: Clusterer, state: StoryState | None) -> None:
        """Store one article and everything its assignment changed, atomically.

        The article row goes first (its story row follows within the transaction: the foreign
        keys are deferred), so its ``seq`` stamps everything this save changes, and a new story's
        creation order is that ``seq``: "older" means older across all writers. An article
        another writer already stored is left as it is, and nothing else is written.
        """
        now = _now()
        vector = None if article.vector is None else article.vector.astype("float32").tobytes()
        with self._db as db:
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            db.execute("PRAGMA defer_foreign_keys = ON")
            row = db.execute(
                "INSERT INTO articles (id, fingerprint, origin, source, url, title, body, language, published,"
                " published_precision, published_origin, ingested_at, duplicate_of, story_id, decision, score,"
                " name_keys, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (id) DO NOTHING RETURNING seq",
                (
                    article.id,
                    article.fingerprint,
                    article.origin,
                    article.source,
                    article.url,
                    article.title,
                    article.body,
                    article.language,
                    None if article.published.value is None else article.published.value.isoformat(),
                    article.published.precision.value,
                    article.published.origin,
                    article.ingested_at.isoformat(timespec="seconds"),
                    article.duplicate_of,
                    assignment.story_id,
                    assignment.decision,
                    assignment.score,
                    json.dumps(list(article.name_keys), ensure_ascii=False),
                    vector,
                ),
            ).fetchone()
            if row is None:
                return
            seq = int(row[0])
            if state is not None:
                if assignment.decision == "new":
                    state.created = seq
                db.execute(
                    "INSERT INTO stories (id, created_at, updated_at, state, updated_seq) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state, "
                    "updated_seq = excluded.updated_seq",
                    (state.id, now, now, state_to_json(state), seq),
                )
            else:
                db.execute("UPDATE stories SET updated_at = ? WHERE id = ?", (now, assignment.story_id))
            for merged in assignment.merged:
                # The younger story's articles and aliases move to the older one, which keeps its id.
                db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", (assignment.story_id, merged))
                db.execute("UPDATE story_aliases SET story_id = ? WHERE story_id = ?", (assignment.story_id, merged))
                db.execute(
                    "INSERT OR REPLACE INTO story_aliases (alias, story_id, merged_seq) VALUES (?, ?, ?)",
                    (merged, assignment.story_id, seq),
                )
                db.execute("DELETE FROM story_analysis WHERE story_id = ?", (merged,))
                db.execute("DELETE FROM stories WHERE id = ?", (merged,))
            if state is not None:
                changed = clusterer.frequencies.pending()
                db.executemany(
                    "INSERT INTO term_frequencies (term, documents, seq) VALUES (?, ?, ?) "
                    "ON CONFLICT(term) DO UPDATE SET documents = excluded.documents, seq = excluded.seq",
                    [(term, documents, seq) for term, documents in changed],
                )
                db.execute(
                    "INSERT OR REPLACE INTO clusterer (key, value) VALUES ('calibration', ?), ('documents', ?)",
                    (calibration_to_json(clusterer.calibration), str(clusterer.frequencies.documents)),
                )
        if self._fresh is clusterer:
            self._synced[clusterer] = seq

    # -- reading -------------------------------------------------------------------------------
    def load_clusterer(self) -> Clusterer:
        """The clusterer as stored, with its sync point for :meth:`refresh` (read first: what
        changes while the rest is read is applied again by the next refresh, harmlessly)."""
        synced = self._last_seq()
        values = {r["key"]: r["value"] for r in self._db.execute("SELECT key, value FROM clusterer")}
        counts = {r[0]: int(r[1]) for r in self._db.execute("SELECT term, documents FROM term_frequencies")}
        states = (state_from_json(r["id"], r["state"]) for r in self._db.execute("SELECT id, state FROM stories"))
        clusterer = clusterer_from_rows(values, counts, states)
        self._synced[clusterer] = synced
        return clusterer

    def resolve(self, story_id: str) -> str | None:
        """A story id as given, or the id of the story it was merged into; prefixes accepted."""
        row = self._db.execute("SELECT story_id FROM story_aliases WHERE alias = ?", (story_id,)).fetchone()
        if row is not None:
            return str(row[0])
        rows = self._db.execute(
            "SELECT id FROM stories WHERE id = ? OR id LIKE ? LIMIT 2", (story_id, story_id + "%")
        ).fetchall()
        exact = [r[0] for r in rows if r[0] == story_id]
        if exact:
            return str(exact[0])
        return str(rows[0][0]) if len(rows) == 1 else None

    def story_of(self, article_id: str) -> str | None:
        row = self._db.execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else str(row[0])

    def article(self, article_id: str) -> Article | None:
        row = self._db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else _article(row)

    def story_version(self, story_id: str) -> str:
        """Changes whenever the story gains an original article or absorbs another story
        (a syndicated copy adds nothing to the analysis, so it leaves the version alone)."""
        row = self._db.execute(
            "SELECT COUNT(*), MAX(seq) FROM articles WHERE story_id = ? AND duplicate_of IS NULL", (story_id,)
        ).fetchone()
        return f"{row[0]}:{row[1]}"

    def save_analysis(self, story_id: str, version: str, analysis: dict[str, Any]) -> None:
        with self._db as db:
            db.execute(
                "INSERT OR REPLACE INTO story_analysis (story_id, version, analysis) VALUES (?, ?, ?)",
                (story_id, version, json.dumps(analysis, ensure_ascii=False)),
            )

    def analysis(self, story_id: str, version: str) -> dict[str, Any] | None:
        """The stored analysis of the story, if it was made for this version of it."""
        row = self._db.execute(
            "SELECT analysis FROM story_analysis WHERE story_id = ? AND version = ?", (story_id, version)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def article_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def search_text(self, query: str, limit: int = 20) -> list[str]:
        """Ids of the articles containing every word of the query, best match first."""
        # Each word quoted, so the query's own punctuation is never read as FTS5 syntax.
        words = " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
        if not words:
            return []
        rows = self._db.execute(
            "SELECT a.id FROM articles_text JOIN articles a ON a.seq = articles_text.rowid "
            "WHERE articles_text MATCH ? ORDER BY articles_text.rank, a.seq LIMIT ?",
            (words, limit),
        )
        return [r[0] for r in rows]

    def stories(self, *, limit: int | None = None, offset: int = 0, with_articles: bool = False) -> list[Story]:
        """Stories, newest activity first."""
        rows = self._db.execute(
            "SELECT s.id, s.created_at, s.updated_at, MAX(a.seq) AS last_seq FROM stories s "
            "JOIN articles a ON a.story_id = s.id GROUP BY s.id ORDER BY last_seq DESC LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        ).fetchall()
        return [self._story(row, with_articles) for row in rows]

    def story(self, story_id: str) -> Story | None:
        resolved = self.resolve(story_id)
        if resolved is None:
            return None
        row = self._db.execute("SELECT id, created_at, updated_at FROM stories WHERE id = ?", (resolved,)).fetchone()
        return None if row is None else self._story(row, True)

    def articles(self, story_id: str) -> list[Article]:
        rows = self._db.execute(
            "SELECT * FROM articles WHERE story_id = ? ORDER BY published IS NULL, published, seq", (story_id,)
        ).fetchall()
        return [_article(r) for r in rows]

    def _story(self, row: sqlite3.Row, with_articles: bool) -> Story:
        merged = [r[0] for r in self._db.execute("SELECT alias FROM story_aliases WHERE story_id = ?", (row["id"],))]
        return story_from_members(
            row["id"],
            self.articles(row["id"]),
            dt.datetime.fromisoformat(row["created_at"]),
            dt.datetime.fromisoformat(row["updated_at"]),
            merged,
            with_articles,
        )


def _article(row: sqlite3.Row) -> Article:
    published = PublishedDate(
        dt.date.fromisoformat(row["published"]) if row["published"] else None,
        DatePrecision(row["published_precision"]),
        row["published_origin"],
    )
    values: dict[str, Any] = dict(
        id=row["id"],
        fingerprint=row["fingerprint"],
        origin=row["origin"],
        source=row["source"],
        url=row["url"],
        title=row["title"],
        body=row["body"],
        language=row["language"],
        published=published,
        ingested_at=dt.datetime.fromisoformat(row["ingested_at"]),
        duplicate_of=row["duplicate_of"],
        name_keys=tuple(json.loads(row["name_keys"])),
        vector=vector_from_bytes(row["vector"]),
    )
    return Article(**values)
