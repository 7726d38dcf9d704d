"""Feeds, OPML lists, sitemaps and pages as fetched bytes, read into items; URL identity.

:func:`parse_feed` takes whatever a source URL answered and says what it is: an RSS 0.9x/1.0/2.0
or Atom feed (read by feedparser), an OPML list of feeds or a sitemap index (both list further
sources), a sitemap with or without the Google News extension (its ``<news:title>``,
``<news:publication_date>`` and ``<news:language>`` are kept), or an HTML page (a single article,
read by :func:`parse_page` through the ingest stage's :func:`~storyweave.ingest.html.parse_html`).

Feeds are written by strangers, so the bytes are treated as hostile. Every XML document is first
read by defusedxml up to its root element: one that declares entities is refused outright, which
stops "billion laughs" and its quadratic cousin (feedparser removes nested entity declarations but
keeps and expands flat ones: one 100 KB entity used a thousand times gave a 100 MB title). OPML
lists and sitemaps are then parsed by defusedxml itself. Charset declarations are checked against
the bytes, and a wrong one is logged and replaced by detection; broken XML is an error naming the
source (or a warning when feedparser's lenient parser still recovers items); enormous items are cut.

:func:`normalise_url` and :func:`amp_original` decide when two URLs are the same article.
"""

from __future__ import annotations

import codecs
import html
import io
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit
from xml.etree.ElementTree import Element, ParseError

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring

from .fetch import inflate, redact
from .ingest.files import decode_bytes
from .ingest.html import decode_html, parse_html
from .records import IngestError, RawDoc

__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "Feed",
    "FeedError",
    "FeedItem",
    "amp_original",
    "article_url",
    "normalise_url",
    "parse_feed",
    "parse_page",
]

LOGGER = logging.getLogger(__name__)

# Accept headers: what a source URL and an item's page are asked for.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
    "text/xml;q=0.9, text/x-opml;q=0.9, text/html;q=0.5, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

# Media types read as HTML pages; a page served without a Content-Type is tried as HTML too.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Caps on what one document may hand over. A real feed lists 10-100 items and a news sitemap up to
# 1,000 (Google's limit); a general sitemap may list 50,000, of which the newest are kept. An
# item's own text (its description or content) is only a fallback for a page that gives none, and
# a full article is under 100 KB of HTML, so more is cut; titles run 30-120 characters.
MAX_ITEMS = 1000
MAX_LISTED_SOURCES = 1000
MAX_ITEM_HTML_CHARS = 200_000
MAX_TITLE_CHARS = 500

# Query parameters that only say where a click came from; two URLs differing in them are the same
# article. Prefixes cover families (utm_source, utm_medium...; Matomo's mtm_, Piwik's pk_).
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "ocid", "cmpid", "smid", "s_cid", "at_medium", "at_campaign",
})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
DEFAULT_PORTS = {"http": 80, "https": 443}

# AMP copies: /amp or /amp/ at the end of the path, .amp at the end of the path, /amp/ at its start,
# an amp= or outputType=amp parameter, an amp. host, and Google's AMP cache
# (https://www-site-com.cdn.ampproject.org/c/s/www.site.com/path).
_AMP_PATH_END = re.compile(r"/amp/?$|\.amp$", re.IGNORECASE)
_AMP_PATH_START = re.compile(r"^/amp(?=/)", re.IGNORECASE)
_AMP_PARAMS = frozenset({"amp", "outputtype", "_amp"})
_AMP_CACHE_HOST = ".cdn.ampproject.org"
_AMP_CACHE_PATH = re.compile(r"^/[a-z]/(?P<secure>s/)?(?P<rest>[^/]+.*)$")

# An HTML page opens like this (after a BOM, whitespace, an XML declaration or comments); looked for
# in the first bytes only, before anything is decoded.
HTML_SNIFF_BYTES = 4096
_HTML_OPENING = re.compile(rb"\A(?:\s|<\?xml[^>]*>|<!--.*?-->)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# An XML declaration and its encoding, rewritten to UTF-8 once the text is decoded.
_XML_DECLARATION = re.compile(r"\A<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'


# Labels that browsers read as windows-1252 (WHATWG Encoding Standard): Latin-1 declared, cp1252 sent.
_WHATWG_LABELS = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}

_TAG = re.compile(r"<[^>]*>")
_ENTITIES_REFUSED = (
    "refused: the document declares XML entities (an entity-expansion attack such as "
    "'billion laughs' is possible; no real feed, OPML list or sitemap needs them)"
)


class FeedError(ValueError):
    """A source whose document cannot be read, with the source named (credentials removed)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{redact(source)}: {message}")
        self.message = message


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One article a source lists: its page URL and whatever the source says about it."""

    url: str
    title: str = ""
    published: str = ""  # ISO 8601 when the source's date could be read, else as written
    language: str = ""
    summary: str = ""  # the item's description or content (HTML), used when its page gives no text


@dataclass(frozen=True, slots=True)
class Feed:
    """What a source URL turned out to be, and what it lists."""

    kind: str  # feedparser's version ("rss20", "atom10", "rss10"...), "opml", "sitemap", "sitemapindex", "page"
    title: str = ""
    language: str = ""
    items: tuple[FeedItem, ...] = ()  # newest first where dates say so
    sources: tuple[str, ...] = ()  # further sources listed by an OPML list or a sitemap index


# --- URL identity ------------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    """The form under which an article URL is stored and compared.

    Scheme and host lowercased, default port and fragment dropped, tracking parameters removed and
    the rest sorted (kept as written, not re-encoded). Anything not http(s) is returned as given.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        netloc = f"{userinfo}@{netloc}"
    pairs = sorted(p for p in parts.query.split("&") if p and not _is_tracking(p.partition("=")[0]))
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(pairs), ""))


