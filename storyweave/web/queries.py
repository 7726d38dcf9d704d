"""What the pages show of the store's data: story cards, article references, near duplicates,
the filters of ``/stories``, entity ids.

The reads themselves are the store's methods (storyweave/store/sql.py), the same SQL on SQLite and
PostgreSQL; this module shapes what they return into the pages' (and the API's) records. A story
card is made from briefs of its members (short fields only): ``store.story()`` loads every body
and vector, far too much for a page of twenty stories with thousands of articles each.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..records import DatePrecision, PublishedDate
from ..store import ArticleBrief, Store

__all__ = [
    "StoryFilter",
    "article_refs",
    "entity_key",
    "first_line",
    "language_counts",
    "list_stories",
    "near_duplicates",
    "story_cards",
]

# An untitled article is named by its first line, cut here; a story without any titled article
# by the first line of its first article.
FALLBACK_TITLE_CHARS = 120
# Entity ids are "e_" and the cross-script key with spaces as underscores ("e_km_jng_n"); a
# second entity of one story with the same key gets "_2" (storyweave.analyse.entities).
ENTITY_ID = re.compile(r"e_([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)")
_NUMBERED = re.compile(r"_\d+$")
# Stories an entity page lists at most (most recent activity first).
MAX_ENTITY_STORIES = 100
# Articles of one story compared with an article for the "nearest in this story" list.
MAX_NEIGHBOUR_CANDIDATES = 500
NEAREST_IN_STORY = 3


@dataclass(frozen=True, slots=True)
class StoryFilter:
    """The filters of ``/stories``; None: not filtered."""

    language: str | None = None
    since: dt.date | None = None  # stories with an article published on or after this day
    until: dt.date | None = None  # stories with an article published on or before this day
    entity: str | None = None  # an entity id

    def params(self) -> dict[str, Any]:
        """The filters as the page shows them (dates as ISO text)."""
        return {
            "language": self.language,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "entity": self.entity,
        }


def entity_key(entity_id: str) -> str | None:
    """The cross-script name key an entity id was made from; None if it is not an entity id."""
    match = ENTITY_ID.fullmatch(entity_id)
    if match is None:
        return None
    return _NUMBERED.sub("", match.group(1)).replace("_", " ")


def list_stories(store: Store, filters: StoryFilter, limit: int, offset: int) -> tuple[list[str], int]:
    """One page of story ids, newest activity first, and how many stories pass the filters.
    Stories name an entity by the name keys stored with each article (every story, analysed or
    not) or by an analysis that lists the entity (gazetteer entities whose canonical key no
    article spells)."""
    return store.find_stories(
        language=filters.language,
        since=filters.since,
        until=filters.until,
        entity=filters.entity,
        key=None if filters.entity is None else entity_key(filters.entity),
        limit=limit,
        offset=offset,
    )


def first_line(text: str) -> str:
    """The first non-blank line of a text, cut at FALLBACK_TITLE_CHARS."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:FALLBACK_TITLE_CHARS]


def _published(brief: ArticleBrief) -> str | None:
    value = brief["published"]
    return None if value is None else str(PublishedDate(value, DatePrecision(brief["published_precision"])))


def _title(members: Sequence[ArticleBrief], reader_language: str) -> str:
    """The story's title as the reader should see it: from the earliest-ingested titled article
    in the reader's language, else from the earliest-ingested titled article (the store's choice),
    else the first line of the first article."""
    titled = sorted((m for m in members if m["title"]), key=lambda m: m["ingested_at"])
    preferred = [m for m in titled if m["language"] == reader_language]
    if preferred or titled:
        return (preferred or titled)[0]["title"]
    return first_line(members[0]["lead"]) if members else ""


def story_cards(store: Store, story_ids: Sequence[str], reader_language: str) -> list[dict[str, Any]]:
    """What a list shows of each story, in the order of ``story_ids`` (unknown ids left out)."""
    found = store.story_members(story_ids)
    cards = []
    for story_id in story_ids:
        if story_id not in found:
            continue
        updated, rows = found[story_id]
        dates = [d for d in map(_published, rows) if d is not None]
        cards.append(
            {
                "id": story_id,
                "title": _title(rows, reader_language),
                "size": sum(1 for r in rows if r["duplicate_of"] is None),
                "languages": sorted({r["language"] for r in rows}),
                "sources": sorted({r["source"] for r in rows if r["source"]}),
                "first_published": min(dates) if dates else None,
                "last_published": max(dates) if dates else None,
                "updated_at": updated.isoformat(timespec="seconds"),
            }
        )
    return cards


def language_counts(store: Store) -> list[dict[str, Any]]:
    """Original articles per language across the whole collection, most first."""
    return [{"language": language, "articles": count} for language, count in store.language_counts()]


def article_refs(briefs: Sequence[ArticleBrief]) -> list[dict[str, Any]]:
    """Short descriptions of articles, as lists and search results show them."""
    return [
        {
            "id": r["id"],
            "story_id": r["story_id"],
            "title": r["title"] or first_line(r["lead"]),
            "language": r["language"],
            "source": r["source"],
            "url": r["url"],
            "published": _published(r),
        }
        for r in briefs
    ]


def near_duplicates(store: Store, article_id: str) -> list[dict[str, Any]]:
    """The article's syndicated copies or original ("copy"/"original"), then the articles of its
    story nearest to it in meaning ("similar", with their cosine similarity)."""
    copies = store.article_copies(article_id)
    out = [
        {**ref, "relation": "copy" if brief["duplicate_of"] else "original", "similarity": None}
        for brief, ref in zip(copies, article_refs(copies))
    ]
    vector, candidates = store.neighbour_vectors(article_id, MAX_NEIGHBOUR_CANDIDATES)
    if vector is None or not candidates:
        return out
    scores = np.stack([v for _, v in candidates]) @ vector
    best = {candidates[i][0]: float(scores[i]) for i in np.argsort(-scores)[:NEAREST_IN_STORY]}
    refs = {ref["id"]: ref for ref in article_refs(store.article_briefs(list(best)))}
    out += [{**refs[i], "relation": "similar", "similarity": round(s, 4)} for i, s in best.items() if i in refs]
    return out
