"""Reading sources: RSS/Atom, OPML, sitemaps and pages; URL identity; hostile documents."""

from __future__ import annotations

import gzip
import logging
import time

import pytest

from storyweave.feeds import (
    MAX_ITEM_HTML_CHARS,
    Feed,
    FeedError,
    amp_original,
    article_url,
    normalise_url,
    parse_feed,
    parse_page,
)
from storyweave.records import IngestError, RawDoc

SOURCE = "https://reader:s3cret@news.example/feeds/main.xml"
SHOWN = "https://news.example/feeds/main.xml"  # how the source is named in errors: no credentials
LIMIT = 10_000_000

RUSSIAN = "Путин встретился с Ким Чен Ыном на космодроме Восточный"
ARABIC = "وافق الرئيس الروسي فلاديمير بوتين على التوجه إلى كوريا الشمالية بدعوة من زعيمها كيم جونغ أون"
FRENCH = "Le président russe a accueilli le dirigeant nord-coréen à l'été, a-t-il déclaré"


def parse(body: bytes, **options: str) -> Feed:
    return parse_feed(body, SOURCE, max_bytes=LIMIT, **options)


# --- what a source is --------------------------------------------------------------------------


def test_rss2_items_with_relative_links_dates_and_language() -> None:
    feed = parse_feed(b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Daily &amp; Co</title><language>sq</language>
<item><title>Kim arrives</title><link>/news/1.html</link><pubDate>Wed, 13 Sep 2023 10:00:00 +0200</pubDate>
<description>&lt;p&gt;Kim Jong Un arrived.&lt;/p&gt;</description></item>
<item><title>No link at all</title><description>skipped: nothing to fetch or store under</description></item>
</channel></rss>""", SOURCE, max_bytes=LIMIT)
    assert feed.kind == "rss20" and feed.title == "Daily & Co" and feed.language == "sq"
    (item,) = feed.items
    assert item.url == "https://reader:s3cret@news.example/news/1.html"
    assert item.published == "2023-09-13T08:00:00Z" and item.language == "sq"
    assert item.summary == "<p>Kim Jong Un arrived.</p>"


def test_rss1_rss091_and_atom() -> None:
    rdf = parse(b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="x"><title>R</title></channel>
<item rdf:about="https://news.example/a"><title>A</title><link>https://news.example/a</link><dc:date>2023-09-13</dc:date></item></rdf:RDF>""")
    assert rdf.kind == "rss10" and [(i.url, i.published[:10]) for i in rdf.items] == [("https://news.example/a", "2023-09-13")]
    old = parse(b"""<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>Old</title>
<item><title>B</title><link>https://news.example/b</link></item></channel></rss>""")
    assert old.kind.startswith("rss09") and old.items[0].url == "https://news.example/b"
    atom = parse(b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title type="html">&lt;b&gt;Nachrichten&lt;/b&gt;</title>
<entry><title>Eins</title><link rel="alternate" href="https://news.example/1"/><id>tag:x,1</id>
<updated>2023-09-13T10:00:00Z</updated><content type="html">&lt;p&gt;Text&lt;/p&gt;</content></entry></feed>""")
    assert atom.kind == "atom10" and atom.title == "Nachrichten"
    assert [(i.url, i.title, i.language, i.published) for i in atom.items] == [("https://news.example/1", "Eins", "de", "2023-09-13T10:00:00Z")]


def test_opml_lists_feeds() -> None:
    feed = parse(b"""<?xml version="1.0"?><opml version="2.0"><head><title>My news</title></head><body>
<outline text="World"><outline type="rss" xmlUrl="https://a.example/rss"/><outline xmlurl="/b.atom"/></outline>
<outline xmlUrl="https://a.example/rss"/><outline xmlUrl="javascript:alert(1)"/><outline text="no feed"/></body></opml>""")
    assert feed.kind == "opml" and feed.title == "My news"
    assert feed.sources == ("https://a.example/rss", "https://reader:s3cret@news.example/b.atom")


def test_news_sitemap_newest_first() -> None:
    feed = parse(b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example/old.html</loc><lastmod>2023-09-01</lastmod></url>
<url><loc>https://news.example/fr.html</loc><news:news><news:publication><news:name>Le Site</news:name>
<news:language>fr</news:language></news:publication><news:publication_date>2023-09-13T10:00:00+02:00</news:publication_date>
<news:title>Le dirigeant nord-cor\xc3\xa9en en Russie</news:title></news:news></url></urlset>""")
    assert feed.kind == "urlset"
    assert [(i.url, i.title, i.language, i.published) for i in feed.items] == [
        ("https://news.example/fr.html", "Le dirigeant nord-coréen en Russie", "fr", "2023-09-13T10:00:00+02:00"),
        ("https://news.example/old.html", "", "", "2023-09-01"),
    ]


