"""PostgreSQL only: schema upgrades by versioned migrations, and the copy from SQLite."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from storyweave.cli import main
from storyweave.records import Assignment
from storyweave.store import open_store
from storyweave.store.codec import state_to_json

from .helpers import article, query_rows, unit
from .pg import postgres_server, postgres_url  # noqa: F401  (fixtures)

pytest.importorskip("psycopg", reason="the PostgreSQL driver is missing: pip install 'storyweave[postgres]'")

DAY = dt.date(2024, 3, 1)


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database (tests/pg.py)."""
    return str(request.getfixturevalue("postgres_url"))


def _sqlite_store_with_everything(path: Path) -> None:
    """Stories, a merge, a syndicated copy, an undated article and a cached analysis."""
    store = open_store(str(path))
    clusterer = store.load_clusterer()
    for i in range(6):
        group = i % 3
        a = article(f"a{i}", unit(i, noise_from=group, noise=0.1), day=DAY + dt.timedelta(days=i),
                    keys=(f"k{group}", "kx"), body=f"topic{group}alpha topic{group}beta report{i}")
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    undated = article("u", unit(40), body="an undated note")
    assignment, state = clusterer.assign(undated)
    store.save(undated, assignment, clusterer, state)
    copy = article("c", None, day=DAY, fingerprint="a0", body="topic0alpha topic0beta report0")
    copy.duplicate_of = "a0"
    store.save(copy, Assignment("c", "st_a0", "duplicate", 1.0), clusterer, None)
    merger = article("m", unit(7, noise_from=0, noise=0.1), day=DAY, keys=("k0",), body="topic0alpha topic0beta")
    store.save(merger, Assignment("m", "st_a0", "join", 1.0, ("st_a1",)), clusterer, clusterer.states["st_a0"])
    store.save_analysis("st_a0", store.story_version("st_a0"), {"claims": [], "summary": None})
    store.close()


def test_both_stores_number_the_same_schema_versions() -> None:
    from storyweave.store import postgres, sqlite

    assert len(postgres.MIGRATIONS) == len(sqlite.MIGRATIONS)  # storyweave migrate relies on it


def test_an_old_schema_is_upgraded_by_the_missing_migrations(pg: str) -> None:
    import psycopg

    from storyweave.store.postgres import MIGRATIONS

    with psycopg.connect(pg, autocommit=True) as conn:  # a database left at version 2
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (2)")
        for script in MIGRATIONS[:2]:
            conn.execute(script)
        conn.execute("INSERT INTO stories (id, created_at, updated_at, state) VALUES ('st_old', now(), now(), '{}')")
    store = open_store(pg)
    assert store.schema_version == len(MIGRATIONS)
    assert store.resolve("st_old") == "st_old"  # the rows survive the upgrade
    assert open_store(pg).schema_version == len(MIGRATIONS)


def test_migrate_copies_every_story_and_id_unchanged(tmp_path: Path, pg: str) -> None:
    source = tmp_path / "s.db"
    _sqlite_store_with_everything(source)
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(source), "migrate", "--to", pg], catch_exceptions=False)
    assert result.exit_code == 0 and "articles" in result.stdout
    old, new = open_store(str(source)), open_store(pg)
    assert [s.to_dict() for s in new.stories(with_articles=True)] == [s.to_dict() for s in old.stories(with_articles=True)]
    for story in old.stories():
        assert new.story_version(story.id) == old.story_version(story.id)
        for mine, theirs in zip(old.articles(story.id), new.articles(story.id)):
            assert mine.to_dict(with_body=True) == theirs.to_dict(with_body=True)
            assert mine.name_keys == theirs.name_keys and mine.fingerprint == theirs.fingerprint
            assert (mine.vector is None and theirs.vector is None) or np.array_equal(mine.vector, theirs.vector)
    assert new.resolve("st_a1") == "st_a0" and new.story("st_a1").merged_ids == ["st_a1"]  # type: ignore[union-attr]
    # The keyword index is not copied (SQLite's is FTS5's own format): the copy builds its own.
    assert [h.article_id for h in new.search_text("topic2alpha")] == [h.article_id for h in old.search_text("topic2alpha")]
    assert {h.article_id for h in new.search_text("topic2alpha")} == {"a2", "a5"}
    assert new.analysis("st_a0", new.story_version("st_a0")) == {"claims": [], "summary": None}
    mine_c, theirs_c = old.load_clusterer(), new.load_clusterer()
    assert {k: state_to_json(v) for k, v in theirs_c.states.items()} == {k: state_to_json(v) for k, v in mine_c.states.items()}
    assert theirs_c.frequencies.counts == mine_c.frequencies.counts
    assert theirs_c.calibration.histograms == mine_c.calibration.histograms
    assert theirs_c.calibration.language_counts == mine_c.calibration.language_counts
    # The copy carries on: a new article joins its story and is numbered after the copied ones.
    later = article("later", unit(99, noise_from=2, noise=0.1), day=DAY, keys=("k2",), body="topic2alpha topic2beta")
    assignment, state = theirs_c.assign(later)
    new.save(later, assignment, theirs_c, state)
    assert assignment.story_id == "st_a2"
    assert new.story_version("st_a2").startswith("3:")
    again = runner.invoke(main, ["--db", str(source), "migrate", "--to", pg])
    assert again.exit_code != 0 and "empty database" in again.output


