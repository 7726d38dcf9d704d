"""HTML pages and HTML fragments, reduced to their main text with trafilatura.

A page gives its main text, title, date, site name and URL through trafilatura; the declared
language (``<html lang>``, Content-Language, ``og:locale``) and the canonical link are read from the
parsed tree here, because trafilatura does not report the first and prefers ``og:url`` over the
second.
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import trafilatura

from ..records import IngestError, RawDoc
from .files import decode_bytes

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["DATE_EXTRACTION", "decode_html", "html_to_text", "looks_like_html", "parse_html"]

# htmldate settings for the page date. Its extensive search guesses from free text and copyright
# years and fills a missing day or month with the first; storyweave never states more precision
# than the source gives, so only structured evidence (meta tags, JSON-LD, <time>, a full date in
# the URL) is used.
DATE_EXTRACTION: dict[str, Any] = {"extensive_search": False, "original_date": True}

# How far into a page to look for a <meta charset> declaration (HTML requires it in the first 1024
# bytes; some servers put it later, after long comments).
CHARSET_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

# Pages that declare Latin-1 or ASCII are decoded as windows-1252, as browsers do (WHATWG
# Encoding Standard): their curly quotes and dashes are cp1252 bytes.
_WHATWG_LABELS = {"iso8859-1": "cp1252", "ascii": "cp1252"}

# <link rel="canonical">, also when rel lists other tokens too.
_CANONICAL = '//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'

# Tags that mark a string as HTML markup rather than text that happens to contain "<".
_MARKUP = re.compile(
    r"<(?:p|br|div|span|a|b|i|em|strong|h[1-6]|ul|ol|li|figure|figcaption|img|blockquote|table|"
    r"section|article|html|body)\b[^>]*>|</[a-z][a-z0-9]*\s*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True when a string carries HTML markup (a JSON body copied from a page, say)."""
    return _MARKUP.search(text) is not None


def decode_html(data: bytes, origin: str) -> str | IngestError:
    """Page bytes as text: the page's own ``<meta charset>`` first, content sniffing otherwise."""
    declared = _META_CHARSET.search(data[:CHARSET_SNIFF_BYTES])
    if declared is not None:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
            return data.decode(_WHATWG_LABELS.get(encoding, encoding))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declaration: sniff instead
    return decode_bytes(data, origin)


def parse_html(markup: str, origin: str) -> RawDoc | IngestError:
    """One article from a full HTML page."""
    tree = trafilatura.load_html(markup)
    if tree is None:
        return IngestError(origin, "not a parsable HTML page")
    language = _declared_language(tree)
    canonical = _first(tree.xpath(_CANONICAL))
    extracted = trafilatura.bare_extraction(
        tree,
        url=canonical or None,
        with_metadata=True,
        include_comments=False,
        date_extraction_params=DATE_EXTRACTION,
    )
    text = getattr(extracted, "text", None) or ""
    if not text.strip():
        return IngestError(origin, "no article text found in the page")
    title = " ".join((getattr(extracted, "title", None) or "").split())
    found_url = getattr(extracted, "url", None) or ""
    url = urljoin(found_url, canonical) if canonical else found_url
    if not urlsplit(url).scheme.startswith("http"):
        url = ""
    return RawDoc(
        origin=origin,
        text=_drop_repeated_title(text, title),
        title=title,
        url=url,
        source=getattr(extracted, "sitename", None) or host_of(url),
        published=getattr(extracted, "date", None) or "",
        language=language,
    )


def html_to_text(fragment: str) -> str:
    """The text of an HTML fragment (an article body stored with its markup), paragraphs kept.

    trafilatura's extractor keeps paragraph breaks; on fragments too small or too odd for it to find
    a main text, its baseline (all visible text) is used, so that no article text is lost.
    """
    text = trafilatura.extract(f"<div>{fragment}</div>", favor_recall=True, include_comments=False)
    if not text:
        text = trafilatura.html2txt(f"<html><body>{fragment}</body></html>")
    return (text or "").strip()


def host_of(url: str) -> str:
    """The host of a URL without ``www.``: the outlet's name when metadata gives none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _declared_language(tree: HtmlElement) -> str:
    root = tree.getroottree().getroot()
    candidates = [root.get("lang"), root.get("xml:lang")]
    candidates += tree.xpath(
        '//meta[translate(@http-equiv, "CONTENT-LANGUAGE", "content-language")="content-language"]/@content'
    )
    candidates += tree.xpath('//meta[@property="og:locale"]/@content')
    return _first(candidates)


def _first(values: Any) -> str:
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _drop_repeated_title(text: str, title: str) -> str:
    # trafilatura keeps the page's <h1> as the first line of the text; the title field has it.
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()) == title and rest.strip():
        return rest.strip()
    return text.strip()
