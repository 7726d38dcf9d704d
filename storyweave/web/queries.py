"""Reads the pages need and the store's methods do not make: filtered story lists, story cards
without article bodies, collection counts, entity look-ups, near duplicates.

They are plain SELECTs on the store's own tables (``SQLiteStore._db``), kept here rather than in the
store because only the web pages need their shapes. A story card reads its members' short fields
only: ``store.story()`` loads every body and vector, far too much for a page of twenty stories
with thousands of articles each.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..records import DatePrecision, PublishedDate
from ..store.codec import vector_from_bytes

__all__ = [
    "StoryFilter",
    "analyses_with_entity",
    "article_refs",
    "entity_key",
    "first_line",
    "language_counts",
    "list_stories",
    "near_duplicates",
    "stories_mentioning",
    "story_cards",
]

# An untitled article is named by its first line, cut here; a story without any titled article
# by the first line of its first article.
FALLBACK_TITLE_CHARS = 120
# Characters of a body read to find its first line (a body may open with blank lines).
LEAD_READ_CHARS = 400
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
        key = None if self.entity is None else entity_key(self.entity)
        return {
            "language": self.language,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "entity": self.entity,
            "key_json": None if key is None else json.dumps(key),
        }


def entity_key(entity_id: str) -> str | None:
    """The cross-script name key an entity id was made from; None if it is not an entity id."""
    match = ENTITY_ID.fullmatch(entity_id)
    if match is None:
        return None
    return _NUMBERED.sub("", match.group(1)).replace("_", " ")


# Stories that name the entity: by the name keys stored with each article (every story, analysed
# or not) or by an analysis that lists the entity (gazetteer entities whose canonical key no
# article spells).
_ENTITY_STORIES = """
    SELECT story_id FROM articles WHERE instr(name_keys, :key_json) > 0
    UNION
    SELECT story_id FROM story_analysis
    WHERE EXISTS (SELECT 1 FROM json_each(analysis, '$.entities') e WHERE json_extract(e.value, '$.id') = :entity)
"""

_FILTERED_STORIES = f"""
    SELECT story_id, MAX(seq) AS last_seq FROM articles
    WHERE :entity IS NULL OR story_id IN ({_ENTITY_STORIES})
    GROUP BY story_id
    HAVING (:language IS NULL OR SUM(language = :language) > 0)
       AND (:since IS NULL OR MAX(published) >= :since)
       AND (:until IS NULL OR MIN(published) <= :until)
"""


def list_stories(db: sqlite3.Connection, filters: StoryFilter, limit: int, offset: int) -> tuple[list[str], int]:
    """One page of story ids, newest activity first, and how many stories pass the filters."""
    params = filters.params()
    total = int(db.execute(f"SELECT COUNT(*) FROM ({_FILTERED_STORIES})", params).fetchone()[0])
    rows = db.execute(
        f"{_FILTERED_STORIES} ORDER BY last_seq DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": limit, "offset": offset},
    ).fetchall()
    return [str(r["story_id"]) for r in rows], total


def first_line(text: str) -> str:
    """The first non-blank line of a text, cut at FALLBACK_TITLE_CHARS."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:FALLBACK_TITLE_CHARS]


def _published(row: sqlite3.Row) -> PublishedDate:
    value = dt.date.fromisoformat(row["published"]) if row["published"] else None
    return PublishedDate(value, DatePrecision(row["published_precision"]))


def _title(members: Sequence[sqlite3.Row], reader_language: str) -> str:
    """The story's title as the reader should see it: from the earliest-ingested titled article
    in the reader's language, else from the earliest-ingested titled article (the store's choice),
    else the first line of the first article."""
    titled = sorted((m for m in members if m["title"]), key=lambda m: m["ingested_at"])
    preferred = [m for m in titled if m["language"] == reader_language]
    if preferred or titled:
        return str((preferred or titled)[0]["title"])
    return first_line(members[0]["lead"]) if members else ""


