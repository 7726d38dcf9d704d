"""`storyweave watch` and `storyweave sources` end to end, against a local HTTP server.

The server plays several sites at once: an OPML list of an Albanian RSS feed and an Arabic Atom
feed, a Malay news sitemap, an RSS 1.0 feed carrying an AMP copy, and a syndicated copy on a second
host name (localhost), all serving the five sample articles as HTML pages. Private addresses are
allowed through the setting, because the server is on 127.0.0.1. Every test runs on both stores,
SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from storyweave.cli import Context
from storyweave.ingest import read_paths
from storyweave.records import RawDoc
from storyweave.watch import MAX_BACKOFF_SECONDS, backoff_seconds
from storyweave.watch_cli import sources, watch
from tests.test_fetch import Route, Server

from .helpers import query_rows
from .pg import STORES, fresh_store, postgres_server  # noqa: F401  (fixtures)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LANGUAGES = {"000": "sq", "001": "sq", "002": "ar", "003": "ms", "004": "ar"}
LAUGHS_OPML = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><opml><body><outline xmlUrl="http://x.example/&lol2;"/></body></opml>"""
ENVIRONMENT = {
    "STORYWEAVE_ALLOW_PRIVATE_ADDRESSES": "1",
    "STORYWEAVE_HOST_DELAY": "0",
    "STORYWEAVE_FETCH_TIMEOUT": "5",
}


@click.group()
@click.option("--db")
@click.pass_context
def cli(click_ctx: click.Context, db: str | None) -> None:
    """The two commands on a group of their own, as cli.py registers them on `main`."""
    click_ctx.obj = Context(db)


cli.add_command(watch)
cli.add_command(sources)


