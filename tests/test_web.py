"""The web app through Flask's test client, on the five samples (real encoder, real store).

Every test runs on both stores: a SQLite file, and a PostgreSQL database the same samples were
copied into (``storyweave migrate``). Every JSON twin is validated against its schema in the
app's own OpenAPI document.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from storyweave.cli import Context
from storyweave.encode import Encoder, load_encoder
from storyweave.ingest import read_paths
from storyweave.pipeline import Pipeline
from storyweave.records import RawDoc
from storyweave.store import open_store
from storyweave.store.keywords import normalise, query_terms
from storyweave.store.sqlite import fts_query
from storyweave.web import create_app
from storyweave.web.app import CONTENT_SECURITY_POLICY, MAX_REQUEST_BYTES
from storyweave.web.cli import serve
from storyweave.web.openapi import document, response_schema
from storyweave.web.queries import story_cards

from .pg import STORES, PostgresServer, postgres_server  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ALBANIAN_SAMPLE = "000_1b272e31da73a4e6.txt"
ARABIC_SAMPLE = "002_5127359ab141dd47.txt"
MALAY_SAMPLE = "003_f7cad9d3d56ee8e4.txt"
TITLED_ARABIC_SAMPLE = "004_6a4c0072f3f08a4d.txt"
TOKEN = "test-token-123"

# An article that tries to run script in the reader's browser, about something else entirely
# (so it is also the unrelated article that semantic search must rank below the samples).
HOSTILE = RawDoc(
    origin="hostile.txt",
    title='<script>alert("title")</script> Bakers of Lyon',
    text=(
        "The bakers of Lyon held their annual bread festival on Sunday, with sourdough loaves and "
        "brioche judged by a panel of pastry chefs in the old town square.\n\n"
        'A visitor typed <script>window.__pwned = 1; alert("pwned")</script> into the feedback form, '
        "and another pasted <img src=x onerror=\"window.__pwned = 2\"> as a joke.\n\n"
        "The festival committee said the winning croissant recipe would be published next week."
    ),
    url="javascript:alert(1)",
    source="evil.example",
)


def _context(db: str) -> Context:
    """A context on db that accepts TOKEN and never calls a remote model (whatever the
    environment says)."""
    context = Context(str(db))
    context.settings = dataclasses.replace(context.settings, api_token=TOKEN, llm_base_url="", reader_language="en")
    return context


@functools.cache
def _analysed_template(base: Path) -> tuple[Path, Encoder]:
    """The samples and the hostile article stored and every story analysed, once per test
    session (``base``: its temporary folder): the analysis embeds every sentence, seconds on
    two cores. Each test module works on its own copy."""
    db = base / "template" / "web.db"
    db.parent.mkdir()
    context = _context(str(db))
    encoder = load_encoder(context.settings.encoder, context.settings.encoder_threads)
    store = context.store()
    try:
        report = Pipeline(store, encoder).run([*read_paths([EXAMPLES]), HOSTILE])
        assert report.added == 6 and not report.errors
        for story in store.stories(with_articles=True):
            context.analysis(store, story, encoder)
    finally:
        store.close()
    return db, encoder


@dataclasses.dataclass
class Site:
    app: Flask
    client: FlaskClient
    ids: dict[str, str]  # file name -> stored article id
    db: str  # the store: a SQLite path or a PostgreSQL URL


def sample_site(tmp_path_factory: pytest.TempPathFactory, name: str, postgres: PostgresServer | None = None) -> Site:
    """An app on a fresh copy of the analysed samples: a SQLite file, or with ``postgres`` a new
    database on that server (copied by `storyweave migrate`, analyses included)."""
    template, encoder = _analysed_template(tmp_path_factory.getbasetemp())
    if postgres is None:
        db = str(tmp_path_factory.mktemp(name) / "web.db")
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(db)) as copy:
            source.backup(copy)
    else:
        from storyweave.store.migrate import migrate_sqlite_to_postgres

        db = postgres.create_database()
        migrate_sqlite_to_postgres(str(template), db)
    app = create_app(_context(db), encoder=encoder)
    store = open_store(db)
    ids = {Path(a.origin).name: a.id for story in store.stories(with_articles=True) for a in story.articles}
    store.close()
    return Site(app, app.test_client(), ids, db)


@pytest.fixture(scope="module", params=STORES)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    postgres = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    return sample_site(tmp_path_factory, "web", postgres)


_DOCUMENT = document()


def valid(data: Any, path: str, status: str = "200", method: str = "get") -> Any:
    """The data, after checking it against the OpenAPI response schema of path and status."""
    schema = {**response_schema(path, status, method), "components": _DOCUMENT["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    return data


def get_json(site: Site, url: str, path: str, status: int = 200) -> Any:
    response = site.client.get(url)
    assert response.status_code == status, response.data[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    return valid(response.get_json(), path, str(status))


def get_html(site: Site, url: str) -> str:
    response = site.client.get(url)
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    return response.get_data(as_text=True)


def story_of(site: Site, origin: str) -> dict[str, Any]:
    found = get_json(site, f"/articles/{site.ids[origin]}.json", "/articles/{article_id}.json")["story"]
    return get_json(site, f"/stories/{found['id']}.json", "/stories/{story_id}.json")  # type: ignore[no-any-return]


# --- the OpenAPI document ------------------------------------------------------------------------


def test_openapi_document_is_served_and_describes_every_json_route(site: Site) -> None:
    served = site.client.get("/openapi.json").get_json()
    assert served["openapi"].startswith("3.1") and served == document()
    for schema in served["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    documented = set(served["paths"])
    for rule in site.app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        if path.endswith(".json") or "POST" in (rule.methods or ()):
            assert path in documented, path


# --- /stories --------------------------------------------------------------------------------------


def test_stories_page_and_its_twin(site: Site) -> None:
    data = get_json(site, "/stories.json", "/stories.json")
    assert data["total"] == len(data["stories"]) >= 2
    assert {row["language"] for row in data["languages"]} == {"ar", "en", "ms", "sq"}
    sample = next(c for c in data["stories"] if "sq" in c["languages"])
    assert sample["first_published"] == "2023-09" and sample["sources"]
    page = get_html(site, "/stories")
    assert f'href="/stories/{sample["id"]}"' in page and 'class="badge"' in page
    assert "<svg" in page and 'rel="alternate" type="application/json" href="/stories.json"' in page


def test_stories_filters_and_pages(site: Site) -> None:
    def ids(query: str) -> set[str]:
        return {c["id"] for c in get_json(site, f"/stories.json?{query}", "/stories.json")["stories"]}

    every = ids("")
    arabic = ids("language=ar")
    assert arabic and arabic < every
    assert all("ar" in c["languages"] for c in get_json(site, "/stories.json?language=ar", "/stories.json")["stories"])
    assert ids("since=2023-09-01&until=2023-09-30") == {story_of(site, ALBANIAN_SAMPLE)["id"]}
    assert ids("since=2024-01-01") == set()
    kim = ids("entity=e_km_jng_n")
    assert story_of(site, ALBANIAN_SAMPLE)["id"] in kim and story_of(site, ARABIC_SAMPLE)["id"] in kim
    assert len(kim) < len(every)  # not the bakers
    first = get_json(site, "/stories.json?size=1&page=1", "/stories.json")
    second = get_json(site, "/stories.json?size=1&page=2", "/stories.json")
    assert first["page_size"] == 1 and first["stories"][0]["id"] != second["stories"][0]["id"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("since=yesterday", "since"), ("size=1000", "size"), ("page=0", "page"), ("entity=kim", "entity"), ("language=<b>", "language")],
)
def test_bad_parameters_are_named(site: Site, query: str, parameter: str) -> None:
    error = get_json(site, f"/stories.json?{query}", "/stories.json", 400)
    assert f"`{parameter}`" in error["error"]
    assert site.client.get(f"/stories?{query}").status_code == 400


# --- /stories/<id> -------------------------------------------------------------------------------


def test_story_page_shows_its_analysis(site: Site) -> None:
    story = story_of(site, ALBANIAN_SAMPLE)
    assert story["entities"] and story["quotes"] and story["timeline"] and story["claims"] and story["summary"]
    page = get_html(site, f"/stories/{story['id']}")
    for section in ("summary", "timeline", "activity", "articles", "entities", "quotes", "claims"):
        assert f'id="{section}"' in page
    assert page.count("<svg") >= 2  # timeline and articles over time
    sentence = story["summary"]["sentences"][0]["citation"]
    assert f'href="/articles/{sentence["article_id"]}#c-{sentence["start"]}-{sentence["end"]}"' in page
    kim = next(q for q in story["quotes"] if q["speaker_entity"] == "e_km_jng_n")
    assert 'href="/entities/e_km_jng_n"' in page and kim["text"][:30] in page
    for language in story["languages"]:
        assert f"<h3>{language} " in page


def test_the_sample_story_has_five_articles_in_three_languages(site: Site) -> None:
    story = story_of(site, ALBANIAN_SAMPLE)
    assert story["size"] == 5 and story["languages"] == ["ar", "ms", "sq"]


def test_titles_are_in_the_readers_language(site: Site) -> None:
    story = story_of(site, TITLED_ARABIC_SAMPLE)
    store = open_store(site.db)
    arabic, other = (story_cards(store, [story["id"]], language)[0]["title"] for language in ("ar", "xx"))
    store.close()
    assert arabic == "لقاء كيم وبوتين يقلق 3 دول.. وإجماع على رد حازم لأي انتهاك"
    assert other == story["title"]  # no article in the reader's language: the story's own title


def test_story_ids_resolve_to_one_canonical_url(site: Site) -> None:
    story = story_of(site, ALBANIAN_SAMPLE)
    response = site.client.get(f"/stories/{story['id'][:9]}.json")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/stories/{story['id']}.json")
    assert get_json(site, "/stories/st_nope.json", "/stories/{story_id}.json", 404)["error"]
    assert site.client.get("/stories/st_nope").status_code == 404


# --- /articles/<id> ------------------------------------------------------------------------------


def test_citation_links_land_on_the_cited_span(site: Site) -> None:
    story = story_of(site, ALBANIAN_SAMPLE)
    citation = story["summary"]["sentences"][0]["citation"]
    article = get_json(site, f"/articles/{citation['article_id']}.json", "/articles/{article_id}.json")
    assert {"start": citation["start"], "end": citation["end"]} in article["highlights"]["citations"]
    page = get_html(site, f"/articles/{citation['article_id']}")
    anchored = re.search(rf'id="c-{citation["start"]}-{citation["end"]}"[^>]*>(.*?)</span>', page, re.DOTALL)
    assert anchored is not None
    first_words = article["body"][citation["start"] : citation["end"]].split()[0]
    assert first_words in re.sub(r"<[^>]+>", "", anchored.group(1))


def test_arabic_article_is_right_to_left_with_its_names_linked(site: Site) -> None:
    arabic = site.ids[ARABIC_SAMPLE]
    data = get_json(site, f"/articles/{arabic}.json", "/articles/{article_id}.json")
    assert data["language"] == "ar" and data["body"].startswith("(سيئول)")
    assert any(m["entity_id"] == "e_km_jng_n" for m in data["highlights"]["mentions"])
    assert data["highlights"]["quotes"]
    page = get_html(site, f"/articles/{arabic}")
    assert '<div class="body" dir="rtl">' in page
    assert 'class="mention person" href="/entities/e_km_jng_n"' in page


def test_near_duplicates_link_copies_and_neighbours(site: Site) -> None:
    data = get_json(site, f"/articles/{site.ids[ALBANIAN_SAMPLE]}.json", "/articles/{article_id}.json")
    similar = [n for n in data["near_duplicates"] if n["relation"] == "similar"]
    assert similar and all(n["story_id"] == data["story"]["id"] and 0 < n["similarity"] <= 1 for n in similar)


def test_hostile_article_is_shown_as_text(site: Site) -> None:
    page = get_html(site, f"/articles/{site.ids['hostile.txt']}")
    assert "&lt;script&gt;window.__pwned = 1;" in page and "&lt;img src=x onerror=" in page
    assert "&lt;script&gt;alert(" in page  # the title
    assert "<script" not in page and "<img" not in page
    assert "javascript:" not in page  # a non-http(s) URL is never made a link
    listing = get_html(site, "/stories")
    assert "<script" not in listing and "&lt;script&gt;" in listing


def test_every_response_carries_the_security_headers(site: Site) -> None:
    for url in ("/stories", "/stories.json", "/static/style.css", "/openapi.json", "/nope"):
        headers = site.client.get(url).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"


# --- /entities/<id> ------------------------------------------------------------------------------


def test_entity_page_gathers_stories_and_quotes_across_languages(site: Site) -> None:
    for origin in (ALBANIAN_SAMPLE, ARABIC_SAMPLE):
        story_of(site, origin)  # the entity page lists stories with a current analysis
    data = get_json(site, "/entities/e_km_jng_n.json", "/entities/{entity_id}.json")
    assert data["kind"] == "person" and data["key"] == "km jng n"
    assert {"ar", "sq"} <= set(data["surface_forms"])
    assert {story_of(site, ALBANIAN_SAMPLE)["id"], story_of(site, ARABIC_SAMPLE)["id"]} <= {s["id"] for s in data["stories"]}
    assert data["quotes"] and all(q["speaker_entity"] == "e_km_jng_n" for q in data["quotes"])
    page = get_html(site, "/entities/e_km_jng_n")
    assert "كيم جونغ أون" in page and data["quotes"][0]["text"][:20] in page
    get_json(site, "/entities/e_nobody_here.json", "/entities/{entity_id}.json", 404)
    assert site.client.get("/entities/not-an-id.json").status_code == 404


# --- /search -------------------------------------------------------------------------------------


def test_keyword_search_in_several_scripts(site: Site) -> None:
    def found(query: str) -> set[str]:
        data = get_json(site, f"/search.json?mode=keyword&q={query}", "/search.json")
        assert data["semantic"] is None
        return {a["id"] for g in data["keyword"] for a in g["articles"]}

    ids = site.ids
    assert found("zedhenesi") >= {ids[ALBANIAN_SAMPLE]}  # Zëdhënësi, accents folded
    assert ids[ARABIC_SAMPLE] in found("بوتين")
    assert ids[TITLED_ARABIC_SAMPLE] in found("كرملين")  # written الكرملين: the article is cut
    assert found("Rusi*") >= {ids[ALBANIAN_SAMPLE], ids[MALAY_SAMPLE]}
    assert found("Kim bakers") == set()  # every word is required
    page = get_html(site, "/search?mode=keyword&q=Putin")
    assert "<mark>Putin</mark>" in page


def test_semantic_search_crosses_languages(site: Site) -> None:
    data = get_json(site, "/search.json?q=Kim+Putin+meeting", "/search.json")
    ranked = [a for g in data["semantic"] for a in sorted(g["articles"], key=lambda a: -a["score"])]
    languages = {a["language"] for a in ranked}
    assert {"ar", "sq", "ms"} <= languages
    hostile = site.ids["hostile.txt"]
    scores = {a["id"]: a["score"] for a in ranked}
    assert all(scores[hostile] < s for i, s in scores.items() if i != hostile)
    page = get_html(site, "/search?q=Kim+Putin+meeting")
    assert 'id="semantic"' in page and "سيئول" in page


def test_search_queries_are_bounded(site: Site) -> None:
    assert "`q`" in get_json(site, "/search.json?q=" + "a" * 201, "/search.json", 400)["error"]
    assert "`mode`" in get_json(site, "/search.json?q=x&mode=sql", "/search.json", 400)["error"]
    empty = get_json(site, "/search.json?q=", "/search.json")
    assert empty["keyword"] == [] and empty["semantic"] == []
    # FTS5 syntax in a query is searched for as words, never run
    get_json(site, '/search.json?mode=keyword&q=" OR * NEAR(', "/search.json")


def test_normalisation_for_the_keyword_index() -> None:
    assert normalise("Zëdhënësi") == "zedhenesi"  # accents on Latin letters are folded
    assert normalise("Йошкар-Ола") == "йошкар-ола"  # й is a letter of its own
    assert normalise("وَالرَّئِيسُ") == normalise("الرئيس") == "رئيس"  # short vowels, conjunction, article
    assert normalise("أوكرانيا") == normalise("اوكرانيا")  # hamza seat
    assert normalise("普京会晤").split() == ["普京", "京会", "会晤"]
    assert fts_query(query_terms('kim "putin" rus*')) == '"kim" AND """putin""" AND "rus" *'
    assert fts_query(query_terms("* -- ;")) is None


# --- POST /articles ------------------------------------------------------------------------------


def _post(site: Site, body: Any, token: str | None = TOKEN) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return site.client.post("/articles", json=body, headers=headers)


def test_posting_needs_the_token_and_is_off_without_one(site: Site) -> None:
    article = {"text": "Putin and Kim met at the Vostochny cosmodrome.", "language": "en"}
    for token in (None, "wrong"):
        response = _post(site, article, token)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        valid(response.get_json(), "/articles", "401", "post")
    read_only = _context(site.db)
    read_only.settings = dataclasses.replace(read_only.settings, api_token="")
    response = create_app(read_only).test_client().post("/articles", json=article, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 403 and "read-only" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("body", "index", "field"),
    [
        ({"title": "no text"}, None, "text"),
        ({"text": "   "}, None, "text"),
        ({"txt": "typo", "text": "Some text."}, None, "txt"),
        ({"text": "Some text.", "url": "javascript:alert(1)"}, None, "url"),
        ({"text": "Some text.", "published": 20230913}, None, "published"),
        ([{"text": "fine"}, {"text": "fine", "language": "not a language"}], 1, "language"),
        ([], None, None),
        ("just a string", None, None),
    ],
)
def test_validation_errors_name_the_field(site: Site, body: Any, index: int | None, field: str | None) -> None:
    response = _post(site, body)
    assert response.status_code == 422
    errors = valid(response.get_json(), "/articles", "422", "post")["errors"]
    assert {"index": index, "field": field} in [{"index": e["index"], "field": e["field"]} for e in errors]


# Posted articles are about the bakers' story, not the samples': the sample story's analysis stays
# current (remaking it embeds every sentence of five articles, seconds on two cores).
CHINESE = {
    "title": "里昂面包节开幕",
    "text": "里昂的面包师周日举行了一年一度的面包节，评委品尝了酸面包和布里欧修，冠军食谱将于下周公布。",
    "url": "https://example.cn/lyon-bread",
    "source": "example.cn",
    "published": "2023-09-17",
}
COPY = {**CHINESE, "url": "https://copies.example/lyon-bread", "source": "copies.example"}
HTML_BODY = {"text": "<p>The <b>Lyon bread festival</b> crowned its best croissant on Sunday.</p>", "source": "example.org"}


@pytest.fixture(scope="module")
def posted(site: Site) -> dict[str, Any]:
    """One POST of three articles: in Chinese, a syndicated copy of it, and one with an HTML body."""
    response = _post(site, [CHINESE, COPY, HTML_BODY])
    assert response.status_code == 200, response.data
    result: dict[str, Any] = valid(response.get_json(), "/articles", "200", "post")
    return result


def test_posted_articles_go_through_the_pipeline(site: Site, posted: dict[str, Any]) -> None:
    assert posted["added"] == 3 and posted["duplicates"] == 1 and not posted["errors"]
    chinese_id, _, html_id = (a["article_id"] for a in posted["articles"])
    chinese = get_json(site, f"/articles/{chinese_id}.json", "/articles/{article_id}.json")
    assert chinese["language"] == "zh" and chinese["published"]["date"] == "2023-09-17"
    html_body = get_json(site, f"/articles/{html_id}.json", "/articles/{article_id}.json")
    assert "<b>" not in html_body["body"] and "Lyon bread festival" in html_body["body"]
    # a two-character Chinese word is found inside a longer run
    hits = get_json(site, "/search.json?mode=keyword&q=面包", "/search.json")["keyword"]
    assert chinese_id in {a["id"] for g in hits for a in g["articles"]}
    again = valid(_post(site, CHINESE).get_json(), "/articles", "200", "post")
    assert again["added"] == 0 and again["already_stored"] == 1 and len(again["stories"]) == 1


def test_a_syndicated_copy_is_linked_to_its_original(site: Site, posted: dict[str, Any]) -> None:
    original, copy = posted["articles"][:2]
    assert copy["decision"] == "duplicate" and copy["story_id"] == original["story_id"]
    near = get_json(site, f"/articles/{original['article_id']}.json", "/articles/{article_id}.json")["near_duplicates"]
    assert {"id": copy["article_id"], "relation": "copy"} in [{"id": n["id"], "relation": n["relation"]} for n in near]
    page = get_html(site, f"/articles/{copy['article_id']}")
    assert f'href="/articles/{original["article_id"]}"' in page


def test_request_bodies_are_bounded(site: Site) -> None:
    response = _post(site, {"text": "x" * MAX_REQUEST_BYTES})
    assert response.status_code == 413
    valid(response.get_json(), "/articles", "413", "post")


# --- storyweave serve ----------------------------------------------------------------------------


class _StoppedServer:
    """Stands in for werkzeug's server: reports its port, then stops as Ctrl-C would."""

    port = 8001

    def serve_forever(self) -> None:
        raise KeyboardInterrupt

    def server_close(self) -> None:
        pass


def test_serve_command(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    def make_server(host: str, port: int, app: Flask, threaded: bool) -> _StoppedServer:
        calls.append((host, port))
        assert threaded and app.url_map is not None
        return _StoppedServer()

    monkeypatch.setattr("werkzeug.serving.make_server", make_server)
    # The real group's context settings: click caches a command's help option on first use, and
    # docs/cli.md shows the `-h, --help` of the real group.
    from storyweave.cli import main

    group = click.Group(commands=[serve], context_settings=main.context_settings)
    result = CliRunner().invoke(group, ["serve"], obj=_context(site.db), catch_exceptions=False)
    assert result.exit_code == 0 and calls == [("127.0.0.1", 8001)]
    assert "http://127.0.0.1:8001/" in result.stderr and "read-write" in result.stderr
    assert CliRunner().invoke(group, ["serve", "--port", "70000"], obj=_context(site.db)).exit_code == 2
