"""One suite, every store: SQLite and PostgreSQL must behave the same, concurrent writers included."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import multiprocessing
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from storyweave import cluster
from storyweave.pipeline import Pipeline
from storyweave.records import Assignment, RawDoc
from storyweave.store import open_store
from storyweave.store import sqlite as sqlite_store
from storyweave.store.sql import SeenItem

from .helpers import DIM, article, misjoined_stream, query_rows, unit
from .pg import STORES, fresh_store, postgres_server  # noqa: F401  (fixtures)

DAY = dt.date(2024, 3, 1)


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind, as the URL the `db` setting would hold."""
    return fresh_store(request, tmp_path)


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


def test_stories_reload_with_the_numbers_their_members_write(db: str) -> None:
    store = open_store(db)
    clusterer = store.load_clusterer()
    for i, body in enumerate(["Navy caught 23 pirates in 2008", "Navy: 23 pirates caught on Saturday"]):
        a = article(f"n{i}", unit(1, noise_from=1, noise=0.05), day=DAY, keys=("k",), body=body)
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    store.close()
    reloaded = open_store(db).load_clusterer()
    assert [s.numbers for s in reloaded.states.values()] == [{"23": 2, "2008": 1}]


def test_the_calibration_and_language_means_reload_as_they_were(db: str) -> None:
    _fill(db, 6)
    store = open_store(db)
    clusterer = store.load_clusterer()
    mine = clusterer.calibration
    assert mine.language_counts == {"en": 6} and mine.histograms  # learnt while the articles came
    later = article("late", unit(99, noise_from=1, noise=0.1), day=DAY, keys=("k1",), body="topic1alpha topic1beta")
    reloaded = store.load_clusterer().calibration
    assert reloaded.histograms == mine.histograms
    assert np.array_equal(reloaded.language_sums["en"], mine.language_sums["en"])
    assert clusterer.assign(later)[0].story_id == store.load_clusterer().assign(later)[0].story_id


def _store_at_previous_version(db: str, clusterer_values: dict[str, str]) -> None:
    """A store left at the schema before the calibration rows, holding these clusterer values."""
    if "://" not in db:
        with sqlite3.connect(db) as conn:
            conn.executescript("".join(sqlite_store.MIGRATIONS[:-1]))
            conn.execute(f"PRAGMA user_version = {len(sqlite_store.MIGRATIONS) - 1}")
            conn.executemany("INSERT INTO clusterer (key, value) VALUES (?, ?)", clusterer_values.items())
        return
    import psycopg

    from storyweave.store import postgres

    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (%s)", (len(postgres.MIGRATIONS) - 1,))
        for script in postgres.MIGRATIONS[:-1]:
            conn.execute(script)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO clusterer (key, value) VALUES (%s, %s)", list(clusterer_values.items()))


@pytest.mark.parametrize("stored", ["with language means", "before language means"])
def test_a_calibration_stored_as_one_value_is_split_into_rows_on_upgrade(db: str, stored: str) -> None:
    histograms = {"en|en": [0, 3, 1], "centred:de|en": [2, 0, 5]}
    total = np.arange(4, dtype=np.float64) / 7
    value = (
        {"histograms": histograms, "languages": {"en": {"count": 60, "sum": base64.b64encode(total.tobytes()).decode()}}}
        if stored == "with language means"
        else histograms  # the first format: the histograms alone
    )
    _store_at_previous_version(db, {"calibration": json.dumps(value), "documents": "60"})
    store = open_store(db)
    calibration = store.load_clusterer().calibration
    assert calibration.histograms == histograms
    if stored == "with language means":
        assert calibration.language_counts == {"en": 60} and np.array_equal(calibration.language_sums["en"], total)
    else:
        assert calibration.language_counts == {}
    assert store.load_clusterer().frequencies.documents == 60


def test_a_save_writes_only_the_calibration_rows_its_article_changed(db: str) -> None:
    _fill(db, 6)
    store = open_store(db)
    clusterer = store.load_clusterer()
    before = {r["key"]: r["seq"] for r in query_rows(db, "SELECT key, seq FROM calibration")}
    a = article("de1", unit(7, noise_from=2, noise=0.1), day=DAY, keys=("k2",), body="topic2alpha bericht", language="de")
    assignment, state = clusterer.assign(a)
    store.save(a, assignment, clusterer, state)
    after = {r["key"]: r["seq"] for r in query_rows(db, "SELECT key, seq FROM calibration")}
    rewritten = {key for key, seq in after.items() if before.get(key) != seq}
    assert "language:de" in rewritten and "language:en" not in rewritten
    assert rewritten <= {"language:de"} | {key for key in after if key.startswith("histogram:") and "de" in key}


def test_a_restart_loads_only_the_active_stories(db: str) -> None:
    # A year of daily stories: the reloaded clusterer holds about the last activity window of
    # them (eviction is amortised), while the store keeps them all.
    store = open_store(db)
    clusterer = store.load_clusterer()
    for i in range(150):
        a = article(f"d{i}", unit(500 + i), day=DAY + dt.timedelta(days=2 * i), body=f"daily{i} report")
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    store.close()
    store = open_store(db)
    reloaded = store.load_clusterer()
    assert len(store.stories()) == 150
    assert len(reloaded.states) < 100 and "st_d149" in reloaded.states and "st_d0" not in reloaded.states


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


