"""Direct quotations and who said them, in any language.

A quotation is text between quotation marks of any tradition (“ ” „ “ « » » « ‹ › 「 」 『 』
‘ ’ and ASCII quotes), paired within one paragraph; a mark left unclosed at the paragraph's end
opens no quotation (a translation that loses its closing mark would otherwise swallow the rest
of the text). Marks inside a quotation are part of it.

The speaker is found from speech verbs (``data/cues.tsv``: said, tha, berkata, قال, dijo...)
in the sentence of the quotation, in this order: a verb just after the closing mark (“...”,
tha Kirby), then the verbs before the opening mark, nearest first (Kim tha se “...”; قال كيم
“...”), then the verbs further on in the sentence. For each verb the speaker is the name next
to it: before it in languages that put the subject first, after it where the verb comes first
(Arabic) or when the verb comes after the quotation (“...”, said Kirby). Persons win over
organisations, and a place speaks only when it stands right next to the verb (وأعربت الولايات
المتحدة). A gerund (duke thënë, saying) shares the speaker of the verb before it. A verb that
yields no name leaves the speaker unknown: "" (never guessed), unless an earlier verb of the
same sentence names one (أشاد بوتين ... وتحدث إلى الصحافة حول “آفاق”).

Scare quotes: a quotation of at most SCARE_MAX_WORDS words is kept only when a speech verb
stands in its sentence, and never when all its words are capitalised in a cased script (a
title or a name in quotes: “Chosun Ilbo”). Longer quotations are always kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ..names import find_names, key_matches, name_key
from ..records import Article, Citation, Entity, Quote
from .entities import (
    ORGANISATION,
    PERSON,
    PLACE,
    Token,
    clitic_conjunction,
    cue_at,
    cue_ending_at,
    cues,
    extract_mentions,
    token_index,
    tokenize,
)
from .sentences import sentence_spans

__all__ = ["extract_quotes"]

# Opening quotation marks and the marks that close them. „ closes with “ (German) or ”
# (Polish, Hungarian); » opens Danish and German quotations that « closes.
QUOTE_MARKS: dict[str, str] = {
    "“": "”",
    "„": "“”",
    "«": "»",
    "»": "«",
    "‹": "›",
    "›": "‹",
    "「": "」",
    "『": "』",
    "‘": "’",
    "‚": "‘’",
    '"': '"',
    "'": "'",
}
_ALL_MARKS = frozenset("".join(QUOTE_MARKS) + "".join(QUOTE_MARKS.values()))
# Marks that also serve as apostrophes or open and close alike: they open only before a
# non-space after a non-letter, and close only after a non-space before a non-letter (t’i,
# Putin's and a stray ‘ before a byline open nothing).
_AMBIGUOUS_MARKS = frozenset("‘’'\"‚")
# Quotations of at most this many words are scare quotes unless a speech verb is in their
# sentence: “prioritet numër një” after "Kim tha" is Kim's, "the so-called “special operation”"
# is no one's.
SCARE_MAX_WORDS = 3
# A speech verb this many words after the closing mark belongs to the quotation (“...”, tha
# Kirby; ”, jurucakap NSC memberitahu).
RIGHT_CUE_TOKENS = 3
# Words searched for a speaker before a verb ("Zëdhënësi i Kremlinit, Dmitry Peskov tha"; "X,
# a spokesman for the council, said") and after it (tha zëdhënësi Matthew Miller), and after
# it in languages that put the verb first, where titles and organisations stand between (وقال
# المتحدث باسم مجلس الأمن القومي جون كيربي).
BEFORE_WINDOW = 10
AFTER_WINDOW = 4
AFTER_WINDOW_VERB_FIRST = 8
VERB_FIRST = frozenset({"ar", "he"})
# Arabic prepositions written onto a name make it an object (لفلاديمير بوتين: to Putin), not the
# speaker; after "according to" (وفقا للسيد بوتين) they are part of the phrase.
_AR_PREPOSITIONS = "لبك"
# Speakers by preference: who is quoted is a person more often than an organisation; a name of
# unknown kind comes next; a place speaks only right next to its verb (see _candidates_in).
_RANK = {PERSON: 0, ORGANISATION: 1, "": 2, PLACE: 3}
_SPEECH_ROLES = ("speech", "tell", "according", "gerund")


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A name that may be a speaker: its span, kind ("" when unknown) and entity, if any."""

    start: int
    end: int
    text: str
    kind: str
    entity: str | None
    first: int  # token indices
    last: int


