"""Backfill: the per-article stages on an engine, then clustering in publication-date order."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from storyweave.backfill import LocalEngine, arrival_order, backfill, prepare_batch
from storyweave.cli import main
from storyweave.pipeline import Pipeline, prepare
from storyweave.records import Article, IngestError, RawDoc
from storyweave.store import open_store

from .test_store_contract import STORIES, TopicEncoder

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _docs() -> list[RawDoc]:
    """Articles of the contract suite's stories, listed newest first, some undated."""
    docs = []
    for topic, (key, lead) in enumerate(STORIES):
        for n in range(3):
            published = "" if n == 2 else (dt.date(2024, 3, 1) + dt.timedelta(days=topic - n)).isoformat()
            docs.append(RawDoc(origin=f"{key}-{n}.txt", text=f"{lead} Report {n + 1}.", title=key, published=published, language="en"))
    return docs[::-1]


def test_arrival_order_is_by_date_undated_last_ties_by_origin() -> None:
    def dated(origin: str, day: str) -> Article:
        return prepare(RawDoc(origin=origin, text="Kim Jong Un arrived in Vladivostok.", published=day, language="en"))

    items = [dated("b", ""), dated("z", "2024-03-02"), dated("a", ""), dated("y", "2024-03-02"), dated("x", "2024-03-03")]
    assert [a.origin for a in sorted(items, key=arrival_order)] == ["y", "z", "x", "a", "b"]


def test_prepare_batch_names_bad_documents_and_encodes_the_rest() -> None:
    docs = [RawDoc(origin="empty.txt", text="  "), *_docs()[:2]]
    results = prepare_batch(docs, TopicEncoder(), embed_chars=600)
    assert isinstance(results[0], IngestError) and results[0].origin == "empty.txt"
    assert all(isinstance(r, Article) and r.vector is not None for r in results[1:])


def test_local_backfill_makes_the_stories_of_a_sequential_run_in_date_order(tmp_path: Path) -> None:
    docs = _docs()
    store = open_store(str(tmp_path / "backfill.db"))
    report = backfill(docs, Pipeline(store, TopicEncoder()), LocalEngine(TopicEncoder()), batch_size=4)
    in_order = sorted(docs, key=lambda d: arrival_order(prepare(d)))
    assert [d.published for d in in_order][-len(STORIES) :] == [""] * len(STORIES)  # undated last
    sequential = open_store(str(tmp_path / "sequential.db"))
    expected = Pipeline(sequential, TopicEncoder(), batch_size=4).run(in_order)
    assert report.assignments == expected.assignments  # same order, decisions, scores and stories
    again = backfill(docs, Pipeline(store, TopicEncoder()), LocalEngine(TopicEncoder()), batch_size=4)
    assert again.added == 0 and again.already_stored == len(docs)


def _backfill_cli(db: Path, *args: str) -> tuple[int, list[tuple[str, list[str]]], str]:
    result = CliRunner().invoke(main, ["--db", str(db), "backfill", *args, "--json"], catch_exceptions=False)
    stories = open_store(str(db)).stories(with_articles=True)
    return result.exit_code, sorted((s.id, sorted(a.id for a in s.articles)) for s in stories), result.stderr


def test_backfill_command_reports_bad_items_and_stores_the_rest(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "kim.txt").write_text((EXAMPLES / "003_f7cad9d3d56ee8e4.txt").read_text(encoding="utf-8"))
    code, stories, err = _backfill_cli(tmp_path / "s.db", str(tmp_path / "in"))
    assert code == 1 and "empty.txt" in err
    assert len(stories) == 1


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: pip install 'storyweave[ray]'")
def test_ray_backfill_forms_the_sample_story_exactly_as_the_local_engine(tmp_path: Path) -> None:
    code, local, _ = _backfill_cli(tmp_path / "local.db", str(EXAMPLES))
    assert code == 0 and len(local) == 1 and len(local[0][1]) == 5
    code, on_ray, _ = _backfill_cli(tmp_path / "ray.db", str(EXAMPLES), "--engine", "ray", "--workers", "2", "--batch-size", "2")
    assert code == 0
    assert on_ray == local  # same story ids, same members
    vectors = {a.id: a.vector for s in open_store(str(tmp_path / "ray.db")).stories(with_articles=True) for a in s.articles}
    for article in open_store(str(tmp_path / "local.db")).stories(with_articles=True)[0].articles:
        # Encoded by the workers: one BLAS thread each against the local run's two, which can move
        # the last bits of a vector (see e5_engine.E5Engine.embed), nothing more.
        assert np.allclose(vectors[article.id], article.vector, rtol=0, atol=1e-6)
