"""The text the keyword index holds, in any script: one normalisation for articles and queries.

Each store indexes with its own full-text engine (SQLite FTS5, PostgreSQL ``tsvector`` with the
``simple`` configuration), and neither tokenizer knows every script. So the text is normalised in
Python before either sees it, and queries are normalised the same way (:func:`normalise`):

* NFKC and case folding, and accents on Latin letters removed (``Zëdhënësi`` = ``zedhenesi``),
  as FTS5's ``remove_diacritics`` does, but here, so that PostgreSQL, whose ``simple``
  configuration keeps them, folds them too; marks on letters of other scripts stay (``й`` is a
  letter of its own, a Devanagari vowel sign part of its word);
* Arabic: short vowels and tatweel removed, alef/yeh/teh marbuta variants folded, and one
  proclitic (``ال``, ``وال``, ``بال``, ``و`` ...) cut, so ``بوتين`` finds ``وبوتين``;
* scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) become
  overlapping character bigrams, so a query matches anywhere inside a run (``普京`` in
  ``普京会晤``) without a word segmenter.

A query is a list of terms (:func:`query_terms`), every one required; ``term*`` is a prefix. Each
store turns the terms into its own engine's query, quoting them so that no user text is ever read
as query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "BODY_WEIGHT",
    "INDEX_CHUNK",
    "INDEX_VERSION",
    "MAX_QUERY_CHARS",
    "MIN_PREFIX_CHARS",
    "TITLE_WEIGHT",
    "Term",
    "normalise",
    "query_terms",
]

# Bump whenever normalise() changes: an index built by another version is emptied and rebuilt.
INDEX_VERSION = 2
# Title matches weigh more than body matches (FTS5 bm25 column weights; PostgreSQL rank weights).
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
# Longest query accepted, and most terms used from it: each term is one phrase of the engine's
# query, and a query's cost grows with its number of phrases.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
# A trailing * makes a term a prefix; a prefix shorter than this matches too much to be useful.
MIN_PREFIX_CHARS = 2
# Articles indexed per transaction while catching up, so a long catch-up never holds the write
# lock for long.
INDEX_CHUNK = 500

# Combining accents (U+0300-U+036F) after a Latin letter, once decomposed (NFD).
_LATIN_ACCENTS = re.compile("(?<=[a-z\u00df-\u024f\u1e00-\u1eff])[\u0300-\u036f]+")
# Harakat, Quranic annotation marks, superscript alef and tatweel: optional in Arabic writing.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Letters written in several ways that readers treat as one (hamza seats, alef maqsura, teh marbuta).
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")
# Proclitics glued to the next word (conjunction, preposition, article), longest first; one is
# cut when at least MIN_ARABIC_STEM letters remain. A lone و is cut only from longer words,
# where it is far more often the conjunction than a root letter.
_ARABIC_PROCLITICS = ("وال", "بال", "كال", "فال", "لل", "ال")
MIN_ARABIC_STEM = 2
MIN_WORD_FOR_WAW = 4
# Scripts written without spaces between words.
_UNSPACED_RUN = re.compile(
    "[\u0e00-\u0e7f\u0e80-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    "\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+"
)


def _arabic_stem(match: re.Match[str]) -> str:
    word = match.group(0)
    for clitic in _ARABIC_PROCLITICS:
        if word.startswith(clitic) and len(word) - len(clitic) >= MIN_ARABIC_STEM:
            return word[len(clitic) :]
    if word.startswith("و") and len(word) >= MIN_WORD_FOR_WAW:
        return word[1:]
    return word


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) < 2:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def normalise(text: str) -> str:
    """Text as the keyword index sees it; applied alike to articles and to queries."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    text = _ARABIC_WORD.sub(_arabic_stem, text)
    return _UNSPACED_RUN.sub(_bigrams, text)


class Term(NamedTuple):
    """One required term of a query: its normalised words (a phrase) and whether it is a prefix."""

    words: str
    prefix: bool


def query_terms(query: str) -> list[Term]:
    """The query's whitespace-separated terms, normalised; those with nothing to find (no letter
    or digit) are dropped. Empty: the query finds nothing."""
    terms = []
    for term in query[:MAX_QUERY_CHARS].split()[:MAX_QUERY_TERMS]:
        stem = term.rstrip("*")
        words = normalise(stem)
        if any(ch.isalnum() for ch in words):
            terms.append(Term(words, stem != term and len(stem) >= MIN_PREFIX_CHARS))
    return terms