def amp_original(url: str) -> str:
    """The non-AMP URL that an AMP-shaped URL stands for (normalised), or "" when it is not one.

    A guess from the URL's shape, used to skip fetching an AMP copy of an article already stored;
    the page's own ``<link rel=canonical>`` is what settles it once a page is fetched.
    """
    try:
        parts = urlsplit(normalise_url(url))
    except ValueError:
        return ""
    host = parts.hostname or ""
    if host.endswith(_AMP_CACHE_HOST):
        cached = _AMP_CACHE_PATH.match(parts.path)
        if cached is None:
            return ""
        scheme = "https" if cached["secure"] else "http"
        return normalise_url(f"{scheme}://{cached['rest']}" + (f"?{parts.query}" if parts.query else ""))
    netloc = parts.netloc.replace("amp.", "", 1) if host.startswith("amp.") else parts.netloc
    path = _AMP_PATH_START.sub("", _AMP_PATH_END.sub("", parts.path)) or "/"
    pairs = [p for p in parts.query.split("&") if p and not _is_amp_param(p)]
    original = urlunsplit((parts.scheme, netloc, path, "&".join(pairs), ""))
    return normalise_url(original) if original != urlunsplit(parts) else ""


def article_url(fetched: str, canonical: str) -> str:
    """The URL an article is stored under: the page's canonical link, unless it is not credible.

    A canonical link that points at a site's front page from an article is a common CMS mistake;
    trusting it would file every article of the site under one URL and drop all but the first.
    """
    if canonical:
        link = urlsplit(canonical)
        if link.scheme in DEFAULT_PORTS and (link.path not in ("", "/") or urlsplit(fetched).path in ("", "/")):
            return redact(normalise_url(canonical))
    return redact(normalise_url(fetched))


def _is_tracking(key: str) -> bool:
    name = unquote_plus(key).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _is_amp_param(pair: str) -> bool:
    key, _, value = pair.partition("=")
    key = unquote_plus(key).lower()
    return key in _AMP_PARAMS and (key != "outputtype" or value.lower() == "amp")


# --- Sources -----------------------------------------------------------------------------------


def parse_feed(body: bytes, url: str, *, charset: str = "", max_bytes: int) -> Feed:
    """What ``body`` (fetched from ``url``) is and what it lists; FeedError when it cannot be read.

    ``charset`` is the one the HTTP response declared; ``max_bytes`` caps a gzip-compressed
    sitemap once decompressed.
    """
    if body.startswith(_GZIP_MAGIC):  # sitemap.xml.gz, served as a file rather than Content-Encoding
        unpacked = inflate([body], max_bytes)
        if unpacked is None:
            raise FeedError(url, f"gzip file decompresses to more than {max_bytes} bytes")
        body = unpacked
    head = body[:HTML_SNIFF_BYTES]
    if _HTML_OPENING.match(head.removeprefix(codecs.BOM_UTF8)):
        return Feed(kind="page")
    text = _decode(body, [charset, _xml_encoding(head)], decode_bytes, redact(url))
    if isinstance(text, IngestError):
        raise FeedError(url, text.message)
    data = _as_utf8(text)
    root = _root_name(data, url)
    if root == "opml":
        return _parse_opml(data, url)
    if root in ("urlset", "sitemapindex"):
        return _parse_sitemap(data, url, root)
    if root == "html":
        return Feed(kind="page")
    return _parse_syndication(data, url)


def parse_page(body: bytes, url: str, *, content_type: str = "", charset: str = "") -> RawDoc | IngestError:
    """One article from its page: the HTTP charset, then the page's own, then detection."""
    origin = redact(url)
    if content_type and content_type not in HTML_TYPES:
        return IngestError(origin, f"not an HTML page but {content_type}")
    text = _decode(body, [charset], decode_html, origin)
    return text if isinstance(text, IngestError) else parse_html(text, origin)


