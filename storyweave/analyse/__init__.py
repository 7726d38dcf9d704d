"""What a story says: the analysis stages that run after clustering, in one explicit sequence.

    entities ─▶ quotes ─▶ timeline ─▶ claims ─▶ summary

Each stage takes the story's articles (syndicated copies left out: they add no information) and
returns typed records; :func:`analyse_story` runs them in order and returns a
:class:`~storyweave.records.StoryAnalysis`. Every extracted item carries a citation (article id and
character span) into an article's body.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..encode import Encoder
from ..records import Article, StoryAnalysis
from .claims import find_claims
from .entities import extract_mentions, merge_entities
from .quotes import extract_quotes
from .summary import SummaryWriter, summarise
from .timeline import build_timeline

__all__ = ["analyse_story", "extract_mentions", "find_claims", "merge_entities", "extract_quotes", "build_timeline", "summarise"]


def analyse_story(
    story_id: str,
    articles: Sequence[Article],
    encoder: Encoder,
    *,
    reader_language: str = "en",
    writer: SummaryWriter | None = None,
) -> StoryAnalysis:
    """entities ─▶ quotes ─▶ timeline ─▶ claims ─▶ summary, for one story."""
    originals = [a for a in articles if a.duplicate_of is None]
    entities = merge_entities(originals)
    quotes = extract_quotes(originals, entities)
    timeline = build_timeline(originals)
    claims = find_claims(originals, encoder)
    summary = summarise(originals, claims, reader_language=reader_language, writer=writer)
    return StoryAnalysis(story_id, entities, quotes, timeline, claims, summary)
