"""Plain-text articles: an optional ``date`` header, an optional headline line, then the body.

The shape is the one news dumps use (see ``examples/``)::

     date 2023-09 First sentence of the body, on the header's line. ...
    Headline without final punctuation          <- optional, taken as the title
    Body paragraphs ...

A headline is only recognised when nothing about the line says "sentence": a body sentence taken as
the title would silently drop out of the article, while a headline left in the body costs nothing.
"""

from __future__ import annotations

import re

from ..records import IngestError, RawDoc

__all__ = ["HEADER", "parse_text"]

# The dump header: " date YYYY-MM" or " date YYYY-MM-DD" at the very start, its leading space
# optional. What follows on the same line is the first sentence of the body, never a headline.
HEADER = re.compile(r"\A[ \t]*date[ \t]+(?P<date>\d{4}-\d{2}(?:-\d{2})?)(?=\s|\Z)[ \t]*")

# Headline length bounds, in characters. News headlines run 30-120 characters in every language
# we have seen (Arabic and German ones are the longest); 200 keeps clear of one-sentence lead
# paragraphs (sample 002's shortest lead line is 165, most are 200+, and they end with a full stop
# anyway). Under 8 characters a line is a label ("Home", "Video"), not a headline.
HEADLINE_MIN_CHARS = 8
HEADLINE_MAX_CHARS = 200

# Line endings that mark a sentence, a clause or a dateline, hence not a headline: sentence-final
# punctuation in the major scripts (Latin, Arabic, Devanagari, CJK, Ethiopic, Urdu), an ellipsis,
# a colon (introduces what follows), a comma (the line continues), a dash (a dateline
# "WASHINGTON —"). Closing quotes and brackets after them are looked through.
NOT_HEADLINE_END = frozenset(".!?…؟。！？।॥۔።:,،、;؛-–—")
_CLOSERS = "\"'”’»)]}」』›"

_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def parse_text(raw: str, origin: str) -> RawDoc | IngestError:
    """One article from plain text: date header, headline and body (see the module docstring)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    published = ""
    extra: dict[str, str] = {}
    header = HEADER.match(text)
    first_line_is_body = False
    if header is not None:
        published = header.group("date")
        extra["published_origin"] = "header"
        text = text[header.end() :]
        first_line_is_body = not text.startswith("\n")
    text = _TRAILING_SPACE.sub("\n", text.strip())
    text = _BLANK_RUNS.sub("\n\n", text)
    title = ""
    if not first_line_is_body:
        title, text = _split_headline(text)
    if not text:
        return IngestError(origin, "empty: no article text")
    return RawDoc(origin=origin, text=text, title=title, published=published, extra=extra)


def _split_headline(text: str) -> tuple[str, str]:
    """(headline, body) when the first line is a headline, else ("", text)."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    rest = rest.strip()
    if not _is_headline(first, rest):
        return "", text
    return " ".join(first.split()), rest


def _is_headline(line: str, rest: str) -> bool:
    if not HEADLINE_MIN_CHARS <= len(line) <= HEADLINE_MAX_CHARS:
        return False
    if len(rest) <= len(line):
        return False  # a headline announces a longer body
    if line.rstrip(_CLOSERS)[-1:] in NOT_HEADLINE_END:
        return False
    # A hard-wrapped paragraph continues on the next line in lower case: not a headline.
    return not rest[:1].islower()