@dataclass(frozen=True, slots=True)
class _Cue:
    start: int  # token indices, end exclusive
    end: int
    role: str
    after_quote: bool  # the verb follows the closing mark


@dataclass(frozen=True, slots=True)
class _Context:
    """What the speaker search needs about one article."""

    article: Article
    tokens: list[Token]
    quotes: list[tuple[int, int]]  # (opening mark, closing mark) offsets
    candidates: list[_Candidate]
    sentences: list[tuple[int, int]]


def extract_quotes(articles: Sequence[Article], entities: Sequence[Entity]) -> list[Quote]:
    """Every direct quotation of the articles, with its speaker resolved to an entity when the
    speaker is one of ``entities`` (by the mention's span, else by name key)."""
    out: list[Quote] = []
    for article in articles:
        context = _context(article, entities)
        for opening, closing in context.quotes:
            quote = _quote(context, opening, closing, entities)
            if quote is not None:
                out.append(quote)
    return out


def quotation_spans(text: str) -> list[tuple[int, int]]:
    """(opening mark, closing mark) offsets of the outermost quotations, paragraph by paragraph."""
    spans: list[tuple[int, int]] = []
    at = 0
    for paragraph in text.split("\n"):
        i, end = at, at + len(paragraph)
        while i < end:
            closers = QUOTE_MARKS.get(text[i])
            closing = _closing(text, i, end, closers) if closers and _opens(text, i) else None
            if closing is None:
                i += 1
            else:
                spans.append((i, closing))
                i = closing + 1
        at = end + 1
    return spans


def _opens(text: str, i: int) -> bool:
    if text[i] not in _AMBIGUOUS_MARKS:
        return True
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not before.isalnum() and not after.isspace()


def _closes(text: str, i: int) -> bool:
    if text[i] not in _AMBIGUOUS_MARKS:
        return True
    after = text[i + 1] if i + 1 < len(text) else " "
    return not text[i - 1].isspace() and not after.isalnum()


def _closing(text: str, opening: int, end: int, closers: str) -> int | None:
    """The closing mark of a quotation; None when the paragraph ends first, or when the same
    opening mark comes again before a closing one (the first was left unclosed)."""
    mark = text[opening]
    for k in range(opening + 1, end):
        if text[k] in closers and _closes(text, k):
            return k
        if text[k] == mark and mark not in closers:
            return None
    return None


def _context(article: Article, entities: Sequence[Entity]) -> _Context:
    text, language = article.body, article.language
    tokens = tokenize(text)
    found: list[tuple[int, int, str, str | None]] = [
        (m.citation.start, m.citation.end, entity.kind, entity.id)
        for entity in entities
        for m in entity.mentions
        if m.citation.article_id == article.id
    ]
    # Names the entities leave out (a one-article name in a large story, or no entities given)
    # may still be speakers, by the entity stage's rules or as bare names of unknown kind; where
    # spans overlap, the first source wins.
    found += [(m.citation.start, m.citation.end, m.kind, None) for m in extract_mentions(article)]
    found += [(n.start, n.end, "", None) for n in find_names(text, language)]
    candidates: list[_Candidate] = []
    for start, end, kind, entity in found:
        if start >= end or any(c.start < end and start < c.end for c in candidates):
            continue
        first, last = token_index(tokens, start), token_index(tokens, end - 1)
        candidates.append(_Candidate(start, end, text[start:end], kind, entity, first, last))
    candidates.sort(key=lambda c: c.start)
    return _Context(article, tokens, quotation_spans(text), candidates, sentence_spans(text))


