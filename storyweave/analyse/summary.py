"""A short summary of a story, every sentence cited.

The offline summary is extractive: about five sentences taken from the articles as written, one
per claim, chosen for support (how many sources carry the claim) and novelty (what they add to
the sentences already chosen), then put in the order of the story (publication date, then place
in the article). A sentence is the article's own text, so its citation is exact by construction.
Names and dates stay as each article writes them; ``Summary.language`` is ``"mul"`` when the
sentences are in several languages, which is where showing canonical names and dates in the
reader's language will plug in.

With a :class:`SummaryWriter` configured (an LLM through :mod:`storyweave.llm`), the extractive
sentences are the material: the writer rewrites them in the reader's language and each written
sentence keeps the citation of the extractive sentence it is based on. A writer that fails falls
back to the extractive summary and says so in ``Summary.mode``, so a summary never depends on a
remote service being up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from babel import Locale, UnknownLocaleError

from ..llm import ChatClient, LLMError
from ..names import name_keys
from ..records import Article, Citation, Claim, Summary, SummarySentence
from .sentences import sentence_spans

__all__ = ["LLMSummaryWriter", "SummaryWriter", "summarise"]

# How much a sentence's overlap with those already chosen (Jaccard of cross-script name keys and
# numbers) lowers its score: at 0.5, a claim with the same names as a chosen one needs twice the
# support to be picked.
REDUNDANCY_WEIGHT = 0.5
# Names and numbers in more than this share of the candidate sentences (and in more than two) are
# the story's common ground and are left out of the overlap. On the samples (46 candidates) the
# keys of North Korea and Pyongyang are in five to eight: counted, they made "Putin accepted an
# invitation to visit North Korea" look like a repeat of "Kim and Putin vowed to deepen ties".
COMMON_KEY_SHARE = 0.1
# Stories without claims (one short article) are summarised by their articles' leads, and the
# lead sentence must have this many letters to count (a dateline or heading does not).
MIN_LEAD_LETTERS = 20
_DIGITS = re.compile(r"\d+")
# "language" of a summary whose sentences are in several languages (ISO 639-2), or in none.
MIXED_LANGUAGES = "mul"
NO_LANGUAGE = "und"


class SummaryWriter(Protocol):
    """Turns the extractive summary into text for the reader, keeping every citation."""

    def write(self, extractive: Summary, reader_language: str) -> Summary:
        """A summary in ``reader_language`` whose sentences cite ``extractive``'s citations."""
        ...


def summarise(
    articles: Sequence[Article],
    claims: Sequence[Claim],
    *,
    reader_language: str = "en",
    writer: SummaryWriter | None = None,
    max_sentences: int = 5,
) -> Summary:
    """The story in at most ``max_sentences`` cited sentences (see the module docstring).

    Where a chosen claim has a telling in ``reader_language``, that telling is the sentence used;
    otherwise its representative sentence, in its own language.
    """
    by_id = {article.id: article for article in articles}
    candidates = [c for c in (_candidate(claim, by_id, reader_language) for claim in claims) if c is not None]
    if not candidates:
        candidates = _leads(articles)
    chosen = _choose(candidates, by_id, max_sentences)
    order = {article.id: index for index, article in enumerate(articles)}
    chosen.sort(key=lambda item: (*_date_key(by_id[item[1].article_id]), order[item[1].article_id], item[1].start))
    sentences = tuple(SummarySentence(_text(citation, by_id), citation) for _, citation in chosen)
    languages = {by_id[s.citation.article_id].language for s in sentences}
    language = languages.pop() if len(languages) == 1 else (MIXED_LANGUAGES if languages else NO_LANGUAGE)
    extractive = Summary(mode="extractive", language=language, sentences=sentences)
    if writer is None or not sentences:
        return extractive
    return writer.write(extractive, reader_language)


def _text(citation: Citation, by_id: Mapping[str, Article]) -> str:
    return by_id[citation.article_id].body[citation.start : citation.end]


def _candidate(claim: Claim, by_id: Mapping[str, Article], reader_language: str) -> tuple[int, Citation] | None:
    """The claim's support and the citation to show: a telling in the reader's language first,
    the representative one (whose text is the claim's text) first among equals."""
    usable = [c for c in claim.citations if c.article_id in by_id]
    if not usable:
        return None
    usable.sort(key=lambda c: (by_id[c.article_id].language != reader_language, _text(c, by_id) != claim.text))
    return len(claim.sources), usable[0]


def _leads(articles: Sequence[Article]) -> list[tuple[int, Citation]]:
    out = []
    for article in articles:
        for start, end in sentence_spans(article.body):
            if sum(ch.isalpha() for ch in article.body[start:end]) >= MIN_LEAD_LETTERS:
                out.append((1, Citation(article.id, start, end)))
                break
    return out


