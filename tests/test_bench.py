"""The replayed streams behind `storyweave bench`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from storyweave.bench import REPLAY_SHIFT_DAYS, ReplayEncoder, replay_stream, warm_cache
from storyweave.encode import CachedEncoder
from storyweave.pipeline import Pipeline
from storyweave.records import RawDoc
from storyweave.store import open_store


class Recorder:
    name = "recorder"
    dim = 2

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.ones((len(texts), 2), dtype=np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


def test_replays_are_new_articles_later_in_time() -> None:
    base = [RawDoc("a.txt", "Alpha text.", published="2020-01-01"), RawDoc("b.txt", "Beta text.")]
    stream = list(replay_stream(base, 5))
    assert [d.origin for d in stream] == ["a.txt", "b.txt", "a.txt@replay1", "b.txt@replay1", "a.txt@replay2"]
    assert stream[2].text.startswith("Alpha text.") and stream[2].text != base[0].text
    assert stream[2].published == f"2020-{1 + REPLAY_SHIFT_DAYS // 31:02d}-{1 + REPLAY_SHIFT_DAYS % 31:02d}"
    assert stream[3].published == ""  # undated stays undated


def test_replayed_texts_are_embedded_as_their_originals() -> None:
    inner = Recorder()
    ReplayEncoder(inner).encode(["Alpha text.\n\n(replay 3)", "Beta text."])
    assert inner.seen == ["Alpha text.", "Beta text."]


def test_warmed_cache_leaves_the_timed_run_nothing_to_embed(tmp_path: Path) -> None:
    """The bench measures the stages around the encoder: after the warm-up, the replayed stream
    (originals and replays) is served from the cache, and a bad text is skipped, not fatal."""
    base = [
        RawDoc("a.txt", "Storm floods the coast of Kerala.\nHundreds of families left their homes.", published="2020-01-01"),
        RawDoc("b.txt", "Parliament passes the budget after a long night of debate.", published="2020-01-02"),
    ]
    inner = Recorder()
    pipeline = Pipeline(open_store(str(tmp_path / "bench.db")), ReplayEncoder(CachedEncoder(inner, tmp_path / "cache")))
    warm_cache(pipeline, [*base, RawDoc("empty.txt", "   ")])
    assert len(inner.seen) == 2
    inner.seen.clear()
    report = pipeline.run(replay_stream(base, 6))
    assert inner.seen == []
    assert report.added == 6
