"""One suite, every store: SQLite and PostgreSQL must behave the same, concurrent writers included."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import random
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from storyweave.pipeline import Pipeline
from storyweave.records import Assignment, RawDoc
from storyweave.store import open_store
from storyweave.store import sqlite as sqlite_store

from .helpers import DIM, article, unit
from .pg import postgres_server, postgres_url  # noqa: F401  (fixtures)

DAY = dt.date(2024, 3, 1)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind, as the URL the `db` setting would hold."""
    if request.param == "sqlite":
        return str(tmp_path / "s.db")
    return str(request.getfixturevalue("postgres_url"))


def _fill(db: str, count: int) -> list[str]:
    """``count`` articles in three topics, one writer, one process; their story ids."""
    store = open_store(db)
    clusterer = store.load_clusterer()
    ids = []
    for i in range(count):
        group = i % 3
        a = article(
            f"a{i}", unit(i, noise_from=group, noise=0.1), day=DAY, keys=(f"k{group}",),
            body=f"topic{group}alpha topic{group}beta report{i}",
        )
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
        ids.append(assignment.story_id)
    store.close()
    return ids


def test_schema_is_migrated_once_and_numbered_alike(db: str) -> None:
    # Version N is the same schema on every store, so the numbers must match SQLite's.
    assert open_store(db).schema_version == len(sqlite_store.MIGRATIONS)
    assert open_store(db).schema_version == len(sqlite_store.MIGRATIONS)


def test_restart_continues_with_the_same_stories(db: str) -> None:
    first = _fill(db, 6)
    store = open_store(db)
    clusterer = store.load_clusterer()  # a new process: state comes from the store alone
    later = article("late", unit(99, noise_from=1, noise=0.1), day=DAY, keys=("k1",), body="topic1alpha topic1beta")
    assignment, _ = clusterer.assign(later)
    assert assignment.story_id == first[1]
    assert {s.id for s in store.stories()} == set(first)


def test_a_failed_write_leaves_no_half_written_story(db: str) -> None:
    _fill(db, 3)
    store = open_store(db)
    before = {s.id: s.size for s in store.stories()}
    clusterer = store.load_clusterer()
    doomed = article("doomed", -unit(0), day=DAY)
    clusterer.assign(doomed)
    broken = Assignment(doomed.id, "no-such-story", "join", 1.0)  # violates the foreign key
    with pytest.raises(Exception):
        store.save(doomed, broken, clusterer, None)
    store.close()
    reopened = open_store(db)
    assert {s.id: s.size for s in reopened.stories()} == before
    assert reopened.known_ids(["doomed"]) == set()


def test_story_lookup_by_prefix_members_and_versions(db: str) -> None:
    ids = _fill(db, 6)
    store = open_store(db)
    story = store.story(ids[0])
    assert story is not None and story.id == ids[0] and story.size == 2
    assert [a.id for a in story.articles] == ["a0", "a3"]
    assert story.articles[0].published.value == DAY and story.articles[0].name_keys == ("k0",)
    assert np.allclose(story.articles[0].vector, unit(0, noise_from=0, noise=0.1))
    assert store.story("st_a") is None  # an ambiguous prefix names no story
    assert store.story("nope") is None
    assert store.resolve(ids[1][:5]) == ids[1]
    assert store.story_of("a4") == ids[1] and store.story_of("zz") is None
    assert store.article_count() == 6 and store.known_ids(["a1", "zz"]) == {"a1"}
    assert store.find_fingerprint("a2") == ("a2", ids[2])
    found = store.article("a4")
    assert found is not None and found.body == "topic1alpha topic1beta report4" and found.name_keys == ("k1",)
    assert store.article("zz") is None
    version = store.story_version(ids[0])
    store.save_analysis(ids[0], version, {"summary": {"mode": "extractive"}, "claims": []})
    assert store.analysis(ids[0], version) == {"summary": {"mode": "extractive"}, "claims": []}
    assert store.analysis(ids[0], "0:0") is None
    assert [s.id for s in store.stories(limit=2)] == [ids[5], ids[4]]  # newest activity first
    assert [s.id for s in store.stories(limit=1, offset=2)] == [ids[3]]
    copy = article("copy", None, day=DAY, fingerprint="a0", body="topic0alpha topic0beta report0")
    copy.duplicate_of = "a0"
    store.save(copy, Assignment("copy", ids[0], "duplicate", 1.0), store.load_clusterer(), None)
    assert store.story_version(ids[0]) == version  # a syndicated copy leaves the analysis current