def test_a_re_checked_article_moves_in_the_store_too(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "REFINE_EVERY", 6)
    store = open_store(db)
    clusterer = store.load_clusterer()
    versions = []
    for a in misjoined_stream():
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
        versions.append(store.story_version("st_a1"))
    assert versions[3] == versions[4] != versions[5]  # untouched, untouched, lost x
    assert store.story_of("x") == "st_b1"
    assert {s.id: s.size for s in store.stories()} == {"st_a1": 2, "st_b1": 4}
    store.close()
    reloaded = open_store(db).load_clusterer()  # the moved states were stored, not only the rows
    assert {i: s.size for i, s in reloaded.states.items()} == {"st_a1": 2, "st_b1": 4}


def test_re_ingest_of_a_stored_article_writes_nothing(db: str) -> None:
    ids = _fill(db, 3)
    store = open_store(db)
    clusterer = store.load_clusterer()
    again = article("a0", unit(0, noise_from=0, noise=0.1), day=DAY, keys=("k0",), body="topic0alpha topic0beta report0")
    state = clusterer.states[ids[0]]
    state.add(again, {}, frozenset())  # as a writer that missed the first copy would have it
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
        "x4": "普京会晤金正恩 in the Zëdhënësi district",
    }
    for i, (ident, body) in enumerate(bodies.items()):
        a = article(ident, unit(10 + i), day=DAY, body=body)
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    copy = article("x1copy", None, day=DAY, fingerprint="x1", body=bodies["x1"])
    copy.duplicate_of = "x1"
    store.save(copy, Assignment("x1copy", store.story_of("x1") or "", "duplicate", 1.0), clusterer, None)

    def found(query: str, limit: int = 20) -> list[str]:
        return [hit.article_id for hit in store.search_text(query, limit)]

    assert sorted(found("armoured train")) == ["x1", "x2"]  # originals only: not the copy
    assert found("Vladivostok train") == ["x1"]  # every word must occur
    assert found("VLADIVOSTOK") == ["x1"] and found("vladi*") == ["x1"]  # any case; a prefix
    assert found("rain") == [] and found("vladi") == []  # words, not pieces of words
    assert found("فلاديفوستوك") == ["x3"] and found("وكيم") == ["x3"]  # an Arabic proclitic is cut
    assert found("普京") == ["x4"] and found("会晤") == ["x4"]  # inside a run of Chinese
    assert found("zëdhënësi") == found("Zedhenesi") == ["x4"]  # Latin accents folded
    assert len(found("train", limit=1)) == 1
    hits = store.search_text("train")
    assert all(hit.score > 0 for hit in hits) and hits == sorted(hits, key=lambda h: -h.score)
    assert found('"Kim" OR) (') == []  # punctuation is text, never query syntax
    assert found("Kim") == ["x1"] and found('"Kim"') == ["x1"]
    for hostile in ("' OR 1=1 --", "a:* & !b", "\\' :*", "NEAR(a b)", "*", "-- ;", "'':*"):
        found(hostile)  # no error, whatever it finds
        found(hostile + "*")
    late = article("x5", unit(20), day=DAY, body="a later armoured convoy")
    assignment, state = clusterer.assign(late)
    store.save(late, assignment, clusterer, state)
    assert found("armoured convoy") == ["x5"]  # the index catches up before searching


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