def _quote(context: _Context, opening: int, closing: int, entities: Sequence[Entity]) -> Quote | None:
    text, language = context.article.body, context.article.language
    start, end = opening + 1, closing
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    words = tokenize(text[start:end])
    if not words:
        return None
    left, right = _left_tokens(context, opening), _right_tokens(context, closing)
    verbs = _cues(context, left, right, closing)
    if len(words) <= SCARE_MAX_WORDS and (not verbs or all(w.cased and w.capital for w in words)):
        return None
    speaker, entity = _speaker(context, verbs, left, right)
    if speaker is not None and entity is None:
        entity = _resolve(speaker, entities)
    return Quote(
        text=text[start:end],
        speaker="" if speaker is None else speaker.text,
        speaker_entity=entity,
        language=language,
        citation=Citation(context.article.id, start, end),
    )


def _sentence_of(context: _Context, offset: int) -> tuple[int, int]:
    """The sentence that contains an offset (or the next one, between sentences)."""
    ends = [e for _, e in context.sentences]
    k = min(bisect.bisect_right(ends, offset), len(context.sentences) - 1)
    return context.sentences[k] if context.sentences else (0, len(context.article.body))


def _left_tokens(context: _Context, opening: int) -> range:
    """Token indices of the sentence before the opening mark."""
    sentence_start = _sentence_of(context, opening)[0]
    start = token_index(context.tokens, min(sentence_start, opening))
    return range(start, token_index(context.tokens, opening))


def _right_tokens(context: _Context, closing: int) -> range:
    """Token indices after the closing mark to the end of its sentence, or of the next one when
    the mark ends a sentence (“...maju.” / “We will win.” Putin said), on the same line."""
    sentence_end = _sentence_of(context, closing + 1)[1]
    start = token_index(context.tokens, closing)
    end = start
    while end < len(context.tokens) and context.tokens[end].end <= sentence_end:
        if end > start and "\n" in context.tokens[end].gap:
            break
        end += 1
    return range(start, end)


def _inside_quote(context: _Context, token: Token) -> bool:
    return any(o < token.start and token.end <= c for o, c in context.quotes)


def _cues(context: _Context, left: range, right: range, closing: int) -> list[_Cue]:
    """Speech verbs in the order they are tried: right after the closing mark (in the next
    sentence too, when the mark ends one), then before the opening mark from the nearest, then
    the rest of the quotation's sentence. Verbs inside another quotation do not count."""
    tokens, language = context.tokens, context.article.language
    near: list[_Cue] = []
    before: list[_Cue] = []
    far: list[_Cue] = []
    own_sentence_end = _sentence_of(context, closing)[1]
    for k in right:
        if _inside_quote(context, tokens[k]):
            continue
        for role in _SPEECH_ROLES:
            size = cue_at(tokens, k, language, role)
            if size:
                cue = _Cue(k, k + size, role, True)
                if k - right.start < RIGHT_CUE_TOKENS and not _mark_between(context, closing + 1, tokens[k].start):
                    near.append(cue)
                elif tokens[k].end <= own_sentence_end:
                    far.append(cue)
                break
    for k in reversed(left):
        if _inside_quote(context, tokens[k]):
            continue
        for role in _SPEECH_ROLES:
            size = cue_ending_at(tokens, k, language, role)
            if size and k - size + 1 >= left.start:
                before.append(_Cue(k - size + 1, k + 1, role, False))
                break
    return [*near[:1], *before, *near[1:], *far]


def _mark_between(context: _Context, start: int, end: int) -> bool:
    return any(ch in _ALL_MARKS for ch in context.article.body[start:end])


def _speaker(
    context: _Context, verbs: Sequence[_Cue], left: range, right: range
) -> tuple[_Candidate | _Joint | None, str | None]:
    """The speaker of a quotation and its entity id (None when unresolved); (None, None) when no
    verb names one."""
    language = context.article.language
    for verb in verbs:
        if verb.role == "gerund":
            continue
        before = _window(context, verb, -1, left if not verb.after_quote else right)
        after = _window(context, verb, +1, right if verb.after_quote else left)
        if verb.role == "tell":
            after = []
        if clitic_conjunction(context.tokens[verb.start], language, verb.role):
            before = []
        verb_first = language in VERB_FIRST or verb.role == "according"
        order = (before, after) if verb.after_quote or not verb_first else (after, before)
        for window in order:
            found = _candidates_in(context, verb, window)
            if found:
                best = min(found, key=lambda c: (_RANK.get(c.kind, _RANK[""]), _distance(verb, c)))
                joint = _joint(context, best, found)
                if joint is not None:
                    return joint, None
                return best, best.entity
    return None, None