def test_sitemap_index_and_gzipped_sitemap() -> None:
    index = parse(b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://news.example/s1.xml.gz</loc></sitemap></sitemapindex>')
    assert index.kind == "sitemapindex" and index.sources == ("https://news.example/s1.xml.gz",)
    packed = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/z</loc></url></urlset>')
    assert [i.url for i in parse(packed).items] == ["https://news.example/z"]
    bomb = gzip.compress(b" " * 2_000_000)
    with pytest.raises(FeedError, match="decompresses to more than"):
        parse_feed(bomb, SOURCE, max_bytes=1_000_000)


def test_an_html_page_is_a_single_article() -> None:
    assert parse(b"\n<!DOCTYPE html><html lang='en'><head><title>x</title></head><body><p>Hi</p></body></html>").kind == "page"
    assert parse(b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body/></html>").kind == "page"


# --- hostile documents -------------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""


@pytest.mark.parametrize(
    "document",
    [
        b"<opml version='2.0'><head><title>&lol9;</title></head><body><outline xmlUrl='https://a.example/&lol9;'/></body></opml>",
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>https://a.example/&lol9;</loc></url></urlset>",
        b"<rss version='2.0'><channel><title>&lol9;</title><item><link>https://a.example/x</link></item></channel></rss>",
    ],
    ids=["opml", "sitemap", "rss"],
)
def test_billion_laughs_is_refused_naming_the_source(document: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match="declares XML entities") as err:
        parse(LAUGHS + document)
    assert str(err.value).startswith(SHOWN + ": ") and "s3cret" not in str(err.value)
    assert time.monotonic() - started < 1.0


def test_a_flat_entity_blowup_is_refused_too() -> None:
    # feedparser keeps entity declarations without "&" in them and expands them: 100 KB x 1000.
    quadratic = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"x" * 100_000 + b'">]>'
                 b"<rss version='2.0'><channel><title>" + b"&a;" * 1000 + b"</title></channel></rss>")
    with pytest.raises(FeedError, match="declares XML entities"):
        parse(quadratic)
    # ... also when the XML is broken before its root, where defusedxml never reaches the DTD.
    with pytest.raises(FeedError, match="declares XML entities"):
        parse(b'junk<!DOCTYPE rss [<!ENTITY a "xx">]><rss version="2.0"><channel><title>&a;</title></channel></rss>')


def test_an_enormous_item_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    huge = b"<p>Kim Jong Un arrived in Russia.</p>" * 150_000  # 5.5 MB in one item
    body = (b"<rss version='2.0'><channel><title>T</title><item><title>" + b"Long " * 10_000 + b"</title>"
            b"<link>https://news.example/huge</link><description><![CDATA[" + huge + b"]]></description></item>"
            b"<item><title>Small</title><link>https://news.example/small</link></item></channel></rss>")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="storyweave.feeds"):
        feed = parse(body)
    assert time.monotonic() - started < 3.0
    big, small = feed.items
    assert len(big.summary) == MAX_ITEM_HTML_CHARS and len(big.title) <= 500 and small.title == "Small"
    assert f"{SHOWN}: item https://news.example/huge carries" in caplog.text


