"""Search: keywords in any script (SQLite FTS5) and meaning across languages (article vectors).

Keywords. One FTS5 tokenizer has to serve every script, so the text is normalised before it is
indexed and queries are normalised the same way (:func:`normalise`):

* NFKC and case folding; ``unicode61 remove_diacritics 2`` then folds Latin accents
  (``Zëdhënësi`` = ``zedhenesi``), and combining marks count as letters so that Thai or
  Devanagari vowel signs do not split words;
* Arabic: short vowels and tatweel removed, alef/yeh/teh marbuta variants folded, and one
  proclitic (``ال``, ``وال``, ``بال``, ``و`` ...) cut, so ``بوتين`` finds ``وبوتين``;
* scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) become
  overlapping character bigrams, so a query matches anywhere inside a run (``普京`` in
  ``普京会晤``) without a word segmenter.

The index is a contentless FTS5 table keyed by ``articles.seq`` (no copy of the text), created
by this module on first use and brought up to date before each search from the articles added
since (articles are never edited or deleted, so catching up by ``seq`` is complete).

Meaning. Queries are embedded with the encoder's query side and compared with the stored article
vectors (``articles.vector``, L2-normalised float32), which the pipeline made from each article's
title and lead, in whatever language: an English query finds Arabic and Malay articles. The most
recent vectors are held in memory and extended as articles arrive.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..encode import Encoder
from ..store.codec import vector_from_bytes

__all__ = [
    "MAX_QUERY_CHARS",
    "Hit",
    "KeywordIndex",
    "VectorIndex",
    "fts_query",
    "normalise",
    "snippet",
    "typed_terms",
]

# Bump whenever normalise() changes: an index built by another version is dropped and rebuilt.
INDEX_VERSION = 1
INDEX_TABLE = "web_search"
STATE_TABLE = "web_search_state"
# Title matches weigh more than body matches in bm25 (columns: title, body).
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# Longest query accepted, and most terms used from it: each term is one FTS5 phrase, and a
# query's cost grows with its number of phrases.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
# A trailing * makes a term a prefix; a prefix shorter than this matches too much to be useful.
MIN_PREFIX_CHARS = 2
# Articles read from the FTS index per query, best first, before they are grouped by story.
MAX_KEYWORD_HITS = 100
# Articles indexed per transaction while catching up, so a long catch-up never holds the write
# lock for long.
INDEX_CHUNK = 500
# Most recent original articles whose vectors are compared with a query: 20,000 x 384 float32 is
# 30 MB of memory and a few milliseconds per query; older articles are found by keywords.
MAX_SEMANTIC_CANDIDATES = 20_000
# Articles returned by a semantic query, nearest first.
SEMANTIC_HITS = 30
# Length of the piece of an article shown with a hit, in characters; it starts a third of
# its length before the first query word found.
SNIPPET_CHARS = 240

_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX_TABLE} USING fts5(
    title, body, content='',
    tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);
CREATE TABLE IF NOT EXISTS {STATE_TABLE} (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Harakat, Quranic annotation marks, superscript alef and tatweel: optional in Arabic writing.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Letters written in several ways that readers treat as one (hamza seats, alef maqsura, teh marbuta).
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")
# Proclitics glued to the next word (conjunction, preposition, article), longest first; one is
# cut when at least MIN_ARABIC_STEM letters remain. A lone و is cut only from longer words,
# where it is far more often the conjunction than a root letter.
_ARABIC_PROCLITICS = ("وال", "بال", "كال", "فال", "لل", "ال")
MIN_ARABIC_STEM = 2
MIN_WORD_FOR_WAW = 4
# Scripts written without spaces between words.
_UNSPACED_RUN = re.compile(
    "[\u0e00-\u0e7f\u0e80-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    "\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+"
)


def _arabic_stem(match: re.Match[str]) -> str:
    word = match.group(0)
    for clitic in _ARABIC_PROCLITICS:
        if word.startswith(clitic) and len(word) - len(clitic) >= MIN_ARABIC_STEM:
            return word[len(clitic) :]
    if word.startswith("و") and len(word) >= MIN_WORD_FOR_WAW:
        return word[1:]
    return word


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) < 2:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def normalise(text: str) -> str:
    """Text as the keyword index sees it; applied alike to articles and to queries."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    text = _ARABIC_WORD.sub(_arabic_stem, text)
    return _UNSPACED_RUN.sub(_bigrams, text)


def fts_query(query: str) -> str | None:
    """An FTS5 MATCH expression: every whitespace-separated term is required, each quoted as a
    phrase (so no user text is read as FTS5 syntax); ``term*`` is a prefix. None: nothing to find."""
    phrases = []
    for term in query[:MAX_QUERY_CHARS].split()[:MAX_QUERY_TERMS]:
        stem = term.rstrip("*")
        prefix = stem != term and len(stem) >= MIN_PREFIX_CHARS
        words = normalise(stem)
        if not any(ch.isalnum() for ch in words):
            continue
        phrases.append('"' + words.replace('"', '""') + '"' + (" *" if prefix else ""))
    return " AND ".join(phrases) if phrases else None


def typed_terms(query: str) -> re.Pattern[str] | None:
    """The query's words as typed (prefix stars dropped), for showing where a hit matched; the
    index matches more (folded accents, Arabic clitics), which this does not try to mark."""
    terms = sorted({t.rstrip("*") for t in query.split() if len(t.rstrip("*")) >= MIN_PREFIX_CHARS}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE) if terms else None


