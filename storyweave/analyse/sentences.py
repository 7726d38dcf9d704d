"""Sentence spans in any script, shared by every analysis stage so citations agree.

A sentence ends at a paragraph break, or at terminal punctuation of any script followed by
space, unless the period belongs to an initial ("H.J."), a number ("3.5") or a short
abbreviation ("Dr.", "Sept."). Spans index the article body exactly, so ``body[start:end]`` is
the sentence and a citation can be checked against the text.
"""

from __future__ import annotations

import re

__all__ = ["sentence_spans"]

# Terminal punctuation: Latin/Cyrillic/Greek, Arabic question mark, CJK full stops, Devanagari danda.
_END = re.compile(r"[.!?؟。！？।]+[\"'”’»)\]]*(?=\s)|\n\s*\n|\n(?=\S)")
# A period after one capital letter or a common abbreviation is an initial or abbreviation
# ("H.J. Nerozzi", "Dr. Kim", "Sept. 13"), not a sentence end: names are kept whole this way.
ABBREVIATIONS = (
    "Dr|Mr|Mrs|Ms|Prof|Gen|Sen|Rep|Gov|Lt|Col|Capt|St|Jr|Sr|Inc|Ltd|Corp|Co|No|Vol|vs|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mme|Mlle|Sra|Sr|Hr|Fr|Dott|Ing"
)
_ABBREVIATION = re.compile(rf"(?:\b[A-ZÀ-Þ]|\b(?:{ABBREVIATIONS}))\.$")
# Fragments shorter than this are headings or debris; they are kept inside the next span.
MIN_SENTENCE_CHARS = 2


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if match.group().startswith(".") and _ABBREVIATION.search(text[max(0, match.start() - 6) : match.start() + 1]):
            continue
        _add(text, start, end, spans)
        start = end
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= MIN_SENTENCE_CHARS:
        spans.append((start, end))