def test_broken_xml_is_a_clear_error_naming_the_source() -> None:
    with pytest.raises(FeedError, match=r"not an RSS or Atom feed.*broken XML") as err:
        parse(b"<<<this is not xml>>> at all")
    assert str(err.value).startswith(SHOWN)
    with pytest.raises(FeedError, match=r"broken XML at line 2, column \d+") as err:
        parse(b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>\n<url><loc>https://a.example/</url></urlset>")
    assert str(err.value).startswith(SHOWN)


def test_a_feed_broken_halfway_keeps_the_items_before_the_break(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="storyweave.feeds"):
        feed = parse(b"<rss version='2.0'><channel><title>T</title><item><title>Tom & Jerry</title>"
                     b"<link>https://news.example/a</link></item><item><title>B</tit")
    assert feed.items[0].title == "Tom & Jerry"
    assert f"{SHOWN}: malformed feed at line 1" in caplog.text


def test_a_wrong_charset_declaration_is_corrected_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новости</title>'
            f"<item><title>{RUSSIAN}</title><link>https://news.example/ru</link></item></channel></rss>").encode("cp1251")
    with caplog.at_level(logging.WARNING, logger="storyweave.feeds"):
        feed = parse(body, charset="utf-8")
    assert feed.title == "Новости" and feed.items[0].title == RUSSIAN
    assert f"{SHOWN}: declared charset utf-8 does not match the content" in caplog.text
    # A server that says Latin-1 about a UTF-8 sitemap: the bytes are valid UTF-8, so UTF-8 it is.
    sitemap = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
               f"<url><loc>https://news.example/fr</loc><news:news><news:title>{FRENCH}</news:title></news:news></url></urlset>")
    assert parse(sitemap.encode("utf-8"), charset="iso-8859-1").items[0].title == FRENCH


def test_a_page_whose_http_charset_is_wrong_is_read_in_its_own() -> None:
    page = (f'<html><head><meta charset="windows-1256"><title>{ARABIC[:40]}</title></head><body><article>'
            + f"<p>{ARABIC}.</p>" * 6 + "</article></body></html>").encode("cp1256")
    doc = parse_page(page, "https://news.example/ar.html", content_type="text/html", charset="utf-8")
    assert isinstance(doc, RawDoc) and ARABIC in doc.text


def test_a_page_that_is_not_html_is_an_error() -> None:
    error = parse_page(b"%PDF-1.7", "https://u:p@news.example/a.pdf", content_type="application/pdf")
    assert isinstance(error, IngestError) and error.origin == "https://news.example/a.pdf"
    assert "not an HTML page but application/pdf" in error.message


# --- URL identity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/News/A?b=2&utm_source=rss&a=1&fbclid=xyz#comments", "https://www.example.com/News/A?a=1&b=2"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/a?gclid=1&mc_cid=2&UTM_Medium=3", "http://example.com:8080/a"),
        ("https://example.com/a?q=caf%C3%A9+au+lait&x=%2F", "https://example.com/a?q=caf%C3%A9+au+lait&x=%2F"),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "original"),
    [
        ("https://amp.example.com/news/a", "https://example.com/news/a"),
        ("https://example.com/news/a/amp/", "https://example.com/news/a"),
        ("https://example.com/news/a?amp=1&id=3", "https://example.com/news/a?id=3"),
        ("https://example.com/news/a?outputType=amp", "https://example.com/news/a"),
        ("https://example.com/amp/news/a", "https://example.com/news/a"),
        ("https://example.com/news/world-123.amp", "https://example.com/news/world-123"),
        ("https://www-example-com.cdn.ampproject.org/c/s/www.example.com/news/a", "https://www.example.com/news/a"),
        ("https://example.com/news/ampere", ""),
        ("https://example.com/news/a", ""),
    ],
)
def test_amp_original(url: str, original: str) -> None:
    assert amp_original(url) == original


def test_article_url_prefers_a_credible_canonical() -> None:
    fetched = "https://m.example.com/news/a?utm_source=feed"
    assert article_url(fetched, "https://www.example.com/news/a") == "https://www.example.com/news/a"
    assert article_url(fetched, "https://www.example.com/") == "https://m.example.com/news/a"  # a front page: a CMS mistake
    assert article_url("https://u:p@example.com/a", "") == "https://example.com/a"
