"""JSON articles: one object, an array of objects, or JSON lines (one object per line).

Records come from scrapers and news APIs that each name their fields differently, so every field is
looked up under its common names (case-insensitively, which also covers camelCase variants). A record
may carry its body as HTML; it is reduced to text. Each item is named for the user: ``path`` for a
lone object, ``path[INDEX]`` for an item of an array, ``path:LINE`` for a JSON line.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..records import IngestError, RawDoc
from .files import decode_line
from .html import host_of, html_to_text, looks_like_html

__all__ = [
    "LANGUAGE_FIELDS",
    "MAX_RECORD_BYTES",
    "PUBLISHED_FIELDS",
    "SOURCE_FIELDS",
    "TEXT_FIELDS",
    "TITLE_FIELDS",
    "URL_FIELDS",
    "parse_json_document",
    "parse_json_line",
    "read_json_lines",
]

# One JSON line may hold at most this much. A long article with its HTML body is under 1 MB;
# 5 MB is room for bodies with inline markup while a corrupt file (one endless line) cannot fill
# memory: the excess is skipped in chunks, never held.
MAX_RECORD_BYTES = 5 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024

# Field names, most specific first; compared in lower case. "description" and "summary" come last:
# feeds that carry no full text often put the whole article there, as HTML.
TEXT_FIELDS = (
    "text", "body", "content", "maintext", "article", "article_body", "articlebody",
    "full_text", "fulltext", "description", "summary",
)  # fmt: skip
TITLE_FIELDS = ("title", "headline", "heading")
URL_FIELDS = ("url", "link", "canonical_url", "canonicalurl", "href")
PUBLISHED_FIELDS = (
    "published", "published_at", "publishedat", "published_date", "publication_date",
    "date_published", "datepublished", "date_publish", "pubdate", "pub_date", "date", "time",
)  # fmt: skip
SOURCE_FIELDS = ("source", "outlet", "publisher", "site_name", "sitename", "source_name", "source_domain")
LANGUAGE_FIELDS = ("language", "lang", "language_code", "locale")

# Keys under which APIs wrap their list of articles ({"status": "ok", "articles": [...]}).
WRAPPER_FIELDS = ("articles", "items", "results", "documents", "docs", "records", "entries", "data")

# Numeric dates are Unix times; beyond this they are milliseconds (1e11 s is the year 5138).
_MILLISECONDS_FROM = 10**11
# Numeric dates below this (1973-03-03) are not plausible publication times: ignored.
_EPOCH_MIN = 10**8


def parse_json_document(raw: str, origin: str) -> Iterator[RawDoc | IngestError]:
    """The records of a ``.json`` file: one object or an array (JSON lines saved as .json work too)."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # a first value, then more: JSON lines under a .json name
            for lineno, line in enumerate(raw.splitlines(), 1):
                yield from parse_json_line(line, f"{origin}:{lineno}")
        else:
            yield IngestError(origin, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
        return
    yield from _records(value, origin)


def read_json_lines(stream: BinaryIO, origin: str) -> Iterator[RawDoc | IngestError]:
    """The records of a JSON lines stream, read one line at a time (no whole-file limit)."""
    lineno = 0
    items = 0
    while line := stream.readline(MAX_RECORD_BYTES + 1):
        lineno += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while (chunk := stream.readline(_SKIP_CHUNK)) and not chunk.endswith(b"\n"):
                pass
            items += 1
            yield IngestError(f"{origin}:{lineno}", f"record over the {MAX_RECORD_BYTES:,} byte limit: skipped")
            continue
        for item in parse_json_line(decode_line(line), f"{origin}:{lineno}"):
            items += 1
            yield item
    if not items:
        yield IngestError(origin, "empty: no records")


def parse_json_line(line: str, origin: str) -> Iterator[RawDoc | IngestError]:
    """The record(s) on one JSON line; blank lines hold none."""
    if not line.strip():
        return
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        yield IngestError(origin, f"invalid JSON: {exc.msg} (column {exc.colno})")
        return
    yield from _records(value, origin)


def _records(value: Any, origin: str) -> Iterator[RawDoc | IngestError]:
    if isinstance(value, list):
        if not value:
            yield IngestError(origin, "empty: an empty JSON array")
        for index, item in enumerate(value):
            yield _record(item, f"{origin}[{index}]")
        return
    if isinstance(value, dict) and _pick(_lowered(value), TEXT_FIELDS) is None:
        for key, items in value.items():
            if str(key).lower() in WRAPPER_FIELDS and isinstance(items, list):
                for index, item in enumerate(items):
                    yield _record(item, f"{origin}.{key}[{index}]")
                return
    yield _record(value, origin)


def _record(value: Any, origin: str) -> RawDoc | IngestError:
    if not isinstance(value, dict):
        return IngestError(origin, f"not a JSON object but {type(value).__name__}")
    fields = _lowered(value)
    text = _first_text(fields, TEXT_FIELDS)
    if not text:
        return IngestError(origin, "no article text (no non-empty text, body or content field)")
    url = _string(_pick(fields, URL_FIELDS))
    return RawDoc(
        origin=origin,
        text=text,
        title=" ".join(_first_text(fields, TITLE_FIELDS).split()),
        url=url,
        source=_source(_pick(fields, SOURCE_FIELDS)) or host_of(url),
        published=_published(_pick(fields, PUBLISHED_FIELDS)),
        language=_string(_pick(fields, LANGUAGE_FIELDS)),
    )


def _lowered(record: dict[Any, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in record.items()}


def _pick(fields: dict[str, Any], names: tuple[str, ...]) -> Any:
    """The first named field that holds something (empty strings and nulls do not count)."""
    for name in names:
        value = fields.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def _first_text(fields: dict[str, Any], names: tuple[str, ...]) -> str:
    """The text of the first named field that holds some (a field of another shape is passed over)."""
    for name in names:
        if text := _text(fields.get(name)):
            return text
    return ""


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _text(value: Any) -> str:
    """Text from a string or a list of paragraph strings; HTML markup and entities resolved."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = "\n\n".join(item.strip() for item in value)
    if not isinstance(value, str):
        return ""
    if looks_like_html(value):
        return html_to_text(value)
    return html.unescape(value).strip()


def _source(value: Any) -> str:
    if isinstance(value, dict):  # NewsAPI and friends: {"id": "bbc-news", "name": "BBC News"}
        value = _pick(_lowered(value), ("name", "title", "domain", "id"))
    source = _string(value)
    return host_of(source) if "://" in source else source


def _published(value: Any) -> str:
    """A date as written; Unix times (seconds or milliseconds) become ISO dates in UTC."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if isinstance(value, int) and 1000 <= value <= 9999:
        return str(value)  # a bare year
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else value
    if seconds < _EPOCH_MIN:
        return ""
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""