def test_a_merge_moves_articles_and_keeps_the_old_id_resolvable(db: str) -> None:
    ids = _fill(db, 3)  # three one-article stories
    store = open_store(db)
    clusterer = store.load_clusterer()
    newcomer = article("n", unit(7, noise_from=0, noise=0.1), day=DAY, keys=("k0",), body="topic0alpha topic0beta")
    survivor, absorbed = ids[0], ids[1]
    state = clusterer.states[survivor]
    store.save(newcomer, Assignment("n", survivor, "join", 1.0, (absorbed,)), clusterer, state)
    story = store.story(absorbed)  # the absorbed id still finds the story it went into
    assert story is not None and story.id == survivor
    assert story.merged_ids == [absorbed]
    assert {a.id for a in story.articles} == {"a0", "a1", "n"}
    assert absorbed not in {s.id for s in store.stories()}


def test_re_ingest_of_a_stored_article_writes_nothing(db: str) -> None:
    ids = _fill(db, 3)
    store = open_store(db)
    clusterer = store.load_clusterer()
    again = article("a0", unit(0, noise_from=0, noise=0.1), day=DAY, keys=("k0",), body="topic0alpha topic0beta report0")
    state = clusterer.states[ids[0]]
    state.add(again, {})  # as a writer that missed the first copy would have it
    store.save(again, Assignment("a0", ids[0], "join", 1.0), clusterer, state)
    assert store.article_count() == 3
    assert open_store(db).load_clusterer().states[ids[0]].size == 1


def test_full_text_search(db: str) -> None:
    store = open_store(db)
    clusterer = store.load_clusterer()
    bodies = {
        "x1": "Kim Jong Un arrived in Vladivostok by armoured train",
        "x2": "The armoured train left Pyongyang on Sunday",
        "x3": "وصل كيم جونغ أون إلى فلاديفوستوك",
    }
    for i, (ident, body) in enumerate(bodies.items()):
        a = article(ident, unit(10 + i), day=DAY, body=body)
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    assert sorted(store.search_text("armoured train")) == ["x1", "x2"]
    assert store.search_text("Vladivostok train") == ["x1"]  # every word must occur
    assert store.search_text("فلاديفوستوك") == ["x3"]
    assert len(store.search_text("train", limit=1)) == 1
    assert store.search_text('"Kim" OR) (') == []  # punctuation is text, never query syntax


def test_refresh_brings_in_another_writers_stories_and_merges(db: str) -> None:
    _fill(db, 1)
    mine, theirs = open_store(db), open_store(db)
    clusterer = mine.load_clusterer()
    other = theirs.load_clusterer()
    for i in (1, 2):
        a = article(f"a{i}", unit(i, noise_from=i, noise=0.1), day=DAY, keys=(f"k{i}",), body=f"topic{i}alpha")
        assignment, state = other.assign(a)
        theirs.save(a, assignment, other, state)
    mine.refresh(clusterer)
    assert set(clusterer.states) == {"st_a0", "st_a1", "st_a2"}
    assert clusterer.states["st_a0"].created < clusterer.states["st_a1"].created < clusterer.states["st_a2"].created
    assert clusterer.frequencies.documents == other.frequencies.documents
    assert clusterer.frequencies.counts == other.frequencies.counts
    merger = article("m", unit(5, noise_from=1, noise=0.1), day=DAY, keys=("k1",), body="topic1alpha")
    theirs.save(merger, Assignment("m", "st_a1", "join", 1.0, ("st_a2",)), other, other.states["st_a1"])
    mine.refresh(clusterer)
    assert set(clusterer.states) == {"st_a0", "st_a1"} and "st_a2" not in clusterer.index.ids
    with mine.clustering_lock():  # a writer's own saves under the lock need no reload
        mine.refresh(clusterer)
        a = article("b", unit(6, noise_from=0, noise=0.1), day=DAY, keys=("k0",), body="topic0alpha")
        assignment, state = clusterer.assign(a)
        mine.save(a, assignment, clusterer, state)
    assert open_store(db).story_of("b") == "st_a0"


