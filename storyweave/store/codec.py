"""Serialising the clusterer's state for any store: compact, versionless JSON plus raw floats."""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import numpy as np

from ..cluster import Calibration, StoryState

__all__ = ["calibration_from_json", "calibration_to_json", "state_from_json", "state_to_json", "vector_from_bytes"]


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
        first_day=doc["first_day"],
        last_day=doc["last_day"],
    )


def calibration_to_json(calibration: Calibration) -> str:
    return json.dumps(calibration.histograms, separators=(",", ":"))


def calibration_from_json(text: str) -> Calibration:
    return Calibration({k: [int(c) for c in v] for k, v in json.loads(text).items()})
