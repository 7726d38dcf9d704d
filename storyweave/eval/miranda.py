"""Loader for the multilingual news stream-clustering corpus of Miranda et al. (EMNLP 2018),
as Priberam distributes it for its news-clustering re-implementation.

``dataset.{dev,test}.json`` is one JSON list of articles, each an object with at least ``id``,
``date`` (``YYYY-MM-DD HH:MM:SS``), ``lang`` (``eng``, ``spa``, ``deu``), ``title``, ``text`` and
``cluster`` (the gold story). The companion ``clustering.{dev,test}.json`` holds only the
precomputed token and entity features of Priberam's own model (JSON lines of ``id`` and
``features``), no labels, so it is not read here: storyweave computes its own features.

Published reference (Priberam's re-implementation, test set, standard clustering F1):
en 0.940, es 0.968, de 0.972. Those scores are per language, so ``group`` is the language.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from storyweave.eval.ecbplus import LabelledDoc
from storyweave.records import RawDoc

__all__ = ["load_miranda"]

# The corpus names languages by ISO 639-2 code; the pipeline speaks ISO 639-1.
_ISO_639_1 = {"eng": "en", "spa": "es", "deu": "de", "ger": "de"}

_REQUIRED = ("id", "date", "lang", "text", "cluster")


def _language(code: str) -> str:
    return _ISO_639_1.get(code.lower(), code.lower())


def _document(path: Path, index: int, item: Any) -> LabelledDoc:
    if not isinstance(item, dict):
        raise ValueError(f"{path}: item {index} is not an object")
    missing = [k for k in _REQUIRED if k not in item]
    if missing:
        raise ValueError(f"{path}: item {index} has no {', '.join(missing)}")
    language = _language(str(item["lang"]))
    source = item.get("source")
    if isinstance(source, dict):  # Priberam's other corpora nest it as {"title": ...}
        source = source.get("title")
    doc = RawDoc(
        origin=f"{path}#{item['id']}",
        text=str(item["text"]),
        title=str(item.get("title") or ""),
        url=str(item.get("url") or ""),
        source=source if isinstance(source, str) else "",
        published=str(item["date"]),
        language=language,
    )
    return LabelledDoc(doc=doc, gold=str(item["cluster"]), group=language)


def load_miranda(dataset_path: str | Path, *, languages: Collection[str] | None = None) -> list[LabelledDoc]:
    """The articles of a ``dataset.*.json`` file in stream order (by date, then id, as the
    reference implementation feeds them), optionally only those in ``languages`` (ISO 639-1 or
    the corpus's own 639-2 codes).

    Gold stories are the ``cluster`` field. ``published`` is the ``date`` field as written;
    ``origin`` is ``<file>#<id>``.
    """
    path = Path(dataset_path)
    with path.open(encoding="utf-8", errors="replace") as handle:
        items = json.load(handle)
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of articles")
    wanted = None if languages is None else {_language(code) for code in languages}
    docs = [_document(path, i, item) for i, item in enumerate(items)]
    if wanted is not None:
        docs = [d for d in docs if d.doc.language in wanted]
    # ISO timestamps sort as text; ids break ties so the order does not depend on the file's.
    docs.sort(key=lambda d: (d.doc.published, d.doc.origin))
    return docs
