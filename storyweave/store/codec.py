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
    "calibration_from_json",
    "calibration_to_json",
    "clusterer_from_rows",
    "state_from_json",
    "state_to_json",
    "story_from_members",
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


def calibration_to_json(calibration: Calibration) -> str:
    languages = {
        lang: {"count": calibration.language_counts[lang], "sum": base64.b64encode(total.tobytes()).decode("ascii")}
        for lang, total in calibration.language_sums.items()
    }
    return json.dumps({"histograms": calibration.histograms, "languages": languages}, separators=(",", ":"))


def calibration_from_json(text: str) -> Calibration:
    doc = json.loads(text)
    if not isinstance(doc.get("histograms"), dict):
        doc = {"histograms": doc, "languages": {}}  # stored before language means were learnt
    languages = doc["languages"]
    return Calibration(
        histograms={k: [int(c) for c in v] for k, v in doc["histograms"].items()},
        language_sums={lang: np.frombuffer(base64.b64decode(v["sum"]), dtype=np.float64).copy() for lang, v in languages.items()},
        language_counts={lang: int(v["count"]) for lang, v in languages.items()},
    )


# --- What both stores build from their rows (the SQL differs; the records do not) ---------------


def clusterer_from_rows(
    values: Mapping[str, str], counts: dict[str, int], states: Iterable[StoryState]
) -> Clusterer:
    """A clusterer from the stored key/values (documents, calibration), term counts and states."""
    frequencies = DocumentFrequencies(counts, int(values.get("documents", "0")))
    calibration = calibration_from_json(values["calibration"]) if "calibration" in values else None
    return Clusterer(states, calibration, frequencies)


def apply_changes(
    clusterer: Clusterer,
    states: Iterable[StoryState],
    merged_away: Iterable[str],
    counts: Iterable[tuple[str, int]],
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
    if "calibration" in values:
        clusterer.calibration = calibration_from_json(values["calibration"])


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