def _decode(
    data: bytes, declared: Iterable[str], fallback: Callable[[bytes, str], str | IngestError], origin: str
) -> str | IngestError:
    """Text from bytes whose declared charset may be wrong.

    A byte-order mark wins; then UTF-8 if the bytes are valid UTF-8 (non-ASCII text in any other
    encoding almost never is); then each declared charset that decodes the bytes; then ``fallback``
    (detection). A declaration the bytes contradict is logged, naming the source.
    """
    if data.startswith(_BOMS):
        return decode_bytes(data, origin)
    labels = [label for label in dict.fromkeys(declared) if label]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        wrong = [label for label in labels if _codec(label) not in ("utf-8", "")]
        if wrong and not data.isascii():
            LOGGER.warning("%s: declared charset %s, but the content is UTF-8: read as UTF-8", origin, wrong[0])
        return text
    for label in labels:
        codec = _codec(label)
        if codec and codec != "utf-8":
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    found = fallback(data, origin)
    if labels and not isinstance(found, IngestError):
        LOGGER.warning("%s: declared charset %s does not match the content: encoding detected instead", origin, labels[0])
    return found


def _codec(label: str) -> str:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return ""
    return _WHATWG_LABELS.get(name, name)


def _xml_encoding(head: bytes) -> str:
    declaration = _XML_DECLARATION.match(head.decode("ascii", errors="replace").lstrip())
    found = _DECLARED_ENCODING.search(declaration.group()) if declaration else None
    return found.group(1) if found else ""


def _as_utf8(text: str) -> bytes:
    """The decoded document as UTF-8 bytes whose XML declaration says so (for the XML parsers).

    A document without a declaration gets one on its first line: feedparser would otherwise add one
    on a line of its own, and the line numbers in its error messages would be one off.
    """
    text = text.lstrip("\ufeff \t\r\n")  # whitespace before <?xml is an error; CMS templates emit it
    declaration = _XML_DECLARATION.match(text)
    if declaration is None:
        return (_UTF8_DECLARATION + text).encode("utf-8")
    if _DECLARED_ENCODING.search(declaration.group()) is None:
        return text.encode("utf-8")  # no encoding named: UTF-8 is the default
    return (_DECLARED_ENCODING.sub('encoding="utf-8"', declaration.group(), count=1) + text[declaration.end() :]).encode("utf-8")