def invoke(db: str, *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    out = result.stdout.strip()
    return result.exit_code, json.loads(out) if out.startswith(("{", "[")) else out, result.stderr


rows = query_rows


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind."""
    return fresh_store(request, tmp_path)


@pytest.fixture(scope="module", autouse=True)
def environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENVIRONMENT.items():
            patch.setenv(name, value)
        yield


# --- the site ----------------------------------------------------------------------------------


def samples() -> dict[str, RawDoc]:
    docs = [d for d in read_paths([EXAMPLES]) if isinstance(d, RawDoc)]
    return {Path(d.origin).name[:3]: d for d in docs}


def page(doc: RawDoc, canonical: str) -> bytes:
    """A news page around a sample article: <title> and <h1> only where the sample has a title."""
    title = f"<title>{html.escape(doc.title)}</title>" if doc.title else ""
    heading = f"<h1>{html.escape(doc.title)}</h1>" if doc.title else ""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in doc.text.split("\n") if p.strip())
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{title}<link rel="canonical" href="{canonical}"></head>'
        f"<body><nav><a href='/'>Home</a></nav><article>{heading}{paragraphs}</article>"
        f"<footer>© News</footer></body></html>"
    ).encode()


def rss(items: list[tuple[str, str, str]], language: str) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><pubDate>{d}</pubDate></item>" for u, t, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Lajme</title><language>{language}</language>{entries}</channel></rss>'.encode()


def build_site(server: Server) -> dict[str, str]:
    """The routes of every site the tests poll; returns the source URLs by name."""
    docs = samples()
    url = server.url
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n")
    for key, doc in docs.items():
        server.routes[f"/news/{key}.html"] = Route(page(doc, url(f"/news/{key}.html")))
    server.routes["/amp/news/001.html"] = Route(page(docs["001"], url("/news/001.html")))
    server.routes["/syndicated/003.html"] = Route(page(docs["003"], url("/syndicated/003.html", host="localhost")))
    server.routes["/feeds/sq.rss"] = Route(rss([
        (url("/news/000.html?utm_source=rss&utm_medium=feed"), "Putini pranon ftesën për në Korenë e Veriut", "Wed, 13 Sep 2023 09:00:00 GMT"),
        (url("/news/000.html"), "Putini pranon ftesën për në Korenë e Veriut", "Wed, 13 Sep 2023 09:00:00 GMT"),
        (url("/news/001.html"), "Kim Jong Un do të vizitojë Rusinë", "Mon, 11 Sep 2023 09:00:00 GMT"),
    ], "sq"), etag='"sq-1"')
    server.routes["/feeds/ar.atom"] = Route(f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar"><title>أخبار</title><id>urn:ar</id><updated>2023-09-14T08:00:00Z</updated>
<entry><title>بوتين يقبل دعوة كيم</title><id>urn:ar:2</id><link href="{url('/news/002.html')}"/><updated>2023-09-14T08:00:00Z</updated></entry>
<entry><title>لقاء كيم وبوتين يقلق 3 دول</title><id>urn:ar:4</id><link href="{url('/news/004.html')}"/><updated>2023-09-15T08:00:00Z</updated></entry>
</feed>""".encode(), etag='"ar-1"', headers={"Content-Type": "application/atom+xml"})
    server.routes["/feeds/list.opml"] = Route(f"""<?xml version="1.0"?><opml version="2.0"><head><title>Korea</title></head><body>
<outline text="sq" type="rss" xmlUrl="{url('/feeds/sq.rss')}"/><outline text="ar" type="rss" xmlUrl="/feeds/ar.atom"/></body></opml>""".encode(), etag='"opml-1"')
    server.routes["/feeds/amp.rdf"] = Route(f"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="{url('/feeds/amp.rdf')}"><title>AMP</title></channel>
<item rdf:about="{url('/amp/news/001.html')}"><title>AMP copy</title><link>{url('/amp/news/001.html')}</link></item></rdf:RDF>""".encode(), etag='"rdf-1"')
    server.routes["/sitemaps/news.xml"] = Route(f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{url('/news/003.html')}</loc><news:news><news:publication><news:name>Berita</news:name><news:language>ms</news:language></news:publication>
<news:publication_date>2023-09-05T10:00:00+08:00</news:publication_date><news:title>Kim dan Putin akan bertemu</news:title></news:news></url>
<url><loc>{url('/syndicated/003.html', host='localhost')}</loc></url></urlset>""".encode(), etag='"sitemap-1"')
    return {name: url(path) for name, path in [
        ("opml", "/feeds/list.opml"), ("sitemap", "/sitemaps/news.xml"), ("rdf", "/feeds/amp.rdf"), ("page", "/news/004.html"),
    ]}