def snippet(body: str, query: str) -> str:
    """A piece of the body around the first query word it contains as typed, else its start."""
    text = " ".join(body.split())
    pattern = typed_terms(query)
    found = pattern.search(text) if pattern else None
    start = 0
    if found is not None and found.start() > SNIPPET_CHARS // 3:
        start = text.find(" ", found.start() - SNIPPET_CHARS // 3) + 1
    piece = text[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(text) else "")


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching article."""

    article_id: str
    score: float  # keyword: bm25 made positive (higher is better); semantic: cosine similarity


class KeywordIndex:
    """The FTS5 index of one store's articles; one instance serves every connection of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = False  # tables created and of the current version

    def search(self, db: sqlite3.Connection, query: str) -> list[Hit]:
        """The best-matching original articles, best first (at most MAX_KEYWORD_HITS)."""
        expression = fts_query(query)
        if expression is None:
            return []
        self.catch_up(db)
        rows = db.execute(
            f"SELECT a.id, bm25({INDEX_TABLE}, ?, ?) AS rank FROM {INDEX_TABLE} "
            f"JOIN articles a ON a.seq = {INDEX_TABLE}.rowid WHERE {INDEX_TABLE} MATCH ? ORDER BY rank LIMIT ?",
            (TITLE_WEIGHT, BODY_WEIGHT, expression, MAX_KEYWORD_HITS),
        ).fetchall()
        return [Hit(str(r[0]), -float(r[1])) for r in rows]

    def catch_up(self, db: sqlite3.Connection) -> None:
        """Index every original article stored since the last call (by this or any process)."""
        with self._lock:
            if not self._ready:
                self._create(db)
                self._ready = True
            while self._behind(db) and self._index_chunk(db):
                pass

    @staticmethod
    def _create(db: sqlite3.Connection) -> None:
        """The index tables, rebuilt from scratch when an older INDEX_VERSION made them."""
        db.executescript(_SCHEMA)
        if KeywordIndex._state(db, "version") != INDEX_VERSION:
            with db:
                db.execute(f"DROP TABLE {INDEX_TABLE}")
                db.execute(f"DELETE FROM {STATE_TABLE}")
            db.executescript(_SCHEMA)
            with db:
                db.execute(f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES ('version', ?), ('seq', 0)", (INDEX_VERSION,))

    @staticmethod
    def _behind(db: sqlite3.Connection) -> bool:
        """Whether articles were stored since the index was last brought up to date: read
        without the write lock that indexing takes, so searching never waits on an ingest."""
        row = db.execute(
            f"SELECT (SELECT MAX(seq) FROM articles) > (SELECT value FROM {STATE_TABLE} WHERE key = 'seq')"
        ).fetchone()
        return bool(row[0])

    @staticmethod
    def _state(db: sqlite3.Connection, key: str) -> int | None:
        row = db.execute(f"SELECT value FROM {STATE_TABLE} WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def _index_chunk(self, db: sqlite3.Connection) -> bool:
        """Index the next chunk; False when there was nothing left. The state is re-read inside
        an immediate transaction, so two processes catching up at once never index a row twice."""
        db.execute("BEGIN IMMEDIATE")
        try:
            done = self._state(db, "seq") or 0
            rows = db.execute(
                "SELECT seq, title, body, duplicate_of FROM articles WHERE seq > ? ORDER BY seq LIMIT ?",
                (done, INDEX_CHUNK),
            ).fetchall()
            db.executemany(
                f"INSERT INTO {INDEX_TABLE} (rowid, title, body) VALUES (?, ?, ?)",
                [(r["seq"], normalise(r["title"]), normalise(r["body"])) for r in rows if r["duplicate_of"] is None],
            )
            if rows:
                db.execute(f"UPDATE {STATE_TABLE} SET value = ? WHERE key = 'seq'", (rows[-1]["seq"],))
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return bool(rows)


class VectorIndex:
    """The vectors of the most recent original articles, in memory, for nearest-neighbour queries.

    Each query first reads the vectors stored since the last one, so articles ingested by the
    CLI or the API while the server runs are found at once.
    """

    def __init__(self, capacity: int = MAX_SEMANTIC_CANDIDATES) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._matrix: np.ndarray | None = None
        self._last = 0

    def _refresh(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT seq, id, vector FROM articles WHERE seq > ? AND vector IS NOT NULL AND duplicate_of IS NULL "
            "ORDER BY seq DESC LIMIT ?",
            (self._last, self._capacity),
        ).fetchall()
        if not rows:
            return
        rows.reverse()
        fresh = np.stack([v for v in (vector_from_bytes(r["vector"]) for r in rows) if v is not None])
        ids = [str(r["id"]) for r in rows]
        if self._matrix is not None and self._matrix.shape[1] == fresh.shape[1]:
            fresh = np.concatenate([self._matrix, fresh])
            ids = self._ids + ids
        self._matrix, self._ids = fresh[-self._capacity :], ids[-self._capacity :]
        self._last = int(rows[-1]["seq"])

    def search(self, db: sqlite3.Connection, encoder: Encoder, query: str, k: int = SEMANTIC_HITS) -> list[Hit]:
        """The k articles nearest to the query's meaning, nearest first."""
        text = " ".join(query[:MAX_QUERY_CHARS].split())
        if not text:
            return []
        vector = encoder.encode_query([text])[0]
        with self._lock:
            self._refresh(db)
            if self._matrix is None or self._matrix.shape[1] != vector.shape[0]:
                return []  # nothing stored yet, or vectors made by another encoder
            scores = self._matrix @ vector
            ids = self._ids
        top = np.argsort(-scores)[:k]
        return [Hit(ids[i], float(scores[i])) for i in top]