def story_cards(db: sqlite3.Connection, story_ids: Sequence[str], reader_language: str) -> list[dict[str, Any]]:
    """What a list shows of each story, in the order of ``story_ids`` (unknown ids left out)."""
    if not story_ids:
        return []
    marks = ",".join("?" * len(story_ids))
    members: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in db.execute(
        "SELECT story_id, language, source, title, substr(body, 1, ?) AS lead, published, published_precision,"
        f" ingested_at, duplicate_of FROM articles WHERE story_id IN ({marks})"
        " ORDER BY published IS NULL, published, seq",
        (LEAD_READ_CHARS, *story_ids),
    ):
        members[row["story_id"]].append(row)
    updated = {
        r["id"]: r["updated_at"]
        for r in db.execute(f"SELECT id, updated_at FROM stories WHERE id IN ({marks})", tuple(story_ids))
    }
    cards = []
    for story_id in story_ids:
        rows = members.get(story_id)
        if not rows or story_id not in updated:
            continue
        dates = [str(_published(r)) for r in rows if r["published"]]
        cards.append(
            {
                "id": story_id,
                "title": _title(rows, reader_language),
                "size": sum(1 for r in rows if r["duplicate_of"] is None),
                "languages": sorted({r["language"] for r in rows}),
                "sources": sorted({r["source"] for r in rows if r["source"]}),
                "first_published": min(dates) if dates else None,
                "last_published": max(dates) if dates else None,
                "updated_at": updated[story_id],
            }
        )
    return cards


def language_counts(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Original articles per language across the whole collection, most first."""
    rows = db.execute(
        "SELECT language, COUNT(*) AS n FROM articles WHERE duplicate_of IS NULL GROUP BY language ORDER BY n DESC, language"
    )
    return [{"language": r["language"], "articles": int(r["n"])} for r in rows]


def article_refs(db: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Short descriptions of the articles a WHERE clause selects."""
    rows = db.execute(
        "SELECT id, story_id, title, substr(body, 1, ?) AS lead, language, source, url, published,"
        f" published_precision FROM articles WHERE {where}",
        (LEAD_READ_CHARS, *params),
    )
    return [
        {
            "id": r["id"],
            "story_id": r["story_id"],
            "title": r["title"] or first_line(r["lead"]),
            "language": r["language"],
            "source": r["source"],
            "url": r["url"],
            "published": str(_published(r)) if r["published"] else None,
        }
        for r in rows
    ]


def analyses_with_entity(db: sqlite3.Connection, entity_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(story id, version, analysis) of the stored analyses that list the entity."""
    rows = db.execute(
        "SELECT story_id, version, analysis FROM story_analysis WHERE EXISTS (SELECT 1 FROM json_each(analysis,"
        " '$.entities') e WHERE json_extract(e.value, '$.id') = ?) LIMIT ?",
        (entity_id, MAX_ENTITY_STORIES),
    )
    return [(r["story_id"], r["version"], json.loads(r["analysis"])) for r in rows]


def stories_mentioning(db: sqlite3.Connection, key: str) -> list[str]:
    """Stories with an article that names the key, newest activity first."""
    rows = db.execute(
        "SELECT story_id FROM articles WHERE instr(name_keys, ?) > 0 GROUP BY story_id ORDER BY MAX(seq) DESC LIMIT ?",
        (json.dumps(key), MAX_ENTITY_STORIES),
    )
    return [str(r[0]) for r in rows]


def near_duplicates(db: sqlite3.Connection, article_id: str) -> list[dict[str, Any]]:
    """The article's syndicated copies or original ("copy"/"original"), then the articles of its
    story nearest to it in meaning ("similar", with their cosine similarity)."""
    row = db.execute("SELECT id, story_id, duplicate_of, vector FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        return []
    original = row["duplicate_of"] or row["id"]
    out = [
        {**ref, "relation": "original" if ref["id"] == original else "copy", "similarity": None}
        for ref in article_refs(db, "(id = ? OR duplicate_of = ?) AND id != ?", (original, original, article_id))
    ]
    vector = vector_from_bytes(row["vector"])
    if vector is None and row["duplicate_of"]:  # copies are not embedded: their original's vector
        found = db.execute("SELECT vector FROM articles WHERE id = ?", (original,)).fetchone()
        vector = None if found is None else vector_from_bytes(found["vector"])
    if vector is None:
        return out
    candidates = db.execute(
        "SELECT id, vector FROM articles WHERE story_id = ? AND vector IS NOT NULL AND id NOT IN (?, ?)"
        " ORDER BY seq DESC LIMIT ?",
        (row["story_id"], article_id, original, MAX_NEIGHBOUR_CANDIDATES),
    ).fetchall()
    if not candidates:
        return out
    matrix = np.stack([v for v in (vector_from_bytes(c["vector"]) for c in candidates) if v is not None])
    scores = matrix @ vector
    best = {candidates[i]["id"]: float(scores[i]) for i in np.argsort(-scores)[:NEAREST_IN_STORY]}
    marks = ",".join("?" * len(best))
    refs = {ref["id"]: ref for ref in article_refs(db, f"id IN ({marks})", tuple(best))}
    out += [{**refs[i], "relation": "similar", "similarity": round(s, 4)} for i, s in best.items() if i in refs]
    return out
