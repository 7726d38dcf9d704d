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
    "DatePrecision",
    "IngestError",
    "PublishedDate",
    "RawDoc",
    "Story",
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
class Assignment:
    """The clusterer's decision for one article."""

    article_id: str
    story_id: str
    decision: str  # "join", "new" or "duplicate"
    score: float  # the combined similarity to the chosen story (0 for "new")


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