# --- Several processes writing at once ---------------------------------------------------------

# Four gold stories, each told by six articles on consecutive days; their words and names differ.
STORIES = (
    ("Valencia", "Floods in Valencia: the river Turia burst its banks and Carlos Mazon ordered an evacuation of the old town."),
    ("Hokkaido", "An earthquake struck Hokkaido near Sapporo; Fumio Kishida sent rescue teams to the collapsed bridges."),
    ("Accra", "Ghana votes in Accra as John Mahama and Mahamudu Bawumia close their campaigns before the election."),
    ("Rotterdam", "Dockers at the port of Rotterdam strike over automation, and Maersk diverts container ships to Antwerp."),
)
ARTICLES_PER_STORY = 6
WRITERS = 3


class TopicEncoder:
    """A stand-in for the real encoder: texts of one story get near-identical vectors, texts of
    different stories the unrelated-news similarity of real embeddings (tests.helpers.unit)."""

    name = "topic-test"
    dim = DIM

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            topic = next(i for i, (key, _) in enumerate(STORIES) if key in text)
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            rows.append(unit(seed, noise_from=topic, noise=0.1))
        return np.stack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


def _gold_docs() -> list[tuple[int, RawDoc]]:
    docs = []
    for topic, (key, lead) in enumerate(STORIES):
        for n in range(ARTICLES_PER_STORY):
            day = DAY + dt.timedelta(days=n)
            text = f"{lead} Report {n + 1}."
            docs.append((topic, RawDoc(origin=f"{key}-{n}.txt", text=text, title=f"{key}: update {n + 1}",
                                       published=day.isoformat(), language="en")))
    return docs


def _commit_order(db: str) -> list[str]:
    """Origins of the stored articles in the order they were committed (their seq)."""
    query = "SELECT origin FROM articles ORDER BY seq"
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            return [r[0] for r in conn.execute(query)]
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute(query)]


def _write(db: str, docs: list[RawDoc]) -> None:
    """One writer process: its own store connection, pipeline and in-memory clusterer."""
    store = open_store(db)
    report = Pipeline(store, TopicEncoder(), batch_size=4).run(docs)
    assert not report.errors, report.errors
    store.close()


def test_concurrent_writers_store_each_article_once_and_each_story_under_one_id(db: str, tmp_path: Path) -> None:
    gold = _gold_docs()
    open_store(db).close()  # migrate once, so the writers race on articles, not on the schema
    batches = []
    for writer in range(WRITERS):  # each writer gets two thirds of the articles, in its own order
        mine = [doc for i, (_, doc) in enumerate(gold) if i % WRITERS != writer]
        random.Random(writer).shuffle(mine)
        batches.append(mine)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited connections
    processes = [context.Process(target=_write, args=(db, docs)) for docs in batches]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = open_store(db)
    assert store.article_count() == len(gold)
    ids = {a.origin: a.id for story in store.stories(with_articles=True) for a in story.articles}
    assert set(ids) == {doc.origin for _, doc in gold}
    by_topic: dict[int, set[str | None]] = {}
    for topic, doc in gold:
        by_topic.setdefault(topic, set()).add(store.resolve(store.story_of(ids[doc.origin]) or ""))
    assert all(len(stories) == 1 for stories in by_topic.values()), by_topic
    assert len(set.union(*by_topic.values())) == len(STORIES)
    # Exactly what one writer makes of the articles in the order they were committed.
    by_origin = {doc.origin: doc for _, doc in gold}
    replay = open_store(str(tmp_path / "replay.db"))
    Pipeline(replay, TopicEncoder(), batch_size=1).run([by_origin[o] for o in _commit_order(db)])
    assert {o: store.resolve(store.story_of(i) or "") for o, i in ids.items()} == {
        o: replay.resolve(replay.story_of(i) or "") for o, i in ids.items()
    }