@pytest.fixture(scope="module", params=STORES)
def watched(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two `watch --once` runs over the same sources, with what the server saw in each."""
    db = fresh_store(request, tmp_path_factory.mktemp("watch"))
    with Server() as server:
        sources = build_site(server)
        first = invoke(db, "watch", "--once", "--json", sources["opml"], sources["sitemap"], sources["rdf"], sources["page"])
        seen_first = list(server.seen)
        server.seen.clear()
        second = invoke(db, "watch", "--once", "--json")
        yield {"db": db, "server": server, "first": first, "second": second, "seen_first": seen_first, "seen_second": list(server.seen)}


# --- one poll, then another --------------------------------------------------------------------


def test_the_samples_are_stored_once_each_with_their_languages(watched: dict[str, Any]) -> None:
    code, report, err = watched["first"]
    assert code == 0, err
    assert report["added"] == 6 and report["duplicates"] == 1 and report["failed_polls"] == 0, report
    server: Server = watched["server"]
    stored = rows(watched["db"], "SELECT url, language, duplicate_of FROM articles")
    originals = {r["url"]: r["language"] for r in stored if r["duplicate_of"] is None}
    assert originals == {server.url(f"/news/{key}.html"): language for key, language in LANGUAGES.items()}
    (copy,) = [r for r in stored if r["duplicate_of"] is not None]
    assert copy["url"] == server.url("/syndicated/003.html", host="localhost")  # syndicated: stored once more, linked


def test_copies_are_not_fetched_twice(watched: dict[str, Any]) -> None:
    paths = [s.path for s in watched["seen_first"]]
    assert paths.count("/news/000.html") == 1  # the utm_ link and the plain one are one URL
    assert paths.count("/news/004.html") == 1  # a source of its own, and an item of the Atom feed
    assert paths.count("/news/001.html") + paths.count("/amp/news/001.html") == 1  # AMP copy or original, not both
    assert all(s.headers["user-agent"].startswith("storyweave/") for s in watched["seen_first"])


def test_the_feed_fills_what_the_page_leaves_out(watched: dict[str, Any]) -> None:
    server: Server = watched["server"]
    by_url = {r["url"]: r for r in rows(watched["db"], "SELECT url, title, published, published_precision FROM articles")}
    untitled = by_url[server.url("/news/002.html")]  # the page has no title and no date; its Atom entry has both
    assert untitled["title"] == "بوتين يقبل دعوة كيم"
    assert (untitled["published"], untitled["published_precision"]) == ("2023-09-14", "day")


def test_the_samples_make_one_story(watched: dict[str, Any]) -> None:
    stories = rows(watched["db"], "SELECT DISTINCT story_id FROM articles")
    detail = [tuple(r) for r in rows(watched["db"], "SELECT url, language, published, decision, score, story_id FROM articles")]
    assert len(stories) == 1, detail


def test_a_second_poll_is_conditional_and_fetches_nothing(watched: dict[str, Any]) -> None:
    code, report, err = watched["second"]
    assert code == 0, err
    assert report == {"polls": 6, "unchanged": 5, "failed_polls": 0, "pages": 0, "added": 0, "duplicates": 0, "already_stored": 0, "errors": []}
    feeds = [s for s in watched["seen_second"] if s.path not in ("/robots.txt", "/news/004.html")]
    assert sorted(s.path for s in feeds) == ["/feeds/amp.rdf", "/feeds/ar.atom", "/feeds/list.opml", "/feeds/sq.rss", "/sitemaps/news.xml"]
    assert all(s.headers.get("if-none-match") and s.status == 304 for s in feeds)
    # The page source has no validators to offer: it is fetched again, and its article is known.
    assert [s.path for s in watched["seen_second"]].count("/news/004.html") == 1


def test_sources_list_shows_each_source_status(watched: dict[str, Any]) -> None:
    code, listed, _ = invoke(watched["db"], "sources", "list", "--json")
    assert code == 0
    by_url = {s["url"]: s for s in listed}
    server: Server = watched["server"]
    opml, atom = by_url[server.url("/feeds/list.opml")], by_url[server.url("/feeds/ar.atom")]
    assert (opml["kind"], opml["parent"], atom["kind"], atom["parent"]) == ("opml", None, "atom10", opml["url"])
    assert by_url[server.url("/news/004.html")]["kind"] == "page"
    assert atom["articles"] + by_url[server.url("/news/004.html")]["articles"] == 2
    assert sum(s["articles"] for s in listed) == 6
    for source in listed:
        assert source["last_error"] is None and source["failures"] == 0 and source["last_success"]
        gap = dt.datetime.fromisoformat(source["next_poll"]) - dt.datetime.fromisoformat(source["last_poll"])
        assert abs(gap.total_seconds() - 900) <= 2
    code, text, _ = invoke(watched["db"], "sources", "list")
    assert code == 0 and "  " + server.url("/feeds/sq.rss") in text  # listed sources under their list


# --- failures ----------------------------------------------------------------------------------


def _status(db: str) -> dict[str, dict[str, Any]]:
    return {s["url"]: s for s in invoke(db, "sources", "list", "--json")[1]}


def _gap(source: dict[str, Any]) -> float:
    return (dt.datetime.fromisoformat(source["next_poll"]) - dt.datetime.fromisoformat(source["last_poll"])).total_seconds()


def test_a_failing_source_is_backed_off_and_fails_alone(db: str) -> None:
    with Server() as server:
        server.routes["/flaky.xml"] = Route(status=500)
        server.routes["/evil.opml"] = Route(LAUGHS_OPML)
        server.routes["/good.rss"] = Route(rss([], "en"))
        server.routes["/menu.html"] = Route(b"<!DOCTYPE html><html><head><title>Menu</title></head><body><img src='/logo.png'></body></html>")
        flaky, evil, good, menu = (server.url(p) for p in ("/flaky.xml", "/evil.opml", "/good.rss", "/menu.html"))
        gaps = []
        for _ in range(2):
            code, report, _ = invoke(db, "watch", "--once", "--json", "--interval", "60", flaky, evil, good, menu)
            assert code == 1 and report["failed_polls"] == 3 and report["polls"] == 4
            status = _status(db)
            gaps.append(_gap(status[flaky]))
            assert abs(_gap(status[good]) - 60) <= 2 and status[good]["failures"] == 0
        assert gaps == [120.0, 240.0]
        assert status[flaky]["failures"] == 2 and status[flaky]["last_error"] == f"{flaky}: HTTP 500 Internal Server Error"
        assert status[evil]["last_error"].startswith(f"{evil}: refused: the document declares XML entities")
        assert status[menu]["last_error"] == f"{menu}: no article text found in the page"
        server.routes["/flaky.xml"] = Route(rss([], "en"))
        invoke(db, "watch", "--once", flaky)
        recovered = _status(db)[flaky]
        assert recovered["failures"] == 0 and abs(_gap(recovered) - 60) <= 2
        assert recovered["last_error"] and recovered["last_success"] >= recovered["last_error_at"]  # history kept
    assert backoff_seconds(60, 30) == MAX_BACKOFF_SECONDS and backoff_seconds(2 * MAX_BACKOFF_SECONDS, 3) == 2 * MAX_BACKOFF_SECONDS


def test_items_that_fail(db: str) -> None:
    """A refused item is reported and dropped; a page robots.txt forbids gives way to the feed's own
    text; a page that fails for now is tried again on the next poll, which must not get a 304."""
    with Server() as server:
        server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n")
        server.routes["/busy.html"] = Route(status=503)
        items = "".join(
            f"<item><title>{title}</title><link>{link}</link>{extra}</item>" for link, title, extra in [
                ("http://169.254.169.254/latest/meta-data/", "metadata", ""),
                (server.url("/private/kim.html"), "Kim Jong Un arrives in Russia",
                 ("<description>&lt;p&gt;Kim Jong Un arrived in Russia by armoured train on Tuesday to meet "
                  "Vladimir Putin at the Vostochny cosmodrome.&lt;/p&gt;</description>")),
                (server.url("/busy.html"), "busy", ""),
            ]
        )
        server.routes["/feed.rss"] = Route(f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode(), etag='"v1"')
        code, report, _ = invoke(db, "watch", "--once", "--json", server.url("/feed.rss"))
        assert code == 0 and report["added"] == 1 and report["pages"] == 0
        assert report["errors"] == [
            "http://169.254.169.254/latest/meta-data/: refused: 169.254.169.254 resolves to 169.254.169.254, a cloud metadata address",
            f"{server.url('/busy.html')}: HTTP 503 Service Unavailable",
        ]
        (stored,) = rows(db, "SELECT url, title, body FROM articles")
        assert (stored["url"], stored["title"]) == (server.url("/private/kim.html"), "Kim Jong Un arrives in Russia")
        assert stored["body"].startswith("Kim Jong Un arrived in Russia by armoured train")
        server.seen.clear()
        code, report, _ = invoke(db, "watch", "--once", "--json")
        assert report["errors"] == [f"{server.url('/busy.html')}: HTTP 503 Service Unavailable"]
        feed_request = next(s for s in server.seen if s.path == "/feed.rss")
        assert "if-none-match" not in feed_request.headers and feed_request.status == 200
        assert [s.path for s in server.seen if s.path not in ("/robots.txt", "/feed.rss")] == ["/busy.html"]


# --- stopping and resuming ---------------------------------------------------------------------


def test_sigterm_stops_after_the_item_under_way_and_a_restart_resumes(db: str) -> None:
    docs = {key: doc for key, doc in samples().items() if key in ("000", "001", "003")}
    with Server() as server:
        for key, doc in docs.items():
            server.routes[f"/news/{key}.html"] = Route(page(doc, server.url(f"/news/{key}.html")))
        server.routes["/feed.rss"] = Route(rss([(server.url(f"/news/{k}.html"), f"item {k}", "") for k in sorted(docs)], "en"), etag='"v1"')
        server.routes["/news/001.html"].on_request = lambda: os.kill(os.getpid(), signal.SIGTERM)
        code, report, err = invoke(db, "watch", "--json", server.url("/feed.rss"))  # no --once: only the signal ends it
        assert code == 0 and "SIGTERM: stopping" in err
        assert report["added"] == 2  # 000, and 001, under way when the signal came
        assert _status(db)[server.url("/feed.rss")]["next_poll"] is None  # the poll did not finish: due again
        server.routes["/news/001.html"].on_request = None
        server.seen.clear()
        code, report, _ = invoke(db, "watch", "--once", "--json")
        assert code == 0 and report["added"] == 1
        feed_request = next(s for s in server.seen if s.path == "/feed.rss")
        assert "if-none-match" not in feed_request.headers  # validators are saved only with a finished poll
        assert [s.path for s in server.seen if s.path.startswith("/news/")] == ["/news/003.html"]
    urls = [r["url"] for r in rows(db, "SELECT url FROM articles")]
    assert len(urls) == 3 == len(set(urls))


# --- managing sources --------------------------------------------------------------------------


def test_sources_add_list_remove(db: str, tmp_path: Path) -> None:
    with Server() as server:
        server.routes["/list.opml"] = Route(f'<opml><body><outline xmlUrl="{server.url("/a.rss")}"/><outline xmlUrl="/b.rss"/></body></opml>'.encode())
        server.routes["/a.rss"] = server.routes["/b.rss"] = Route(rss([], "en"))
        code, out, _ = invoke(db, "sources", "add", "--interval", "120", server.url("/list.opml"))
        assert code == 0 and out == f"{server.url('/list.opml')}  every 120 s"
        invoke(db, "watch", "--once", "-q")
    assert len(_status(db)) == 3
    opml = tmp_path / "export.opml"
    opml.write_text('<opml version="1.0"><body><outline text="News"><outline xmlUrl="https://a.example/rss"/>'
                    '<outline xmlUrl="https://b.example/atom"/><outline xmlUrl="relative.xml"/></outline></body></opml>')
    code, out, _ = invoke(db, "sources", "import", str(opml))
    assert code == 0 and out == f"2 sources added from {opml}"
    assert {"https://a.example/rss", "https://b.example/atom"} <= set(_status(db))
    invoke(db, "sources", "remove", "https://a.example/rss", "https://b.example/atom")
    code, _, err = invoke(db, "sources", "import", str(EXAMPLES / "000_1b272e31da73a4e6.txt"))
    assert code != 0 and "not an RSS or Atom feed" in err
    code, _, err = invoke(db, "sources", "add", "ftp://example.com/feed")
    assert code != 0 and "not an http or https URL" in err
    code, _, err = invoke(db, "sources", "add", "--interval", "5", "https://example.com/feed")
    assert code != 0 and "under the 60 s minimum" in err
    code, _, _ = invoke(db, "sources", "remove", server.url("/list.opml"))
    assert code == 0 and _status(db) == {}  # the feeds it listed went with it
    code, _, err = invoke(db, "sources", "remove", "https://u:secret@example.com/nope")
    assert code != 0 and "not a stored source: https://example.com/nope" in err and "secret" not in err
    code, _, err = invoke(db, "watch", "--once")
    assert code != 0 and "no sources" in err
