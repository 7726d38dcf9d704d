"""Article text as HTML: every character escaped, with the spans an analysis found marked up.

An article page marks three kinds of span of the body, each from the story's analysis:

* cited spans (summary sentences, timeline events, claims, quotes), given ``id="c-START-END"``
  so that a citation link ``/articles/ID#c-START-END`` scrolls to the span and CSS ``:target``
  highlights it;
* quotations, with their speaker as a tooltip;
* mentions of people, places and organisations, linked to their entity page.

Spans can cross (a quotation running over two cited sentences), which HTML elements cannot, so
the text is cut at every span boundary and each piece is wrapped in the spans covering it, outer
kinds first; a span cut in pieces keeps its ``id`` on the first piece only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

from .search import typed_terms

__all__ = ["Span", "anchor", "article_highlights", "mark_terms", "render", "spans_for"]

# Nesting order, outermost first.
CITED, QUOTE, MENTION = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    layer: int
    tag: str
    attrs: tuple[tuple[str, str], ...]  # written on every piece
    ident: str = ""  # the id, written on the first piece only


def anchor(citation: Mapping[str, Any]) -> str:
    """The fragment id of a cited span."""
    return f"c-{citation['start']}-{citation['end']}"


def article_highlights(analysis: Mapping[str, Any], article_id: str) -> dict[str, Any]:
    """What the story's analysis found in one of its articles (the article page's JSON)."""
    mentions = [
        {"text": m["text"], "kind": m["kind"], "entity_id": e["id"], "entity": e["name"],
         "start": m["citation"]["start"], "end": m["citation"]["end"]}
        for e in analysis.get("entities", [])
        for m in e["mentions"]
        if m["citation"]["article_id"] == article_id
    ]  # fmt: skip
    quotes = [q for q in analysis.get("quotes", []) if q["citation"]["article_id"] == article_id]
    cited = [s["citation"] for s in (analysis.get("summary") or {}).get("sentences", [])]
    for item in (*analysis.get("timeline", []), *analysis.get("claims", [])):
        cited += item["citations"]
    spans = {(c["start"], c["end"]) for c in cited if c["article_id"] == article_id}
    return {
        "mentions": sorted(mentions, key=lambda m: (m["start"], m["end"])),
        "quotes": quotes,
        "citations": [{"start": s, "end": e} for s, e in sorted(spans)],
    }


def spans_for(highlights: Mapping[str, Any], entity_href: Callable[[str], str]) -> list[Span]:
    """The spans to mark in the body; a quotation that is also cited is one element."""
    quoted = {(q["citation"]["start"], q["citation"]["end"]): q for q in highlights["quotes"]}
    spans = [
        Span(c["start"], c["end"], CITED, "span", (("class", "cite"),), anchor(c))
        for c in highlights["citations"]
        if (c["start"], c["end"]) not in quoted
    ]
    spans += [
        Span(s, e, QUOTE, "span", (("class", "quote"), ("title", q["speaker"] or "speaker unknown")), f"c-{s}-{e}")
        for (s, e), q in quoted.items()
    ]
    spans += [
        Span(m["start"], m["end"], MENTION, "a",
             (("class", f"mention {m['kind']}"), ("href", entity_href(m["entity_id"])), ("title", m["entity"])))
        for m in highlights["mentions"]
    ]  # fmt: skip
    return spans


def _open(span: Span, first: bool) -> str:
    attrs = (("id", span.ident), *span.attrs) if first and span.ident else span.attrs
    return f"<{span.tag}" + "".join(f' {name}="{escape(value)}"' for name, value in attrs) + ">"


def render(text: str, spans: Iterable[Span]) -> Markup:
    """The text, escaped, with the spans as properly nested elements (see the module docstring)."""
    ordered = sorted(
        {s for s in spans if 0 <= s.start < s.end <= len(text)}, key=lambda s: (s.layer, s.start, -s.end, s.ident)
    )
    bounds = sorted({0, len(text), *(s.start for s in ordered), *(s.end for s in ordered)})
    out: list[str] = []
    stack: list[Span] = []
    opened: set[Span] = set()
    for left, right in pairwise(bounds):
        active = [s for s in ordered if s.start <= left and right <= s.end]
        keep = 0
        while keep < min(len(stack), len(active)) and stack[keep] == active[keep]:
            keep += 1
        out.extend(f"</{s.tag}>" for s in reversed(stack[keep:]))
        for span in active[keep:]:
            out.append(_open(span, span not in opened))
            opened.add(span)
        stack = active
        out.append(str(escape(text[left:right])))
    out.extend(f"</{s.tag}>" for s in reversed(stack))
    return Markup("".join(out))


def mark_terms(text: str, query: str) -> Markup:
    """The text, escaped, with the query's words (as typed, case-insensitively) in ``<mark>``."""
    pattern = typed_terms(query)
    if pattern is None:
        return escape(text)
    out: list[str] = []
    at = 0
    for match in pattern.finditer(text):
        out += [str(escape(text[at : match.start()])), "<mark>", str(escape(match.group(0))), "</mark>"]
        at = match.end()
    out.append(str(escape(text[at:])))
    return Markup("".join(out))
