"""The ingest stage: files, folders and streams in, :class:`RawDoc` records (or errors) out.

Each format has its module: :mod:`.text` for plain-text dumps, :mod:`.html` for web pages,
:mod:`.jsonl` for JSON and JSON lines; :mod:`.files` walks folders and decodes bytes. Everything is
a generator: items are read one at a time as the pipeline asks for them, and every unreadable item
becomes an :class:`IngestError` in the stream instead of stopping it.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from dataclasses import replace
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..records import IngestError, RawDoc
from .files import BINARY_SNIFF_BYTES, Rewound, decode_bytes, has_nul, read_capped, read_file, walk
from .html import decode_html, parse_html
from .jsonl import MAX_RECORD_BYTES, parse_json_document, read_json_lines
from .text import parse_text

__all__ = ["read_paths", "read_stream"]

# File name suffixes by format. Any other suffix (or none) is sniffed like a stream: JSON when it
# opens with "{" or "[", HTML when it opens like a page, plain text otherwise.
TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
JSON_SUFFIXES = frozenset({".json"})
JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})

# How a page may open (after whitespace, a BOM and case folding) for content to be read as HTML.
HTML_OPENINGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--")

_LEADING = b" \t\r\n\f\v"

# A parent folder named like this is a collector's publication date (``.../2011-01-26/doc.txt``).
FOLDER_DATE = re.compile(r"(19|20)\d\d-[01]\d-[0-3]\d")


def read_paths(paths: Iterable[str | Path]) -> Iterator[RawDoc | IngestError]:
    """Every article in the given files and folders (recursively, in sorted order)."""
    for item in walk(paths):
        if isinstance(item, IngestError):
            yield item
        else:
            yield from _read_file(item)


def read_stream(stream: BinaryIO, name: str = "<stdin>") -> Iterator[RawDoc | IngestError]:
    """Every article in a byte stream (standard input), its format sniffed from its first bytes.

    JSON lines are read one line at a time, so an endless producer can be piped in; a single JSON
    document, an HTML page or a plain-text article is read whole, up to the file size limit.
    """
    head = stream.read(BINARY_SNIFF_BYTES)
    if not head.strip():
        yield IngestError(name, "empty: no input")
        return
    kind = _sniff(head)
    if kind == "json" and _opening(head).startswith(b"{"):
        yield from _read_json_stream(io.BufferedReader(Rewound(head, stream)), name)
        return
    data = read_capped(stream, name, head)
    if isinstance(data, IngestError):
        yield data
    else:
        yield from _parse(data, name, kind)


def _read_file(path: Path) -> Iterator[RawDoc | IngestError]:
    suffix = path.suffix.lower()
    origin = str(path)
    if suffix in JSON_LINES_SUFFIXES:
        try:
            with path.open("rb") as fh:
                head = fh.read(BINARY_SNIFF_BYTES)
                if has_nul(head):
                    yield IngestError(origin, "binary content, not JSON lines")
                    return
                yield from read_json_lines(io.BufferedReader(Rewound(head, fh)), origin)
        except OSError as exc:
            yield IngestError(origin, f"cannot read: {exc.strerror or exc}")
        return
    data = read_file(path)
    if isinstance(data, IngestError):
        yield data
        return
    if suffix in HTML_SUFFIXES:
        kind = "html"
    elif suffix in JSON_SUFFIXES:
        kind = "json"
    elif suffix in TEXT_SUFFIXES:
        kind = "text"
    else:
        kind = _sniff(data[:BINARY_SNIFF_BYTES])
    folder_date = path.parent.name if FOLDER_DATE.fullmatch(path.parent.name) else ""
    for item in _parse(data, origin, kind):
        if folder_date and isinstance(item, RawDoc) and "folder_date" not in item.extra:
            # Collectors often file articles by day (ML-Crisis does): the weakest date evidence,
            # used by the detect stage only when the article itself says nothing.
            item = replace(item, extra={**item.extra, "folder_date": folder_date})
        yield item


def _parse(data: bytes, origin: str, kind: str) -> Iterator[RawDoc | IngestError]:
    text = decode_html(data, origin) if kind == "html" else decode_bytes(data, origin)
    if isinstance(text, IngestError):
        yield text
    elif kind == "html":
        yield parse_html(text, origin)
    elif kind == "json":
        yield from parse_json_document(text, origin)
    else:
        yield parse_text(text, origin)


def _read_json_stream(stream: io.BufferedReader, name: str) -> Iterator[RawDoc | IngestError]:
    # "{" opens either JSON lines or one pretty-printed object: a first line that is a complete
    # JSON value on its own means lines.
    first = stream.readline(MAX_RECORD_BYTES + 1)
    try:
        json.loads(first)  # accepts UTF-8 bytes, with or without BOM
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        data = read_capped(stream, name, first)
        if isinstance(data, IngestError):
            yield data
        else:
            yield from _parse(data, name, "json")
        return
    yield from read_json_lines(io.BufferedReader(Rewound(first, stream)), name)


def _opening(head: bytes) -> bytes:
    return head.removeprefix(codecs.BOM_UTF8).lstrip(_LEADING)[:64].lower()


def _sniff(head: bytes) -> str:
    opening = _opening(head)
    if opening.startswith((b"{", b"[")):
        return "json"
    if opening.startswith(HTML_OPENINGS) or (opening.startswith(b"<") and b"<html" in head.lower()):
        return "html"
    return "text"
