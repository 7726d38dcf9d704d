"""Every query of the stores, written once: :class:`SQLStore`, which both stores extend.

SQLite and PostgreSQL accept the same SQL for everything storyweave asks of them (upserts with
``ON CONFLICT``, ``RETURNING``, ``substr``, ``CASE``) except a handful of things, which each store
supplies as a small hook (the *dialect* attributes and hooks at the top of the class):

- placeholders: queries here use ``?``; the PostgreSQL store rewrites them to ``%s``;
- transactions and locks (:meth:`SQLStore._write`): SQLite's write lock (``BEGIN IMMEDIATE``) is
  exclusive already, PostgreSQL takes an advisory lock for the steps that must be serial;
- how a value is typed: dates, times, name keys and JSON are ISO text and JSON text in SQLite,
  ``DATE``, ``TIMESTAMPTZ``, ``TEXT[]`` and ``JSONB`` in PostgreSQL (rows are read back into the
  same Python types whichever store wrote them);
- two conditions on those typed columns (an article names a key, an analysis lists an entity);
- migrations, and the full-text engine behind :meth:`SQLStore.search_text`.

So a query, and with it the behaviour (story ids, assignments, what a page shows), cannot drift
apart between the stores; ``tests/test_store_contract.py`` runs the same suite against both.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, NamedTuple, Protocol, TypedDict

import numpy as np

from ..cluster import Clusterer, StoryState
from ..records import Article, Assignment, DatePrecision, PublishedDate, Story
from .codec import (
    apply_changes,
    calibration_changes,
    clusterer_from_rows,
    state_from_json,
    state_to_json,
    story_from_members,
    vector_from_bytes,
)
from .keywords import INDEX_CHUNK, INDEX_VERSION, Term, normalise, query_terms

__all__ = [
    "CLUSTERING_LOCK_KEY",
    "LEAD_CHARS",
    "SOURCE_COLUMNS",
    "ArticleBrief",
    "Cursor",
    "SQLStore",
    "SearchHit",
    "SeenItem",
    "StoryMembers",
]

# Keys of the locks that serialise a step across processes (PostgreSQL advisory locks; any 64-bit
# integers, per database): the clustering step of concurrent writers, and keyword-index catch-up.
CLUSTERING_LOCK_KEY = 0x7377636C75  # "swclu"
SEARCH_LOCK_KEY = 0x7377737263  # "swsrc"
# Characters of a body read for a brief (enough to find its first line: a body may open with
# blank lines).
LEAD_CHARS = 400
# Ids per IN (...) list: well under either database's limit on parameters.
IN_CHUNK = 500
# The columns of the watcher's `sources` table, as storyweave.watch.Source names them.
SOURCE_COLUMNS = (
    "url", "parent", "interval", "added_at", "kind", "etag", "last_modified", "failures",
    "next_poll", "last_poll", "last_success", "last_error", "last_error_at", "articles",
)
_SOURCE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in SOURCE_COLUMNS) + " FROM sources"
# A changed document frequency replaces the stored one, stamped with the save's seq.
FREQUENCY_UPSERT = "ON CONFLICT (term) DO UPDATE SET documents = excluded.documents, seq = excluded.seq"
# What a brief of an article reads: everything a list shows, no vector, the body cut (or whole).
_BRIEF_COLUMNS = "id, story_id, title, {lead} AS lead, language, source, url, published, published_precision, ingested_at, duplicate_of"


class Cursor(Protocol):
    """What the stores use of a DB-API cursor (sqlite3's and psycopg's both fit)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class SearchHit(NamedTuple):
    """One article found by a search; a higher score is a better match."""

    article_id: str
    score: float


class SeenItem(NamedTuple):
    """An item URL the watcher handled: ``done`` (stored, or a copy of a stored article) or
    ``failed`` after ``attempts`` tries."""

    url: str
    status: str
    attempts: int
    error: str


class ArticleBrief(TypedDict):
    """An article as a list shows it: no vector, and only the start of its body (``lead``)."""

    id: str
    story_id: str
    title: str
    lead: str
    language: str
    source: str
    url: str
    published: dt.date | None
    published_precision: str
    ingested_at: dt.datetime
    duplicate_of: str | None