def _choose(
    candidates: list[tuple[int, Citation]], by_id: Mapping[str, Article], max_sentences: int
) -> list[tuple[int, Citation]]:
    """Greedy choice by support x novelty; ties keep the candidates' order (claims come ranked)."""
    keys = [_content_keys(_text(c, by_id), by_id[c.article_id].language) for _, c in candidates]
    counts = Counter(key for sentence_keys in keys for key in sentence_keys)
    limit = max(2.0, COMMON_KEY_SHARE * len(candidates))
    common = {key for key, count in counts.items() if count > limit}
    keys = [sentence_keys - common for sentence_keys in keys]
    chosen: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(chosen) < max_sentences:
        done = [keys[j] for j in chosen]
        scores = {i: candidates[i][0] * (1.0 - REDUNDANCY_WEIGHT * _overlap(keys[i], done)) for i in remaining}
        best = max(remaining, key=lambda i: (scores[i], -i))
        chosen.append(best)
        remaining.remove(best)
    return [candidates[i] for i in chosen]


def _overlap(keys: frozenset[str], chosen: list[frozenset[str]]) -> float:
    """The largest Jaccard overlap of a sentence's keys with those of a chosen sentence."""
    return max((len(keys & other) / len(keys | other) for other in chosen if keys | other), default=0.0)


def _content_keys(text: str, language: str) -> frozenset[str]:
    """What a sentence is about, comparable across languages: name keys and numbers."""
    return frozenset(name_keys(text, language)) | frozenset(_DIGITS.findall(text))


def _date_key(article: Article) -> tuple[bool, dt.date]:
    """Dated articles first, oldest first; undated ones after, in the order given."""
    value = article.published.value
    return (value is None, value or dt.date.max)


# --- Writing with an LLM -----------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*|\s*```\s*$")


class LLMSummaryWriter:
    """A :class:`SummaryWriter` that asks a chat model to rewrite the extractive sentences.

    The model sees the extractive sentences numbered and must answer with a JSON list of
    ``{"text": ..., "source": n}``; each written sentence takes the citation of sentence ``n``.
    Entries citing a number that was not offered are dropped. A reply that is not such JSON, or
    an unreachable model, gives back the extractive summary with the reason in ``mode``.
    """

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    def write(self, extractive: Summary, reader_language: str) -> Summary:
        mode = f"abstractive:{self.client.model}"
        try:
            reply = self.client.complete(self._messages(extractive, reader_language))
        except LLMError as exc:
            return _fallback(extractive, f"{mode} failed: {exc}")
        try:
            entries = _parse(reply)
        except ValueError:
            return _fallback(extractive, f"{mode} reply was not valid JSON")
        sentences = []
        for text, number in entries:
            if 1 <= number <= len(extractive.sentences):
                sentences.append(SummarySentence(text, extractive.sentences[number - 1].citation))
        if not sentences:
            return _fallback(extractive, f"{mode} reply cited none of the sentences")
        return Summary(mode=mode, language=reader_language, sentences=tuple(sentences))

    @staticmethod
    def _messages(extractive: Summary, reader_language: str) -> list[dict[str, str]]:
        language = _language_name(reader_language)
        numbered = "\n".join(f"{i}. {s.text}" for i, s in enumerate(extractive.sentences, start=1))
        return [
            {
                "role": "system",
                "content": "You summarise news faithfully. You answer with JSON only, no commentary.",
            },
            {
                "role": "user",
                "content": (
                    f"Here are {len(extractive.sentences)} numbered sentences from news articles about one story, "
                    f"possibly in several languages.\n\n{numbered}\n\n"
                    f"Write a short summary of the story in {language}, using only facts stated in these "
                    "sentences. Write names of people and places as they are usually written in "
                    f"{language}, and keep every date and number. Answer with a JSON list of objects "
                    '{"text": "<one summary sentence>", "source": <number of the sentence it is based on>}, '
                    "one object per summary sentence, in the order of the story."
                ),
            },
        ]


def _fallback(extractive: Summary, reason: str) -> Summary:
    return Summary(mode=f"extractive ({reason})", language=extractive.language, sentences=extractive.sentences)


def _parse(reply: str) -> list[tuple[str, int]]:
    """``(text, source number)`` pairs from the model's reply; ValueError unless it is a JSON list
    (bare, in a Markdown code fence, or under a "sentences" key). Malformed entries are skipped."""
    data: Any = json.loads(_FENCE.sub("", reply))
    if isinstance(data, dict) and isinstance(data.get("sentences"), list):
        data = data["sentences"]
    if not isinstance(data, list):
        raise ValueError("not a JSON list")
    out = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        text, source = entry.get("text"), entry.get("source")
        if isinstance(source, str) and source.strip().isdigit():
            source = int(source)
        if isinstance(text, str) and text.strip() and isinstance(source, int) and not isinstance(source, bool):
            out.append((text.strip(), source))
    return out


def _language_name(code: str) -> str:
    """"English" for "en": models follow a language name more reliably than a code."""
    try:
        return Locale.parse(code).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code
