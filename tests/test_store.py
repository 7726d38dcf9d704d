"""The SQLite store: atomic writes, restart stability, migrations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storyweave.records import Assignment
from storyweave.store import open_store
from storyweave.store.sqlite import MIGRATIONS

from .helpers import article, unit

DAY = dt.date(2024, 3, 1)


def _fill(db: str, count: int) -> list[str]:
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


def test_schema_is_migrated_once(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    assert open_store(db).schema_version == len(MIGRATIONS)
    assert open_store(f"sqlite:///{db}").schema_version == len(MIGRATIONS)


def test_unsupported_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://localhost/x")


def test_restart_continues_with_the_same_stories(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    first = _fill(db, 6)
    store = open_store(db)
    clusterer = store.load_clusterer()  # a new process: state comes from the store alone
    later = article("late", unit(99, noise_from=1, noise=0.1), day=DAY, keys=("k1",), body="topic1alpha topic1beta")
    assignment, _ = clusterer.assign(later)
    assert assignment.story_id == first[1]
    assert {s.id for s in store.stories()} == set(first)


def test_a_failed_write_leaves_no_half_written_story(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    _fill(db, 3)
    store = open_store(db)
    before = {s.id: s.size for s in store.stories()}
    clusterer = store.load_clusterer()
    doomed = article("doomed", -unit(0), day=DAY)  # unlike anything stored: it founds a story
    assignment, state = clusterer.assign(doomed)
    assert assignment.decision == "new"
    broken = Assignment(doomed.id, "no-such-story", "join", 1.0)  # violates the foreign key
    with pytest.raises(Exception):
        store.save(doomed, broken, clusterer, None)
    reopened = open_store(db)
    assert {s.id: s.size for s in reopened.stories()} == before
    assert reopened.known_ids(["doomed"]) == set()
    assert state.id not in {s.id for s in reopened.stories()}


def test_story_lookup_by_prefix_and_members(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    ids = _fill(db, 6)
    store = open_store(db)
    assert len(set(ids)) == 3
    story = store.story(ids[0])
    assert story is not None and story.id == ids[0]
    assert store.story("st_a") is None  # an ambiguous prefix names no story
    assert story.size == 2 and [a.id for a in story.articles] == ["a0", "a3"]
    assert store.story("nope") is None


def test_a_merge_moves_articles_and_keeps_the_old_id_resolvable(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
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


def test_killing_the_process_mid_ingest_loses_nothing_committed(tmp_path: Path) -> None:
    import json
    import os
    import shutil
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(8):  # the samples under other names: 40 articles, several batches
        for sample in (root / "examples").glob("*.txt"):
            text = sample.read_text(encoding="utf-8")
            (corpus / f"{i}_{sample.name}").write_text(f"{text}\n\nEdition {i}.", encoding="utf-8")
    db = tmp_path / "kill.db"
    command = [sys.executable, "-m", "storyweave", "--db", str(db), "ingest", str(corpus)]
    env = {**os.environ, "STORYWEAVE_BATCH_SIZE": "4"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if db.exists():
            try:
                if sqlite3.connect(db).execute("SELECT COUNT(*) FROM articles").fetchone()[0] >= 5:
                    break
            except sqlite3.OperationalError:
                pass  # the schema is still being created
    process.send_signal(signal.SIGKILL)
    process.wait()
    store = open_store(str(db))
    stored = store.article_count()
    assert 5 <= stored < 40, "the kill must land mid-ingest for this test to mean anything"
    for story in store.stories(with_articles=True):  # every story whole: its state matches its rows
        state = json.loads(store._db.execute("SELECT state FROM stories WHERE id = ?", (story.id,)).fetchone()[0])
        assert state["size"] == sum(1 for a in story.articles if a.duplicate_of is None)
    store.close()
    finished = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, check=True)
    report = json.loads(finished.stdout)
    assert report["already_stored"] == stored and report["added"] == 40 - stored
    shutil.rmtree(corpus)