class StoryMembers(NamedTuple):
    """A story as a list shows it: when it last changed, and its articles (briefs, in date order)."""

    updated_at: dt.datetime
    articles: list[ArticleBrief]


# --- reading values back, whichever store wrote them ----------------------------------------------


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _as_keys(value: Any) -> tuple[str, ...]:
    return tuple(json.loads(value) if isinstance(value, str) else value)


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _article(row: Mapping[str, Any]) -> Article:
    return Article(
        id=row["id"],
        fingerprint=row["fingerprint"],
        origin=row["origin"],
        source=row["source"],
        url=row["url"],
        title=row["title"],
        body=row["body"],
        language=row["language"],
        published=PublishedDate(
            _as_date(row["published"]), DatePrecision(row["published_precision"]), row["published_origin"]
        ),
        ingested_at=_as_datetime(row["ingested_at"]),
        duplicate_of=row["duplicate_of"],
        name_keys=_as_keys(row["name_keys"]),
        vector=vector_from_bytes(row["vector"]),
    )


def _brief(row: Sequence[Any]) -> ArticleBrief:
    """A row of ``_BRIEF_COLUMNS``."""
    return ArticleBrief(
        id=row[0], story_id=row[1], title=row[2], lead=row[3], language=row[4], source=row[5], url=row[6],
        published=_as_date(row[7]), published_precision=row[8], ingested_at=_as_datetime(row[9]),
        duplicate_of=row[10],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class SQLStore(ABC):
    """A store on a SQL database: every query here, the dialect's few differences in subclasses."""

    # dialect: LIMIT's value for "no limit" (SQLite: -1; PostgreSQL: NULL).
    _ALL_ROWS: int | None = None
    # dialect: "this article names the key ?" and "this analysis lists the entity ?", on the typed
    # columns name_keys and analysis (parameters from _key_value and _entity_value).
    _NAMES_KEY: str
    _LISTS_ENTITY: str
    # dialect: empties the keyword index; adds one article to it (seq, normalised title and body).
    _CLEAR_SEARCH_INDEX: str
    _INDEX_ARTICLE: str

    def __init__(self) -> None:
        # The articles seq up to which each clusterer loaded from this store has seen the stories.
        self._synced: weakref.WeakKeyDictionary[Clusterer, int] = weakref.WeakKeyDictionary()
        self._locked = False
        # The clusterer refreshed under the current clustering lock: its saves advance its sync
        # point, since nobody else can write before the lock is released.
        self._fresh: Clusterer | None = None
        # Whether this connection has checked the keyword index's version (once is enough).
        self._search_checked = False

    # -- dialect hooks ---------------------------------------------------------------------------
    @property
    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement with ``?`` placeholders."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of a query as column → value."""

    @abstractmethod
    def _write(self, lock: int | None = None) -> AbstractContextManager[None]:
        """A write transaction, committed at the end and rolled back on error, holding the lock
        ``lock`` (a *_LOCK_KEY) against other processes. Nested in another (a save under the
        clustering lock), it joins it: on PostgreSQL as a savepoint; on SQLite its end commits
        the whole transaction, which ends the clustering step with its last write, the save."""

    def _snapshot(self) -> AbstractContextManager[None]:
        """Several reads that must see one state of the database."""
        return nullcontext()

    @abstractmethod
    def _date_value(self, value: dt.date | None) -> Any: ...

    @abstractmethod
    def _time_value(self, value: dt.datetime) -> Any:
        """A time as the database stores it, to the second."""

    @abstractmethod
    def _keys_value(self, keys: Sequence[str]) -> Any: ...

    @abstractmethod
    def _json_value(self, doc: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def _key_value(self, key: str) -> Any: ...

    @abstractmethod
    def _entity_value(self, entity_id: str) -> Any: ...

    @abstractmethod
    def _search_index(self, terms: Sequence[Term], limit: int) -> list[SearchHit]:
        """The best matches of every term in the keyword index, originals only."""

    # -- concurrent writers --------------------------------------------------------------------
    @contextmanager
    def clustering_lock(self) -> Iterator[None]:
        """Hold the clustering lock while the pipeline catches up (:meth:`refresh`), assigns an
        article and saves it, so writers in other processes take turns. PostgreSQL's lock is
        transaction-scoped (``pg_advisory_xact_lock``), so a writer that dies mid-article
        releases it with its connection; SQLite's is the database's own write lock."""
        with self._write(CLUSTERING_LOCK_KEY):
            self._locked = True
            try:
                yield
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
                [state_from_json(i, t) for i, t in self._execute("SELECT id, state FROM stories WHERE updated_seq > ?", (synced,))],
                [r[0] for r in self._execute("SELECT alias FROM story_aliases WHERE merged_seq > ?", (synced,))],
                [(r[0], r[1]) for r in self._execute("SELECT term, documents FROM term_frequencies WHERE seq > ?", (synced,))],
                [(r[0], r[1]) for r in self._execute("SELECT key, value FROM calibration WHERE seq > ?", (synced,))],
                self._clusterer_values(),
            )
            self._synced[clusterer] = current
        if self._locked:
            self._fresh = clusterer

    def _last_seq(self) -> int:
        return int(self._execute("SELECT COALESCE(MAX(seq), 0) FROM articles").fetchone()[0])

    def _clusterer_values(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._execute("SELECT key, value FROM clusterer")}

    # -- writing -------------------------------------------------------------------------------
    def known_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        found: set[str] = set()
        for i in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[i : i + IN_CHUNK]
            found.update(r[0] for r in self._execute(f"SELECT id FROM articles WHERE id IN ({_marks(len(chunk))})", chunk))
        return found

    def find_fingerprint(self, fingerprint: str) -> tuple[str, str] | None:
        """The earliest stored article with this text, and its story (resolved through merges)."""
        row = self._execute(
            "SELECT id, story_id FROM articles WHERE fingerprint = ? AND duplicate_of IS NULL ORDER BY seq LIMIT 1",
            (fingerprint,),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def save(self, article: Article, assignment: Assignment, clusterer: Clusterer, state: StoryState | None) -> None:
        """Store one article and everything its assignment changed, atomically.

        The article row goes first (its story row follows within the transaction: the foreign
        keys are deferred), so its ``seq`` stamps everything this save changes, and a new story's
        creation order is that ``seq``: "older" means older across all writers. An article
        another writer already stored is left as it is, and nothing else is written. The save
        takes the clustering lock itself, so no write path can bypass it.
        """
        now = self._time_value(_now())
        vector = None if article.vector is None else article.vector.astype("float32").tobytes()
        with self._write(CLUSTERING_LOCK_KEY):
            row = self._execute(
                "INSERT INTO articles (id, fingerprint, origin, source, url, title, body, language, published,"
                " published_precision, published_origin, ingested_at, duplicate_of, story_id, decision, score,"
                f" name_keys, vector) VALUES ({_marks(18)}) ON CONFLICT (id) DO NOTHING RETURNING seq",
                (
                    article.id,
                    article.fingerprint,
                    article.origin,
                    article.source,
                    article.url,
                    article.title,
                    article.body,
                    article.language,
                    self._date_value(article.published.value),
                    article.published.precision.value,
                    article.published.origin,
                    self._time_value(article.ingested_at),
                    article.duplicate_of,
                    assignment.story_id,
                    assignment.decision,
                    assignment.score,
                    self._keys_value(article.name_keys),
                    vector,
                ),
            ).fetchone()
            if row is None:
                return
            seq = int(row[0])
            if state is not None:
                if assignment.decision == "new":
                    state.created = seq
                self._execute(
                    "INSERT INTO stories (id, created_at, updated_at, state, updated_seq) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state, "
                    "updated_seq = excluded.updated_seq",
                    (state.id, now, now, state_to_json(state), seq),
                )
            else:
                self._execute("UPDATE stories SET updated_at = ? WHERE id = ?", (now, assignment.story_id))
            for merged in assignment.merged:
                # The younger story's articles and aliases move to the older one, which keeps its id.
                self._execute("UPDATE articles SET story_id = ? WHERE story_id = ?", (assignment.story_id, merged))
                self._execute("UPDATE story_aliases SET story_id = ? WHERE story_id = ?", (assignment.story_id, merged))
                self._execute(
                    "INSERT INTO story_aliases (alias, story_id, merged_seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (alias) DO UPDATE SET story_id = excluded.story_id, merged_seq = excluded.merged_seq",
                    (merged, assignment.story_id, seq),
                )
                self._execute("DELETE FROM story_analysis WHERE story_id = ?", (merged,))
                self._execute("DELETE FROM stories WHERE id = ?", (merged,))
            for move in assignment.moved:
                # The periodic re-check moved a recent article (and its syndicated copies).
                self._execute(
                    "UPDATE articles SET story_id = ? WHERE id = ? OR duplicate_of = ?",
                    (move.to_story, move.article_id, move.article_id),
                )
            for story_id in {s for move in assignment.moved for s in (move.from_story, move.to_story)} - {assignment.story_id}:
                # Every story a move touched gets its new state and this seq, so that other
                # writers' refresh picks it up; none is emptied (see Clusterer._refine).
                self._execute(
                    "UPDATE stories SET updated_at = ?, state = ?, updated_seq = ? WHERE id = ?",
                    (now, state_to_json(clusterer.states[story_id]), seq, story_id),
                )
            if state is not None:
                self._save_frequencies(clusterer.frequencies.pending(), seq)
                self._executemany(
                    "INSERT INTO calibration (key, value, seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, seq = excluded.seq",
                    [(key, value, seq) for key, value in calibration_changes(clusterer.calibration)],
                )
                self._execute(
                    "INSERT INTO clusterer (key, value) VALUES ('documents', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(clusterer.frequencies.documents),),
                )
        if self._fresh is clusterer:
            self._synced[clusterer] = seq

    def _save_frequencies(self, changed: Sequence[tuple[str, int]], seq: int) -> None:
        """Store the document frequencies a save changed (*dialect*: PostgreSQL sends them in
        one statement rather than one per term)."""
        self._executemany(
            f"INSERT INTO term_frequencies (term, documents, seq) VALUES (?, ?, ?) {FREQUENCY_UPSERT}",
            [(term, documents, seq) for term, documents in changed],
        )

    def save_analysis(self, story_id: str, version: str, analysis: dict[str, Any]) -> None:
        with self._write():
            self._execute(
                "INSERT INTO story_analysis (story_id, version, analysis) VALUES (?, ?, ?) "
                "ON CONFLICT (story_id) DO UPDATE SET version = excluded.version, analysis = excluded.analysis",
                (story_id, version, self._json_value(analysis)),
            )

    # -- reading -------------------------------------------------------------------------------
    def load_clusterer(self) -> Clusterer:
        """The clusterer as stored, with its sync point for :meth:`refresh` (read first: what
        changes while the rest is read is applied again by the next refresh, harmlessly)."""
        with self._snapshot():
            synced = self._last_seq()
            values = self._clusterer_values()
            counts = {r[0]: int(r[1]) for r in self._execute("SELECT term, documents FROM term_frequencies")}
            calibration = [(r[0], r[1]) for r in self._execute("SELECT key, value FROM calibration")]
            # Streamed oldest first, so that the clusterer drops the stories that left the
            # activity window as it goes: memory holds the active stories, not the archive.
            rows = self._execute("SELECT id, state FROM stories ORDER BY created_at")
            clusterer = clusterer_from_rows(values, counts, calibration, (state_from_json(i, text) for i, text in rows))
        self._synced[clusterer] = synced
        return clusterer

    def resolve(self, story_id: str) -> str | None:
        """A story id as given, or the id of the story it was merged into; prefixes accepted."""
        row = self._execute("SELECT story_id FROM story_aliases WHERE alias = ?", (story_id,)).fetchone()
        if row is not None:
            return str(row[0])
        rows = self._execute(
            "SELECT id FROM stories WHERE id = ? OR substr(id, 1, ?) = ? LIMIT 2", (story_id, len(story_id), story_id)
        ).fetchall()
        exact = [r[0] for r in rows if r[0] == story_id]
        if exact:
            return str(exact[0])
        return str(rows[0][0]) if len(rows) == 1 else None

    def story_of(self, article_id: str) -> str | None:
        row = self._execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else str(row[0])

    def article(self, article_id: str) -> Article | None:
        rows = self._dicts("SELECT * FROM articles WHERE id = ?", (article_id,))
        return _article(rows[0]) if rows else None

    def story_version(self, story_id: str) -> str:
        """Changes whenever the story gains an original article, absorbs another story or gains
        or loses a member in the re-check (a syndicated copy adds nothing to the analysis, so it
        leaves the version alone). The count and newest member alone could repeat once members
        move (one moved out, an older one moved in), so the seq of the story's last state change
        is part of it."""
        count, last = self._execute(
            "SELECT COUNT(*), MAX(seq) FROM articles WHERE story_id = ? AND duplicate_of IS NULL", (story_id,)
        ).fetchone()
        row = self._execute("SELECT updated_seq FROM stories WHERE id = ?", (story_id,)).fetchone()
        return f"{count}:{last}:{row[0] if row else 0}"

    def analysis(self, story_id: str, version: str) -> dict[str, Any] | None:
        """The stored analysis of the story, if it was made for this version of it."""
        row = self._execute(
            "SELECT analysis FROM story_analysis WHERE story_id = ? AND version = ?", (story_id, version)
        ).fetchone()
        return None if row is None else dict(_as_json(row[0]))

    def article_count(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def stories(self, *, limit: int | None = None, offset: int = 0, with_articles: bool = False) -> list[Story]:
        """Stories, newest activity first."""
        rows = self._execute(
            "SELECT s.id, s.created_at, s.updated_at, MAX(a.seq) AS last_seq FROM stories s "
            "JOIN articles a ON a.story_id = s.id GROUP BY s.id "
            "ORDER BY last_seq DESC LIMIT ? OFFSET ?",
            (self._ALL_ROWS if limit is None else limit, offset),
        ).fetchall()
        return [self._story(row[0], row[1], row[2], with_articles) for row in rows]

    def story(self, story_id: str) -> Story | None:
        resolved = self.resolve(story_id)
        if resolved is None:
            return None
        row = self._execute("SELECT id, created_at, updated_at FROM stories WHERE id = ?", (resolved,)).fetchone()
        return None if row is None else self._story(row[0], row[1], row[2], True)

    def articles(self, story_id: str) -> list[Article]:
        rows = self._dicts(
            "SELECT * FROM articles WHERE story_id = ? ORDER BY published IS NULL, published, seq", (story_id,)
        )
        return [_article(r) for r in rows]

    def _story(self, story_id: str, created: Any, updated: Any, with_articles: bool) -> Story:
        merged = [r[0] for r in self._execute("SELECT alias FROM story_aliases WHERE story_id = ?", (story_id,))]
        return story_from_members(
            story_id, self.articles(story_id), _as_datetime(created), _as_datetime(updated), merged, with_articles
        )

    # -- full-text search ------------------------------------------------------------------------
    def search_text(self, query: str, limit: int = 20) -> list[SearchHit]:
        """The original articles containing every term of the query, best match first (title
        matches weigh more). Terms are normalised (storyweave.store.keywords), ``term*`` is a
        prefix, and punctuation is text, never query syntax. Catches the index up first."""
        terms = query_terms(query)
        if not terms:
            return []
        self.update_search_index()
        return self._search_index(terms, limit)

    def update_search_index(self) -> None:
        """Index every article stored since the last call (by this or any process).

        The index is kept apart from the articles and caught up by ``seq`` (articles are never
        edited or deleted, so that is complete): its text is normalised in Python, which neither
        database can do in a trigger, and a writer never pays for it under the clustering lock.
        """
        if not self._search_checked:
            if self._search_state("version") != INDEX_VERSION:
                with self._write(SEARCH_LOCK_KEY):
                    if self._search_state("version") != INDEX_VERSION:  # nobody rebuilt it meanwhile
                        self._execute(self._CLEAR_SEARCH_INDEX)
                        self._executemany(
                            "INSERT INTO web_search_state (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            [("version", INDEX_VERSION), ("seq", 0)],
                        )
            self._search_checked = True
        while self._search_behind() and self._index_chunk():
            pass

    def _search_state(self, key: str) -> int | None:
        row = self._execute("SELECT value FROM web_search_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def _search_behind(self) -> bool:
        """Whether articles were stored since the index was last brought up to date: read
        without the lock that indexing takes, so searching never waits on an ingest."""
        row = self._execute(
            "SELECT (SELECT MAX(seq) FROM articles) > (SELECT value FROM web_search_state WHERE key = 'seq')"
        ).fetchone()
        return bool(row[0])

    def _index_chunk(self) -> bool:
        """Index the next chunk; False when there was nothing left. The state is re-read under
        the lock, so two processes catching up at once never index a row twice."""
        with self._write(SEARCH_LOCK_KEY):
            done = self._search_state("seq") or 0
            rows = self._execute(
                "SELECT seq, title, body, duplicate_of FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", (done, INDEX_CHUNK)
            ).fetchall()
            self._executemany(
                self._INDEX_ARTICLE,
                [(seq, normalise(title), normalise(body)) for seq, title, body, duplicate_of in rows if duplicate_of is None],
            )
            if rows:
                self._execute("UPDATE web_search_state SET value = ? WHERE key = 'seq'", (rows[-1][0],))
        return bool(rows)

    # -- what the web pages read -----------------------------------------------------------------
    def find_stories(
        self,
        *,
        language: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        entity: str | None = None,
        key: str | None = None,
        limit: int,
        offset: int = 0,
    ) -> tuple[list[str], int]:
        """One page of story ids, newest activity first, and how many stories pass the filters:
        an article in ``language``; an article published on or after ``since``, on or before
        ``until``; naming the entity, by an article's name ``key`` (every story, analysed or
        not) or by an analysis listing ``entity`` (gazetteer entities no article spells)."""
        where, having, params = "", [], []
        if entity is not None:
            naming = [] if key is None else [f"SELECT story_id FROM articles WHERE {self._NAMES_KEY}"]
            naming.append(f"SELECT story_id FROM story_analysis WHERE {self._LISTS_ENTITY}")
            where = f"WHERE story_id IN ({' UNION '.join(naming)})"
            params += ([] if key is None else [self._key_value(key)]) + [self._entity_value(entity)]
        if language is not None:
            having.append("MAX(CASE WHEN language = ? THEN 1 ELSE 0 END) = 1")
            params.append(language)
        if since is not None:
            having.append("MAX(published) >= ?")
            params.append(self._date_value(since))
        if until is not None:
            having.append("MIN(published) <= ?")
            params.append(self._date_value(until))
        filtered = (
            f"SELECT story_id, MAX(seq) AS last_seq FROM articles {where} GROUP BY story_id"
            + (f" HAVING {' AND '.join(having)}" if having else "")
        )
        total = int(self._execute(f"SELECT COUNT(*) FROM ({filtered}) AS filtered", params).fetchone()[0])
        rows = self._execute(f"{filtered} ORDER BY last_seq DESC LIMIT ? OFFSET ?", [*params, limit, offset])
        return [str(r[0]) for r in rows], total

    def story_members(self, story_ids: Sequence[str]) -> dict[str, StoryMembers]:
        """What a list shows of each story: briefs of its articles in date order (undated last),
        without reading bodies or vectors: :meth:`story` reads all of both, far too much for a page
        of twenty stories with thousands of articles each. In the order asked for; unknown ids
        are left out."""
        if not story_ids:
            return {}
        marks = _marks(len(story_ids))
        updated = {
            r[0]: _as_datetime(r[1]) for r in self._execute(f"SELECT id, updated_at FROM stories WHERE id IN ({marks})", story_ids)
        }
        found = {story_id: StoryMembers(updated[story_id], []) for story_id in story_ids if story_id in updated}
        for row in self._execute(
            f"SELECT {_BRIEF_COLUMNS.format(lead='substr(body, 1, ?)')} FROM articles WHERE story_id IN ({marks})"
            " ORDER BY published IS NULL, published, seq",
            (LEAD_CHARS, *story_ids),
        ):
            if row[1] in found:
                found[row[1]].articles.append(_brief(row))
        return {story_id: members for story_id, members in found.items() if members.articles}

    def article_briefs(self, article_ids: Sequence[str], *, whole_body: bool = False) -> list[ArticleBrief]:
        """Briefs of these articles, in the order stored; ``whole_body``: ``lead`` is the body."""
        if not article_ids:
            return []
        lead = "body" if whole_body else "substr(body, 1, ?)"
        rows = self._execute(
            f"SELECT {_BRIEF_COLUMNS.format(lead=lead)} FROM articles WHERE id IN ({_marks(len(article_ids))}) ORDER BY seq",
            ([] if whole_body else [LEAD_CHARS]) + list(article_ids),
        )
        return [_brief(r) for r in rows]

    def language_counts(self) -> list[tuple[str, int]]:
        """Original articles per language across the whole collection, most first."""
        rows = self._execute(
            "SELECT language, COUNT(*) AS n FROM articles WHERE duplicate_of IS NULL GROUP BY language ORDER BY n DESC, language"
        )
        return [(r[0], int(r[1])) for r in rows]

    def article_copies(self, article_id: str) -> list[ArticleBrief]:
        """The article's syndicated copies, or its original and the original's other copies
        (the original is the one whose ``duplicate_of`` is None)."""
        row = self._execute("SELECT duplicate_of FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return []
        original = row[0] or article_id
        rows = self._execute(
            f"SELECT {_BRIEF_COLUMNS.format(lead='substr(body, 1, ?)')} FROM articles"
            " WHERE (id = ? OR duplicate_of = ?) AND id <> ? ORDER BY seq",
            (LEAD_CHARS, original, original, article_id),
        )
        return [_brief(r) for r in rows]

    def neighbour_vectors(self, article_id: str, limit: int) -> tuple[np.ndarray | None, list[tuple[str, np.ndarray]]]:
        """The article's vector (a copy's is its original's: copies are not embedded) and the
        vectors of the other embedded articles of its story, most recent first, at most ``limit``.
        (None, []) when the article or its vector is missing."""
        row = self._execute("SELECT story_id, duplicate_of, vector FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            return None, []
        story_id, duplicate_of, blob = row
        original = duplicate_of or article_id
        vector = vector_from_bytes(blob)
        if vector is None and duplicate_of:
            found = self._execute("SELECT vector FROM articles WHERE id = ?", (original,)).fetchone()
            vector = None if found is None else vector_from_bytes(found[0])
        if vector is None:
            return None, []
        rows = self._execute(
            "SELECT id, vector FROM articles WHERE story_id = ? AND vector IS NOT NULL AND id NOT IN (?, ?)"
            " ORDER BY seq DESC LIMIT ?",
            (story_id, article_id, original, limit),
        )
        return vector, [(r[0], np.frombuffer(r[1], dtype=np.float32).copy()) for r in rows]

    def recent_vectors(self, after_seq: int, limit: int) -> list[tuple[int, str, np.ndarray]]:
        """(seq, id, vector) of the newest ``limit`` embedded originals stored after ``after_seq``,
        in the order stored."""
        rows = self._execute(
            "SELECT seq, id, vector FROM articles WHERE seq > ? AND vector IS NOT NULL AND duplicate_of IS NULL "
            "ORDER BY seq DESC LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [(int(r[0]), str(r[1]), np.frombuffer(r[2], dtype=np.float32).copy()) for r in reversed(rows)]

    def analyses_with_entity(self, entity_id: str, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
        """(story id, version, analysis) of at most ``limit`` stored analyses that list the entity."""
        rows = self._execute(
            f"SELECT story_id, version, analysis FROM story_analysis WHERE {self._LISTS_ENTITY} ORDER BY story_id LIMIT ?",
            (self._entity_value(entity_id), limit),
        )
        return [(r[0], r[1], dict(_as_json(r[2]))) for r in rows]

    def stories_mentioning(self, key: str, limit: int) -> list[str]:
        """Stories with an article that names the key, newest activity first."""
        rows = self._execute(
            f"SELECT story_id FROM articles WHERE {self._NAMES_KEY} GROUP BY story_id ORDER BY MAX(seq) DESC LIMIT ?",
            (self._key_value(key), limit),
        )
        return [str(r[0]) for r in rows]

    # -- the watcher's sources and the item URLs it handled ---------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        """Every source (column → value, SOURCE_COLUMNS), listed ones right after their list."""
        return self._dicts(f"{_SOURCE_SELECT} ORDER BY coalesce(parent, url), parent IS NOT NULL, url")

    def due_sources(self, now: str, *, every: bool = False) -> list[dict[str, Any]]:
        """The sources whose next poll (an ISO time) is ``now`` or earlier, or unset (due at once),
        longest overdue first; ``every``: all sources, in that order."""
        where = "" if every else " WHERE next_poll IS NULL OR next_poll <= ?"
        return self._dicts(f"{_SOURCE_SELECT}{where} ORDER BY next_poll IS NOT NULL, next_poll", () if every else (now,))

    def next_poll_after(self, now: str) -> str | None:
        """The soonest next poll after ``now`` (ISO times), if any."""
        row = self._execute("SELECT min(next_poll) FROM sources WHERE next_poll > ?", (now,)).fetchone()
        return None if row[0] is None else str(row[0])

    def add_source(self, url: str, interval: float | None, *, default_interval: float, added_at: str) -> dict[str, Any]:
        """Add a top-level source, or make a listed one top-level (its status is kept); a given
        ``interval`` replaces a stored one. The source as stored."""
        with self._write():
            self._execute(
                'INSERT INTO sources (url, "interval", added_at) VALUES (?, ?, ?) ON CONFLICT (url) DO UPDATE SET parent = NULL'
                + ("" if interval is None else ', "interval" = excluded."interval"'),
                (url, default_interval if interval is None else interval, added_at),
            )
        return self._dicts(f"{_SOURCE_SELECT} WHERE url = ?", (url,))[0]

    def remove_source(self, url: str) -> bool:
        """Remove a source and the sources it listed; True if it was there."""
        with self._write():
            return self._execute("DELETE FROM sources WHERE url = ?", (url,)).rowcount > 0

    def sync_listed_sources(self, parent: str, urls: Sequence[str], interval: float, added_at: str) -> None:
        """Keep the sources a list (OPML, sitemap index) holds in step with it: add the new ones
        (with the list's interval), remove those it no longer lists."""
        with self._write():
            self._executemany(
                'INSERT INTO sources (url, parent, "interval", added_at) VALUES (?, ?, ?, ?) ON CONFLICT (url) DO NOTHING',
                [(u, parent, interval, added_at) for u in urls],
            )
            kept = set(urls)
            gone = [r[0] for r in self._execute("SELECT url FROM sources WHERE parent = ?", (parent,)) if r[0] not in kept]
            self._executemany("DELETE FROM sources WHERE url = ?", [(u,) for u in gone])

    def update_source(self, url: str, **changes: str | float | None) -> None:
        """Set a source's schedule and status columns (SOURCE_COLUMNS, save url and articles)."""
        unknown = set(changes) - set(SOURCE_COLUMNS[1:-1])
        if unknown:
            raise ValueError(f"not a source status column: {', '.join(sorted(unknown))}")
        with self._write():
            self._execute(
                "UPDATE sources SET " + ", ".join(f'"{column}" = ?' for column in changes) + " WHERE url = ?",
                (*changes.values(), url),
            )

    def url_handled(self, urls: Sequence[str], max_attempts: int) -> bool:
        """Whether any of the URLs is stored as an article's, or was handled: done, or failed
        ``max_attempts`` times."""
        if not urls:
            return False
        marks = _marks(len(urls))
        if self._execute(f"SELECT 1 FROM articles WHERE url IN ({marks}) LIMIT 1", urls).fetchone() is not None:
            return True
        return self._execute(
            f"SELECT 1 FROM seen_items WHERE url IN ({marks}) AND (status = 'done' OR attempts >= ?) LIMIT 1",
            (*urls, max_attempts),
        ).fetchone() is not None

    def item_attempts(self, url: str) -> int:
        """How many times the item URL was tried and failed (0: never)."""
        row = self._execute("SELECT attempts FROM seen_items WHERE url = ?", (url,)).fetchone()
        return 0 if row is None else int(row[0])

    def mark_items(self, items: Sequence[SeenItem], updated_at: str, *, source: str | None = None, added: int = 0) -> None:
        """Record how items were handled and, with ``source``, count the ``added`` articles
        stored from it, in one transaction."""
        with self._write():
            self._executemany(
                "INSERT INTO seen_items (url, status, attempts, error, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, "
                "error = excluded.error, updated_at = excluded.updated_at",
                [(*item, updated_at) for item in items],
            )
            if source is not None:
                self._execute("UPDATE sources SET articles = articles + ? WHERE url = ?", (added, source))