def test_migrate_refuses_what_it_cannot_copy(tmp_path: Path, pg: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(tmp_path / "s.db"), "migrate", "--to", str(tmp_path / "other.db")])
    assert result.exit_code != 0 and "postgresql://" in result.output
    result = runner.invoke(main, ["--db", pg, "migrate", "--to", pg])
    assert result.exit_code != 0 and "SQLite store" in result.output


@pytest.mark.parametrize("url", ["postgresql://", "postgres://"])
def test_both_url_schemes_open_the_postgres_store(pg: str, url: str) -> None:
    store = open_store(pg.replace("postgresql://", url, 1))
    assert type(store).__name__ == "PostgresStore"


def test_keyword_search_is_postgresqls_own_full_text_search(pg: str) -> None:
    """The index is PostgreSQL's: a weighted tsvector of the normalised text per original article
    (title A, body D), queried with tsquery and ranked by ts_rank, title matches first."""
    store = open_store(pg)
    clusterer = store.load_clusterer()
    in_body = article("body", unit(1), day=DAY, body="Kim Jong Un arrived in Vladivostok by armoured train")
    in_title = dataclasses.replace(article("title", unit(2), day=DAY, body="The summit opened on Wednesday"), title="Vladivostok summit")
    for a in (in_body, in_title):
        assignment, state = clusterer.assign(a)
        store.save(a, assignment, clusterer, state)
    hits = store.search_text("VLADIVOSTOK")
    assert [h.article_id for h in hits] == ["title", "body"] and hits[0].score > hits[1].score > 0
    documents = [r["document"] for r in query_rows(pg, "SELECT document::text AS document FROM web_search ORDER BY seq")]
    assert "'vladivostok':8" in documents[0] and "'vladivostok':1A" in documents[1]  # lower-cased; the title weighted
    assert query_rows(pg, "SELECT value FROM web_search_state WHERE key = 'seq'") == [{"value": 2}]
    plan = "\n".join(r["QUERY PLAN"] for r in query_rows(pg, "EXPLAIN SELECT seq FROM web_search WHERE document @@ to_tsquery('simple', 'kim')"))
    assert "web_search_document" in plan or "Seq Scan" in plan  # the GIN index exists (tiny tables are scanned)


def test_both_schemas_have_the_same_tables_and_columns(tmp_path: Path, pg: str) -> None:
    """Version N is the same schema on both stores (the watcher's tables included), but for how
    each database holds the keyword index (web_search: FTS5's own table, or a tsvector table)."""
    sqlite_db = str(tmp_path / "s.db")
    open_store(sqlite_db).close()
    open_store(pg).close()
    on_sqlite: dict[str, set[str]] = {}
    for row in query_rows(sqlite_db, "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p "
                                     "WHERE m.type = 'table' AND m.name <> 'sqlite_sequence'"):
        on_sqlite.setdefault(row["t"], set()).add(row["c"])
    on_postgres: dict[str, set[str]] = {}
    for row in query_rows(pg, "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_name <> 'schema_version'"):
        on_postgres.setdefault(row["t"], set()).add(row["c"])
    index = {t for t in on_sqlite if t.startswith("web_search") and t != "web_search_state"}  # FTS5 and its shadow tables
    assert {t: c for t, c in on_sqlite.items() if t not in index} == {t: c for t, c in on_postgres.items() if t != "web_search"}
    assert {"sources", "seen_items", "web_search_state"} <= set(on_postgres)