def test_what_the_web_pages_read(db: str) -> None:
    ids = _fill(db, 6)  # stories ids[0] (a0, a3), ids[1] (a1, a4), ids[2] (a2, a5)
    store = open_store(db)
    clusterer = store.load_clusterer()
    late = article("late", -unit(50), language="ar", day=DAY + dt.timedelta(days=9), keys=("km jng n",), body="\n\nكيم")
    assignment, state = clusterer.assign(late)
    store.save(late, assignment, clusterer, state)
    copy = article("copy", None, day=DAY, fingerprint="a0", body="topic0alpha topic0beta report0")
    copy.duplicate_of = "a0"
    store.save(copy, Assignment("copy", ids[0], "duplicate", 1.0), clusterer, None)
    kim = assignment.story_id
    assert assignment.decision == "new"
    assert store.find_stories(limit=2) == ([ids[0], kim], 4)  # newest activity first, and the total
    assert store.find_stories(limit=2, offset=3) == ([ids[1]], 4)
    assert store.find_stories(language="ar", limit=10) == ([kim], 1)
    assert store.find_stories(since=DAY + dt.timedelta(days=1), limit=10) == ([kim], 1)
    assert store.find_stories(until=DAY, limit=10)[1] == 3
    assert store.find_stories(entity="e_km_jng_n", key="km jng n", limit=10) == ([kim], 1)
    store.save_analysis(ids[1], "v", {"entities": [{"id": "e_pk", "name": "Putin"}], "quotes": []})
    assert store.find_stories(entity="e_pk", key="pk", limit=10) == ([ids[1]], 1)  # by the analysis alone
    assert store.analyses_with_entity("e_pk", 10) == [(ids[1], "v", {"entities": [{"id": "e_pk", "name": "Putin"}], "quotes": []})]
    assert store.analyses_with_entity("e_nobody", 10) == []
    assert store.stories_mentioning("k1", 10) == [ids[1]] and store.stories_mentioning("k", 10) == []
    members = store.story_members([kim, ids[0], "st_nope"])
    assert list(members) == [kim, ids[0]]
    brief = members[kim].articles[0]
    assert (brief["id"], brief["lead"], brief["published"], brief["language"]) == ("late", "\n\nكيم", DAY + dt.timedelta(days=9), "ar")
    assert members[kim].updated_at.tzinfo is not None and brief["ingested_at"].year == 2024
    assert [b["id"] for b in members[ids[0]].articles] == ["a0", "a3", "copy"]  # by date, then as stored
    assert store.language_counts() == [("en", 6), ("ar", 1)]  # originals only
    assert [b["id"] for b in store.article_copies("a0")] == ["copy"]
    assert [(b["id"], b["duplicate_of"]) for b in store.article_copies("copy")] == [("a0", None)]
    assert [b["id"] for b in store.article_briefs(["a3", "zz", "a1"])] == ["a1", "a3"]
    assert store.article_briefs(["a1"], whole_body=True)[0]["lead"] == "topic1alpha topic1beta report1"
    vector, neighbours = store.neighbour_vectors("copy", 10)  # a copy's vector is its original's
    assert vector is not None and np.allclose(vector, unit(0, noise_from=0, noise=0.1))
    assert [i for i, _ in neighbours] == ["a3"]
    assert store.neighbour_vectors("zz", 10) == (None, [])
    recent = store.recent_vectors(5, 10)  # originals with a vector, stored after seq 5, as stored
    assert [(seq, i) for seq, i, _ in recent] == [(6, "a5"), (7, "late")] and recent[1][2].dtype == np.float32


def test_the_watchers_bookkeeping(db: str) -> None:
    store = open_store(db)
    now, later = "2024-03-01T10:00:00+00:00", "2024-03-01T10:15:00+00:00"
    added = store.add_source("https://a.example/list.opml", None, default_interval=900.0, added_at=now)
    assert (added["url"], added["interval"], added["parent"], added["next_poll"], added["articles"]) == (
        "https://a.example/list.opml", 900.0, None, None, 0)
    assert store.add_source("https://a.example/list.opml", 120.0, default_interval=900.0, added_at=later)["interval"] == 120.0
    assert store.add_source("https://a.example/list.opml", None, default_interval=900.0, added_at=later)["added_at"] == now
    store.sync_listed_sources("https://a.example/list.opml", ["https://b.example/rss", "https://c.example/atom"], 120.0, now)
    assert [(s["url"], s["parent"]) for s in store.sources()] == [
        ("https://a.example/list.opml", None),
        ("https://b.example/rss", "https://a.example/list.opml"),
        ("https://c.example/atom", "https://a.example/list.opml"),
    ]
    store.sync_listed_sources("https://a.example/list.opml", ["https://c.example/atom"], 120.0, now)  # b left the list
    assert [s["url"] for s in store.sources()] == ["https://a.example/list.opml", "https://c.example/atom"]
    store.update_source("https://c.example/atom", kind="atom10", failures=0, last_poll=now, next_poll=later, etag='"v1"')
    with pytest.raises(ValueError, match="articles"):
        store.update_source("https://c.example/atom", articles=5)
    assert [s["url"] for s in store.due_sources(now)] == ["https://a.example/list.opml"]  # c polls later
    assert [s["url"] for s in store.due_sources(later)] == ["https://a.example/list.opml", "https://c.example/atom"]
    assert len(store.due_sources(now, every=True)) == 2
    assert store.next_poll_after(now) == later and store.next_poll_after(later) is None
    store.mark_items([SeenItem("https://c.example/1", "done", 0, ""), SeenItem("https://c.example/2", "failed", 1, "HTTP 503")],
                     now, source="https://c.example/atom", added=1)
    store.mark_items([SeenItem("https://c.example/3", "failed", 3, "refused")], now)
    assert store.url_handled(["https://c.example/1"], 3) and store.url_handled(["https://c.example/3"], 3)
    assert not store.url_handled(["https://c.example/2"], 3) and store.item_attempts("https://c.example/2") == 1
    assert not store.url_handled([], 3) and store.item_attempts("https://c.example/9") == 0
    _fill(db, 1)
    assert not store.url_handled(["https://z.example/x"], 3)
    (atom,) = [s for s in store.sources() if s["url"] == "https://c.example/atom"]
    assert (atom["kind"], atom["etag"], atom["articles"]) == ("atom10", '"v1"', 1)
    assert store.remove_source("https://a.example/list.opml") and store.sources() == []  # with what it listed
    assert not store.remove_source("https://a.example/list.opml")


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
    return [r["origin"] for r in query_rows(db, "SELECT origin FROM articles ORDER BY seq")]


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
