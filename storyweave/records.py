"""Typed records passed between the pipeline's stages.

Each stage takes records and returns records; none of them reaches into the store or the CLI.
The JSON shapes that the CLI prints (``--json``) are these records serialised by ``to_dict``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Article",
    "Assignment",
    "Citation",
    "Claim",
    "DatePrecision",
    "Entity",
    "IngestError",
    "Mention",
    "Move",
    "PublishedDate",
    "Quote",
    "RawDoc",
    "Story",
    "StoryAnalysis",
    "Summary",
    "SummarySentence",
    "TimelineEvent",
]


class DatePrecision(StrEnum):
    """How much of a date the evidence gives: never more than the source says."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PublishedDate:
    """A publication date with its precision and where it came from.

    ``value`` holds the first day of the period the precision covers (2023-09-01 for a
    month-precision ``2023-09``); ``None`` when unknown.
    """

    value: dt.date | None = None
    precision: DatePrecision = DatePrecision.UNKNOWN
    origin: str = ""  # "metadata", "header", "dateline", "url", "folder"; empty when unknown

    def __str__(self) -> str:
        if self.value is None:
            return "unknown"
        if self.precision is DatePrecision.YEAR:
            return f"{self.value.year:04d}"
        if self.precision is DatePrecision.MONTH:
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": None if self.value is None else str(self),
            "precision": self.precision.value,
            "origin": self.origin,
        }


UNKNOWN_DATE = PublishedDate()


@dataclass(frozen=True, slots=True)
class RawDoc:
    """One item as a source delivered it, before cleaning and detection.

    ``origin`` names the item for the user (file path, ``path:line`` for JSON lines, URL,
    ``<stdin>``); ``text`` is the body as plain text (HTML is already reduced to its main text by
    the ingest module that read it). The other fields carry whatever metadata came with it.
    """

    origin: str
    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    published: str = ""  # as the metadata wrote it; parsed by the detect stage
    language: str = ""  # a declared language (HTML lang, JSON field); checked by the detect stage
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestError:
    """An item that could not be read, named so the user can find it."""

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass(slots=True)
class Article:
    """A cleaned, detected article: what the rest of the pipeline works on."""

    id: str  # content hash of body and url: the same article always gets the same id
    fingerprint: str  # hash of the normalised body alone: equal for syndicated copies
    origin: str
    source: str
    url: str
    title: str
    body: str
    language: str
    published: PublishedDate
    ingested_at: dt.datetime
    duplicate_of: str | None = None  # id of the earlier article this one copies, if any
    name_keys: tuple[str, ...] = ()  # cross-script keys of the names it mentions
    vector: Any = None  # numpy float32 embedding of title and lead, L2-normalised

    def to_dict(self, *, with_body: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "origin": self.origin,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "language": self.language,
            "published": self.published.to_dict(),
            "ingested_at": self.ingested_at.isoformat(timespec="seconds"),
            "duplicate_of": self.duplicate_of,
        }
        if with_body:
            out["body"] = self.body
        return out


@dataclass(frozen=True, slots=True)
class Move:
    """A recent article the clusterer moved to another story when it checked it again."""

    article_id: str
    from_story: str
    to_story: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """The clusterer's decision for one article, and what else it changed meanwhile."""

    article_id: str
    story_id: str
    decision: str  # "join", "new" or "duplicate"
    score: float  # the log-odds of joining the chosen story (0 for "new")
    merged: tuple[str, ...] = ()  # younger stories merged into story_id after this article joined
    moved: tuple[Move, ...] = ()  # recent articles moved between stories by the periodic re-check


@dataclass(slots=True)
class Story:
    """A group of articles about one real-world event."""

    id: str
    title: str
    size: int
    languages: list[str]
    first_published: str | None
    last_published: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    merged_ids: list[str] = field(default_factory=list)  # ids of stories merged into this one
    articles: list[Article] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "size": self.size,
            "languages": list(self.languages),
            "first_published": self.first_published,
            "last_published": self.last_published,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
            "merged_ids": list(self.merged_ids),
            "articles": [a.to_dict() for a in self.articles],
        }


# --- What a story says (the analysis stages after clustering) ----------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a claim comes from: an article and a character span of its body."""

    article_id: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Mention:
    """A name as one article writes it."""

    text: str
    kind: str  # "person", "organisation", "place"
    key: str  # cross-script key (storyweave.names.name_key)
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "key": self.key, "citation": self.citation.to_dict()}


@dataclass(slots=True)
class Entity:
    """One person, organisation or place of a story, merged across languages and scripts."""

    id: str  # stable within the story: derived from the canonical key
    name: str  # canonical name, Latin script where any article gives one
    kind: str
    surface_forms: dict[str, list[str]]  # language -> forms as written
    mentions: list[Mention] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "surface_forms": self.surface_forms,
            "mentions": [m.to_dict() for m in self.mentions],
        }


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct quotation with its speaker."""

    text: str  # the words inside the quotation marks
    speaker: str  # the speaker as written ("" when unknown)
    speaker_entity: str | None  # Entity.id when resolved
    language: str
    citation: Citation  # span of the quoted words in the article body

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "speaker": self.speaker,
            "speaker_entity": self.speaker_entity,
            "language": self.language,
            "citation": self.citation.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """What happened when: a clause from an article, dated as precisely as the text allows."""

    date: PublishedDate  # origin: "text" (resolved from the text) or "published" (fallback)
    uncertain: bool  # True when the date could not be pinned down (e.g. a weekday with no anchor)
    text: str
    expression: str  # the date expression as written ("on Wednesday", "يوم الأربعاء")
    citations: tuple[Citation, ...]  # every article supporting the event

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.to_dict(),
            "uncertain": self.uncertain,
            "text": self.text,
            "expression": self.expression,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class Claim:
    """Statements that say the same thing, across articles and languages."""

    text: str  # a representative statement
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    citations: tuple[Citation, ...]
    single_source: bool  # only one source carries it

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "languages": list(self.languages),
            "sources": list(self.sources),
            "citations": [c.to_dict() for c in self.citations],
            "single_source": self.single_source,
        }


@dataclass(frozen=True, slots=True)
class SummarySentence:
    text: str
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citation": self.citation.to_dict()}


@dataclass(frozen=True, slots=True)
class Summary:
    mode: str  # "extractive" (offline) or "abstractive:<model>" / "translated:<model>"
    language: str  # the language the sentences are in ("mul" when mixed)
    sentences: tuple[SummarySentence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "language": self.language, "sentences": [s.to_dict() for s in self.sentences]}


@dataclass(slots=True)
class StoryAnalysis:
    """Everything the analysis stages say about one story."""

    story_id: str
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    summary: Summary | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entities": [e.to_dict() for e in self.entities],
            "quotes": [q.to_dict() for q in self.quotes],
            "timeline": [t.to_dict() for t in self.timeline],
            "claims": [c.to_dict() for c in self.claims],
            "summary": None if self.summary is None else self.summary.to_dict(),
        }
