"""Search: keywords in any script (the store's full-text index) and meaning across languages
(article vectors).

Keywords. ``store.search_text`` answers them, with each database's own full-text engine (SQLite
FTS5, PostgreSQL ``tsvector``) over text normalised alike for every script
(storyweave/store/keywords.py). This module shows where a hit matched (:func:`snippet`).

Meaning. Queries are embedded with the encoder's query side and compared with the stored article
vectors (``articles.vector``, L2-normalised float32), which the pipeline made from each article's
title and lead, in whatever language: an English query finds Arabic and Malay articles. The most
recent vectors are held in memory and extended as articles arrive.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from ..encode import Encoder
from ..store import SearchHit, Store
from ..store.keywords import MAX_QUERY_CHARS, MIN_PREFIX_CHARS

__all__ = [
    "MAX_KEYWORD_HITS",
    "MAX_QUERY_CHARS",
    "VectorIndex",
    "snippet",
    "typed_terms",
]

# Articles read from the keyword index per query, best first, before they are grouped by story.
MAX_KEYWORD_HITS = 100
# Most recent original articles whose vectors are compared with a query: 20,000 x 384 float32 is
# 30 MB of memory and a few milliseconds per query; older articles are found by keywords.
MAX_SEMANTIC_CANDIDATES = 20_000
# Articles returned by a semantic query, nearest first.
SEMANTIC_HITS = 30
# Length of the piece of an article shown with a hit, in characters; it starts a third of
# its length before the first query word found.
SNIPPET_CHARS = 240


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

    def _refresh(self, store: Store) -> None:
        rows = store.recent_vectors(self._last, self._capacity)
        if not rows:
            return
        fresh = np.stack([vector for _, _, vector in rows])
        ids = [article_id for _, article_id, _ in rows]
        if self._matrix is not None and self._matrix.shape[1] == fresh.shape[1]:
            fresh = np.concatenate([self._matrix, fresh])
            ids = self._ids + ids
        self._matrix, self._ids = fresh[-self._capacity :], ids[-self._capacity :]
        self._last = rows[-1][0]

    def search(self, store: Store, encoder: Encoder, query: str, k: int = SEMANTIC_HITS) -> list[SearchHit]:
        """The k articles nearest to the query's meaning, nearest first."""
        text = " ".join(query[:MAX_QUERY_CHARS].split())
        if not text:
            return []
        vector = encoder.encode_query([text])[0]
        with self._lock:
            self._refresh(store)
            if self._matrix is None or self._matrix.shape[1] != vector.shape[0]:
                return []  # nothing stored yet, or vectors made by another encoder
            scores = self._matrix @ vector
            ids = self._ids
        top = np.argsort(-scores)[:k]
        return [SearchHit(ids[i], float(scores[i])) for i in top]
