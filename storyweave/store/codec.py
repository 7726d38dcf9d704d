"""Serialising the clusterer's state for any store: compact, versionless JSON plus raw floats."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..cluster import Calibration, Clusterer, DocumentFrequencies, StoryState
from ..records import Article, Story

__all__ = [
    "apply_changes",
    "calibration_changes",
    "clusterer_from_rows",
    "state_from_json",
    "state_to_json",
    "story_from_members",
    "update_calibration",
    "vector_from_bytes",
]


def _vec_to_text(vec: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vec, dtype=np.float32).tobytes()).decode("ascii")


def _vec_from_text(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32).copy()


def vector_from_bytes(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()


def state_to_json(state: StoryState) -> str:
    doc: dict[str, Any] = {
        "created": state.created,
        "size": state.size,
        "vectors": {lang: _vec_to_text(v) for lang, v in state.vector_sums.items()},
        "counts": state.vector_counts,
        "terms": {lang: dict(bag) for lang, bag in state.terms.items()},
        "keys": dict(state.keys),
        "numbers": dict(state.numbers),
        "first_day": state.first_day,
        "last_day": state.last_day,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def state_from_json(story_id: str, text: str) -> StoryState:
    doc = json.loads(text)
    return StoryState(
        id=story_id,
        created=int(doc["created"]),
        size=int(doc["size"]),
        vector_sums={lang: _vec_from_text(v) for lang, v in doc["vectors"].items()},
        vector_counts={lang: int(c) for lang, c in doc["counts"].items()},
        terms={lang: Counter(bag) for lang, bag in doc["terms"].items()},
        keys=Counter(doc["keys"]),
        numbers=Counter(doc.get("numbers", {})),  # absent from states stored before numbers counted
        first_day=doc["first_day"],
        last_day=doc["last_day"],
    )


# A calibration is stored one row per histogram and per language mean, so a save writes what the
# article changed (a few rows) however many language pairs the stream has seen.
HISTOGRAM_ROW = "histogram:"
LANGUAGE_ROW = "language:"


def calibration_changes(calibration: Calibration) -> list[tuple[str, str]]:
    """The (key, value) rows of what changed in *calibration* since the last call."""
    histograms, languages = calibration.pending()
    rows = [(HISTOGRAM_ROW + key, json.dumps(calibration.histograms[key], separators=(",", ":"))) for key in histograms]
    for lang in languages:
        total = base64.b64encode(calibration.language_sums[lang].tobytes()).decode("ascii")
        rows.append((LANGUAGE_ROW + lang, json.dumps({"count": calibration.language_counts[lang], "sum": total})))
    return rows


def update_calibration(calibration: Calibration, rows: Iterable[tuple[str, str]]) -> None:
    """Take stored calibration rows into *calibration* (loading, or another writer's changes)."""
    histograms: dict[str, list[int]] = {}
    languages: dict[str, tuple[int, np.ndarray]] = {}
    for key, value in rows:
        doc = json.loads(value)
        if key.startswith(HISTOGRAM_ROW):
            histograms[key.removeprefix(HISTOGRAM_ROW)] = [int(c) for c in doc]
        else:
            total = np.frombuffer(base64.b64decode(doc["sum"]), dtype=np.float64).copy()
            languages[key.removeprefix(LANGUAGE_ROW)] = (int(doc["count"]), total)
    calibration.update(histograms, languages)


# --- What both stores build from their rows (the SQL differs; the records do not) ---------------


def clusterer_from_rows(
    values: Mapping[str, str],
    counts: dict[str, int],
    calibration_rows: Iterable[tuple[str, str]],
    states: Iterable[StoryState],
) -> Clusterer:
    """A clusterer from the stored key/values (the document count), term counts, calibration
    rows and states."""
    frequencies = DocumentFrequencies(counts, int(values.get("documents", "0")))
    calibration = Calibration()
    update_calibration(calibration, calibration_rows)
    return Clusterer(states, calibration, frequencies)


def apply_changes(
    clusterer: Clusterer,
    states: Iterable[StoryState],
    merged_away: Iterable[str],
    counts: Iterable[tuple[str, int]],
    calibration_rows: Iterable[tuple[str, str]],
    values: Mapping[str, str],
) -> None:
    """Bring a clusterer up to date with what other writers stored: their new and changed
    stories, the stories they merged away, the document frequencies and the calibration."""
    for state in states:
        clusterer.states[state.id] = state
        clusterer.index.upsert(state.id, state.centroid(), state.keys, state.last_day)
    for alias in merged_away:
        clusterer.states.pop(alias, None)
        clusterer.index.remove(alias)
    for term, documents in counts:
        clusterer.frequencies.counts[term] = int(documents)
    clusterer.frequencies.documents = int(values.get("documents", "0"))
    update_calibration(clusterer.calibration, calibration_rows)


def story_from_members(
    story_id: str,
    members: list[Article],
    created: dt.datetime,
    updated: dt.datetime,
    merged: list[str],
    with_articles: bool,
) -> Story:
    """The Story record: size counts originals (syndicated copies add no information), the title
    is the earliest-ingested article's title, else the first line of the first body."""
    originals = [a for a in members if a.duplicate_of is None]
    dates = [str(a.published) for a in members if a.published.value is not None]
    titled = next((a for a in sorted(members, key=lambda a: a.ingested_at) if a.title), None)
    title = titled.title if titled else (members[0].body.split("\n", 1)[0][:120] if members else "")
    return Story(
        id=story_id,
        title=title,
        size=len(originals),
        languages=sorted({a.language for a in members}),
        first_published=min(dates) if dates else None,
        last_published=max(dates) if dates else None,
        created_at=created,
        updated_at=updated,
        merged_ids=merged,
        articles=members if with_articles else [],
    )