class _RootFound(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _StopAtRoot:
    """An ElementTree parser target that stops the parse at the root element's start tag."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootFound(tag)

    def end(self, tag: str) -> None:
        """Never reached: the parse stops at the first start tag."""

    def data(self, data: str) -> None:
        """Text before the root element is whitespace; nothing to keep."""

    def close(self) -> None:
        """Nothing was built."""


def _root_name(data: bytes, url: str) -> str:
    """The root element's local name, read by defusedxml; entity declarations are refused.

    Empty when the XML is broken before its root: feedparser's lenient parser gets it then, after
    a plain search for entity declarations (the lenient parser would expand flat ones).
    """
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        parser.close()
    except _RootFound as found:
        return _local(found.tag)
    except DefusedXmlException:
        raise FeedError(url, _ENTITIES_REFUSED) from None
    except ParseError:
        pass
    if _ENTITY_DECLARATION.search(data):
        raise FeedError(url, _ENTITIES_REFUSED)
    return ""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2]


def _parse_xml(data: bytes, url: str) -> Element:
    try:
        root: Element = defused_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FeedError(url, _ENTITIES_REFUSED) from None
    except ParseError as exc:
        line, column = exc.position
        raise FeedError(url, f"broken XML at line {line}, column {column}: {str(exc).partition(': line')[0]}") from None
    return root


def _parse_opml(data: bytes, url: str) -> Feed:
    root = _parse_xml(data, url)
    listed: list[str] = []
    title = ""
    for element in root.iter():
        name = _local(element.tag)
        if name == "title" and not title:
            title = _clean_title(element.text or "")
        if name == "outline":
            link = next((v for k, v in element.attrib.items() if k.lower() == "xmlurl" and v.strip()), "")
            if link:
                listed.append(urljoin(url, link.strip()))
    return Feed(kind="opml", title=title, sources=_cap_sources(listed, url))


def _parse_sitemap(data: bytes, url: str, kind: str) -> Feed:
    root = _parse_xml(data, url)
    if kind == "sitemapindex":
        listed = [urljoin(url, text) for entry in root if (text := _child_text(entry, "loc"))]
        return Feed(kind=kind, sources=_cap_sources(listed, url))
    items: list[FeedItem] = []
    for entry in root:
        loc = _child_text(entry, "loc")
        if _local(entry.tag) != "url" or not loc:
            continue
        news = _child(entry, "news")
        publication = _child(news, "publication") if news is not None else None
        items.append(FeedItem(
            url=urljoin(url, loc),
            title=_clean_title(_child_text(news, "title")),
            published=_child_text(news, "publication_date") or _child_text(entry, "lastmod"),
            language=_child_text(publication, "language"),
        ))
    items.sort(key=lambda item: item.published, reverse=True)  # ISO 8601 dates sort as text
    return Feed(kind=kind, items=tuple(_cap_items(items, url)))


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c.tag) == name), None)


def _child_text(element: Element | None, name: str) -> str:
    found = _child(element, name)
    return (found.text or "").strip() if found is not None else ""


def _parse_syndication(data: bytes, url: str) -> Feed:
    # Given a stream (never a string, which feedparser may take for a URL or a path to open) and
    # the base URL for relative links. Its HTML sanitising is off: item HTML is only ever reduced
    # to text, never displayed, and sanitising a multi-megabyte item takes seconds.
    parsed: Any = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = _describe(parsed.get("bozo_exception") if parsed.get("bozo") else None)
    if not parsed.get("version") and not parsed.entries:
        detail = f": broken XML{problem}" if problem else ""
        raise FeedError(url, f"not an RSS or Atom feed, OPML list, sitemap or HTML page{detail}")
    if problem:
        LOGGER.warning("%s: malformed feed%s; items recovered by feedparser's lenient parser", redact(url), problem)
    feed = parsed.feed
    language = str(feed.get("language") or "")
    items = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if link:
            items.append(FeedItem(
                url=link,
                title=_clean_title(str(entry.get("title") or "")),
                published=_entry_date(entry),
                language=_entry_language(entry) or language,
                summary=_entry_html(entry, url),
            ))
    return Feed(
        kind=parsed.version or "feed",
        title=_clean_title(str(feed.get("title") or "")),
        language=language,
        items=tuple(_cap_items(items, url)),
    )


def _describe(problem: Any) -> str:
    """feedparser's bozo exception as " at line N (message)" (SAX errors carry a position)."""
    if problem is None:
        return ""
    line = getattr(problem, "getLineNumber", None)
    message = problem.getMessage() if hasattr(problem, "getMessage") else str(problem)
    return f" at line {line()} ({message})" if callable(line) and line() else f" ({message})"


def _entry_link(entry: Any) -> str:
    candidates = [entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links", []) if link.get("rel", "alternate") == "alternate"]
    if entry.get("guidislink") or str(entry.get("id", "")).startswith(("http://", "https://")):
        candidates.append(entry.get("id"))
    return next((str(c).strip() for c in candidates if c and urlsplit(str(c).strip()).scheme in DEFAULT_PORTS), "")


def _entry_date(entry: Any) -> str:
    # dict.get, not entry.get: feedparser's own get maps a missing "published" to "updated" with
    # a deprecation warning; the fallback is made here, explicitly.
    for key in ("published", "updated", "created"):
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)  # feedparser gives UTC
        if dict.get(entry, key):
            return str(dict.get(entry, key))
    return ""


def _entry_language(entry: Any) -> str:
    for detail in [*entry.get("content", []), entry.get("summary_detail") or {}, entry.get("title_detail") or {}]:
        if detail.get("language"):
            return str(detail["language"])
    return ""


def _entry_html(entry: Any, url: str) -> str:
    contents = [c.get("value", "") for c in entry.get("content", [])]
    text = max(contents, key=len) if contents else str(entry.get("summary") or "")
    if len(text) > MAX_ITEM_HTML_CHARS:
        LOGGER.warning(
            "%s: item %s carries %d characters of text; cut to %d",
            redact(url), redact(_entry_link(entry)), len(text), MAX_ITEM_HTML_CHARS,
        )
        text = text[:MAX_ITEM_HTML_CHARS]
    return text


def _clean_title(title: str) -> str:
    # Atom titles may be HTML; a hostile feed may make one enormous.
    return " ".join(html.unescape(_TAG.sub(" ", title[: MAX_TITLE_CHARS * 4])).split())[:MAX_TITLE_CHARS]


def _cap_items(items: list[FeedItem], url: str) -> list[FeedItem]:
    if len(items) > MAX_ITEMS:
        LOGGER.warning("%s: lists %d items; the newest %d are read", redact(url), len(items), MAX_ITEMS)
    return items[:MAX_ITEMS]


def _cap_sources(listed: list[str], url: str) -> tuple[str, ...]:
    unique = [link for link in dict.fromkeys(listed) if urlsplit(link).scheme in DEFAULT_PORTS]
    if len(unique) > MAX_LISTED_SOURCES:
        LOGGER.warning("%s: lists %d sources; the first %d are read", redact(url), len(unique), MAX_LISTED_SOURCES)
    return tuple(unique[:MAX_LISTED_SOURCES])