@dataclass(frozen=True, slots=True)
class _Joint:
    """Two speakers of one quotation (وأكد كيم وبوتين): written as in the text, no single entity."""

    text: str


def _window(context: _Context, verb: _Cue, direction: int, sentence: range) -> list[int]:
    """Token indices next to a verb, in one direction, until the sentence ends, a quotation or a
    line break comes between, or "that" opens the reported clause."""
    tokens, language = context.tokens, context.article.language
    long_after = language in VERB_FIRST or verb.role == "according"
    limit = BEFORE_WINDOW if direction < 0 else (AFTER_WINDOW_VERB_FIRST if long_after else AFTER_WINDOW)
    out: list[int] = []
    k = verb.start - 1 if direction < 0 else verb.end
    previous = verb.start if direction < 0 else verb.end - 1
    bounds = range(min(sentence.start, verb.start), max(sentence.stop, verb.end))
    while k in bounds and 0 <= k < len(tokens) and len(out) < limit:
        low, high = (tokens[k], tokens[previous]) if direction < 0 else (tokens[previous], tokens[k])
        if "\n" in high.gap or _mark_between(context, low.end, high.start) or _inside_quote(context, tokens[k]):
            break
        if cue_at(tokens, k, language, "complement"):
            break
        out.append(k)
        previous = k
        k += direction
    return out


def _candidates_in(context: _Context, verb: _Cue, window: list[int]) -> list[_Candidate]:
    """The names that start (after the verb) or end (before it) in a window. A place counts only
    right next to the verb; in Arabic, a name with a preposition written onto it is an object."""
    body = context.article.body
    indices = set(window)
    found: list[_Candidate] = []
    for c in context.candidates:
        after = c.first in indices and c.first >= verb.end
        before = c.last in indices and c.last < verb.start
        if not (after or before):
            continue
        if c.kind == PLACE and not _next_to(context.tokens, verb, c):
            continue
        token = context.tokens[c.first]
        if verb.role != "according" and c.start > token.start and body[c.start - 1] in _AR_PREPOSITIONS:
            continue
        found.append(c)
    return found


def _next_to(tokens: Sequence[Token], verb: _Cue, candidate: _Candidate) -> bool:
    """Right next to the verb, with only spaces between."""
    if candidate.first == verb.end:
        return not tokens[verb.end].gap.strip()
    return candidate.last == verb.start - 1 and not tokens[verb.start].gap.strip()


def _distance(verb: _Cue, candidate: _Candidate) -> int:
    return candidate.first - verb.end if candidate.first >= verb.end else verb.start - candidate.last


def _joint(context: _Context, best: _Candidate, found: Sequence[_Candidate]) -> _Joint | None:
    """Two names joined by "and" share the quotation (وأكد كيم وبوتين “تعميق”)."""
    body, language = context.article.body, context.article.language
    conjunctions = {c[0] for c in cues(language, "conjunction")}
    for other in found:
        if other.start > best.end and other.kind in (PERSON, "") and best.kind in (PERSON, ""):
            between = body[best.end : other.start].strip().casefold()
            if between in conjunctions:
                return _Joint(body[best.start : other.end])
    return None


def _resolve(speaker: _Candidate | _Joint, entities: Sequence[Entity]) -> str | None:
    """The entity of a speaker not cited among the entities' mentions, by name key: a full key
    match, or a bare surname of a person's full name; the most mentioned entity wins."""
    if isinstance(speaker, _Joint):
        return None
    key = name_key(speaker.text)
    if not key:
        return None
    matches = []
    for entity in entities:
        keys = {m.key for m in entity.mentions}
        full = [k.split(" ") for k in keys if " " in k]
        if any(k.count(" ") == key.count(" ") and key_matches(key, k) for k in keys) or (
            entity.kind == PERSON
            and " " not in key
            and any(key_matches(key, words[-1]) or key_matches(key, words[0]) for words in full)
        ):
            matches.append(entity)
    return max(matches, key=lambda e: len(e.mentions)).id if matches else None
