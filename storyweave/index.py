"""Candidate search: which stories could a new article belong to?

Two indexes behind one interface, so the cost per article stays flat as the store grows:

- a dense index over story centroids, restricted to *active* stories (activity within
  :data:`ACTIVE_WINDOW_DAYS` of the newest date seen; undated stories stay active), searched
  exactly with one matrix product over that bounded set;
- an inverted index from cross-script name keys to the active stories that mention them.

Stories that fall out of the window stay in the store; they are only no longer candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["CandidateIndex"]

# Nearest stories by centroid that are scored in full for each article.
DENSE_CANDIDATES = 12
# Stories sharing a name key that are scored in full (most recently active first).
KEY_CANDIDATES = 12
# News stories rarely go quiet for a month and come back as the same story; a month also bounds
# the active set (and so the cost per article) whatever the size of the archive.
ACTIVE_WINDOW_DAYS = 30
# Keys shared by more active stories than this are too common to narrow the search.
KEY_POSTINGS_CAP = 200


class CandidateIndex:
    def __init__(self) -> None:
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._rows: dict[str, int] = {}
        self.ids: list[str] = []
        self._last_day = np.zeros(0, dtype=np.float64)  # NaN where the story is undated
        self._postings: dict[str, list[str]] = {}
        self._newest_day: int | None = None
        self._evicted: list[str] = []  # dropped since the last take_evicted()

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, story_id: str, centroid: np.ndarray, keys: Iterable[str], last_day: int | None) -> None:
        vec = np.asarray(centroid, dtype=np.float32).reshape(-1)
        if self._matrix.shape[1] != vec.shape[0]:
            if len(self.ids):
                raise ValueError("all story vectors must have the same dimension")
            self._matrix = np.zeros((0, vec.shape[0]), dtype=np.float32)
        row = self._rows.get(story_id)
        if row is None:
            row = len(self.ids)
            if row == self._matrix.shape[0]:  # grow geometrically: amortised O(1) per story
                capacity = max(16, row * 2)
                grown = np.zeros((capacity, vec.shape[0]), dtype=np.float32)
                grown[:row] = self._matrix[:row]
                self._matrix = grown
                days = np.full(capacity, np.nan)
                days[:row] = self._last_day[:row]
                self._last_day = days
            self._rows[story_id] = row
            self.ids.append(story_id)
        self._matrix[row] = vec
        self._last_day[row] = np.nan if last_day is None else last_day
        for key in keys:
            posting = self._postings.setdefault(key, [])
            if story_id in posting:
                posting.remove(story_id)
            posting.append(story_id)  # most recent last
            if len(posting) > KEY_POSTINGS_CAP:
                del posting[0]
        if last_day is not None and (self._newest_day is None or last_day > self._newest_day):
            self._newest_day = last_day
            self._evict()

    def remove(self, story_id: str) -> None:
        """Forget a story (merged into another). The last row moves into its place, so removal is
        O(1); its postings are skipped at query time and dropped at the next compaction."""
        row = self._rows.pop(story_id, None)
        if row is None:
            return
        last = len(self.ids) - 1
        if row != last:
            moved = self.ids[last]
            self._matrix[row] = self._matrix[last]
            self._last_day[row] = self._last_day[last]
            self.ids[row] = moved
            self._rows[moved] = row
        self.ids.pop()

    def _evict(self) -> None:
        """Drop stories idle for longer than the window (amortised: only when many are stale)."""
        assert self._newest_day is not None
        n = len(self.ids)
        stale = self._last_day[:n] < self._newest_day - ACTIVE_WINDOW_DAYS  # NaN compares False
        if int(stale.sum()) < max(64, n // 4):
            return
        keep = np.flatnonzero(~stale)
        self._evicted.extend(self.ids[i] for i in np.flatnonzero(stale))
        self._matrix = self._matrix[keep].copy()
        self._last_day = self._last_day[keep].copy()
        self.ids = [self.ids[i] for i in keep]
        self._rows = {story_id: row for row, story_id in enumerate(self.ids)}
        for key in list(self._postings):
            alive = [s for s in self._postings[key] if s in self._rows]
            if alive:
                self._postings[key] = alive
            else:
                del self._postings[key]

    def take_evicted(self) -> list[str]:
        """The stories that fell out of the window since the last call, so that their owner can
        forget them too (they stay in the store)."""
        evicted, self._evicted = self._evicted, []
        return evicted

    def candidates(self, vector: np.ndarray, keys: Iterable[str], day: int | None) -> list[str]:
        """Active stories near the vector, plus those sharing a name key; nearest first."""
        found: dict[str, None] = {}
        n = len(self.ids)
        if n:
            sims = self._matrix[:n] @ np.asarray(vector, dtype=np.float32)
            if day is not None:
                sims[self._last_day[:n] < day - ACTIVE_WINDOW_DAYS] = -np.inf
            k = min(DENSE_CANDIDATES, n)
            top = np.argpartition(-sims, k - 1)[:k]
            for row in top[np.argsort(-sims[top])]:
                if np.isfinite(sims[row]):
                    found[self.ids[row]] = None
        for key in keys:
            live = [s for s in self._postings.get(key, []) if s in self._rows]
            for story_id in live[-KEY_CANDIDATES:]:
                found[story_id] = None
        return list(found)
