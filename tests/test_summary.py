"""The extractive summary and the writer hook, on built stories and on the samples."""

from __future__ import annotations

import datetime as dt

import pytest

from storyweave.analyse.summary import summarise
from storyweave.records import Article, Citation, Claim, DatePrecision, PublishedDate, Summary, SummarySentence

from .test_claims import sample_story


def make(ident: str, language: str, sentences: list[str], day: dt.date | None = None) -> Article:
    published = PublishedDate(day, DatePrecision.DAY, "metadata") if day else PublishedDate()
    return Article(
        id=ident, fingerprint=ident, origin=f"{ident}.txt", source=f"source-{ident}", url="", title="",
        body=" ".join(sentences), language=language, published=published,
        ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    )


def cite(article: Article, words: str) -> Citation:
    start = article.body.index(words)
    end = article.body.index(".", start) + 1
    return Citation(article.id, start, end)


def claim(*citations: Citation, articles: dict[str, Article], text_from: int = 0) -> Claim:
    cited = [articles[c.article_id] for c in citations]
    first = citations[text_from]
    return Claim(
        text=articles[first.article_id].body[first.start : first.end],
        languages=tuple(dict.fromkeys(a.language for a in cited)),
        sources=tuple(dict.fromkeys(a.source for a in cited)),
        citations=citations,
        single_source=len({a.source for a in cited}) == 1,
    )


@pytest.fixture
def built() -> tuple[dict[str, Article], list[Claim]]:
    """Three dated articles and an undated one; claims ranked as find_claims ranks them."""
    may = [dt.date(2024, 5, day) for day in (1, 2, 3)]
    a = make("a", "en", ["The dam at Orvik broke on Monday.", "Rescuers reached Tallen by boat."], may[1])
    b = make("b", "de", ["Der Damm bei Orvik brach am Montag.", "Minister Kaldor versprach 40 Millionen."], may[0])
    c = make("c", "fr", ["Le barrage d'Orvik a cédé lundi.", "Les secours ont atteint Tallen en bateau."], may[2])
    d = make("d", "en", ["Engineers had warned about the Orvik dam in 2019."])
    articles = {x.id: x for x in (a, b, c, d)}
    claims = [
        claim(cite(a, "The dam"), cite(b, "Der Damm"), cite(c, "Le barrage"), articles=articles, text_from=1),
        claim(cite(a, "Rescuers"), cite(c, "Les secours"), articles=articles),
        claim(cite(b, "Minister"), articles=articles),
        claim(cite(d, "Engineers"), articles=articles),
    ]
    return articles, claims


def texts(summary: Summary) -> list[str]:
    return [s.text for s in summary.sentences]


def test_every_sentence_is_its_citation_and_the_order_is_the_story_order(
    built: tuple[dict[str, Article], list[Claim]],
) -> None:
    articles, claims = built
    summary = summarise(list(articles.values()), claims, reader_language="en")
    assert summary.mode == "extractive"
    for sentence in summary.sentences:
        article = articles[sentence.citation.article_id]
        assert article.body[sentence.citation.start : sentence.citation.end] == sentence.text
    # b (1 May) before a (2 May); c (3 May) is not needed: a tells claim 2 in English; d has no date.
    assert [s.citation.article_id for s in summary.sentences] == ["b", "a", "a", "d"]
    assert summary.language == "mul"


def test_a_claim_is_shown_in_the_reader_language_when_one_source_wrote_it(
    built: tuple[dict[str, Article], list[Claim]],
) -> None:
    articles, claims = built
    top = claims[:1]
    assert texts(summarise(list(articles.values()), top, reader_language="fr")) == ["Le barrage d'Orvik a cédé lundi."]
    assert texts(summarise(list(articles.values()), top, reader_language="en")) == ["The dam at Orvik broke on Monday."]
    # No telling in Albanian: the claim's own representative sentence, in German.
    only_de = summarise(list(articles.values()), top, reader_language="sq")
    assert texts(only_de) == ["Der Damm bei Orvik brach am Montag."]
    assert only_de.language == "de"


def test_most_supported_claims_are_chosen_first(built: tuple[dict[str, Article], list[Claim]]) -> None:
    articles, claims = built
    summary = summarise(list(articles.values()), claims, reader_language="en", max_sentences=2)
    assert set(texts(summary)) == {"The dam at Orvik broke on Monday.", "Rescuers reached Tallen by boat."}


def test_a_claim_repeating_a_chosen_one_waits_its_turn() -> None:
    a = make("a", "en", ["Minister Kaldor promised 40 million for Orvik.", "Rain is expected on Sunday in Tallen."])
    b = make("b", "de", ["Minister Kaldor versprach Orvik 40 Millionen.", "Die Schulen in Brenn bleiben geschlossen."])
    articles = {x.id: x for x in (a, b)}
    claims = [
        claim(cite(a, "Minister"), articles=articles),
        claim(cite(b, "Minister"), articles=articles),  # the same promise, not grouped
        claim(cite(a, "Rain"), articles=articles),
        claim(cite(b, "Die Schulen"), articles=articles),
    ]
    chosen = texts(summarise([a, b], claims, reader_language="en", max_sentences=3))
    assert "Minister Kaldor versprach Orvik 40 Millionen." not in chosen
    assert len(chosen) == 3


def test_without_claims_the_leads_are_the_summary() -> None:
    a = make("a", "en", ["Oslo.", "The harbour in Oslo froze for the first time in a decade.", "Ferries stopped."])
    summary = summarise([a], [])
    assert texts(summary) == ["The harbour in Oslo froze for the first time in a decade."]
    assert summary.language == "en"
    empty = summarise([], [])
    assert empty.sentences == () and empty.mode == "extractive" and empty.language == "und"


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: list[tuple[Summary, str]] = []

    def write(self, extractive: Summary, reader_language: str) -> Summary:
        self.calls.append((extractive, reader_language))
        first = extractive.sentences[0]
        return Summary("abstractive:test", reader_language, (SummarySentence("Rewritten.", first.citation),))


def test_a_writer_gets_the_extractive_summary_and_its_result_is_returned(
    built: tuple[dict[str, Article], list[Claim]],
) -> None:
    articles, claims = built
    writer = RecordingWriter()
    summary = summarise(list(articles.values()), claims, reader_language="sq", writer=writer)
    assert summary.mode == "abstractive:test"
    ((extractive, language),) = writer.calls
    assert language == "sq" and extractive.mode == "extractive" and extractive.sentences
    assert summary.sentences[0].citation == extractive.sentences[0].citation
    summarise([], [], writer=writer)
    assert len(writer.calls) == 1  # nothing to rewrite: the writer is not asked


def test_samples_summary_covers_agreed_claims_in_story_order() -> None:
    by_prefix, claims = sample_story()
    articles = [by_prefix[prefix] for prefix in sorted(by_prefix)]
    summary = summarise(articles, claims)
    by_id = {a.id: a for a in articles}
    assert len(summary.sentences) == 5
    agreed = {(c.article_id, c.start) for claim in claims if not claim.single_source for c in claim.citations}
    order = [a.id for a in articles]
    keys = []
    for sentence in summary.sentences:
        article = by_id[sentence.citation.article_id]
        assert article.body[sentence.citation.start : sentence.citation.end] == sentence.text
        assert (sentence.citation.article_id, sentence.citation.start) in agreed
        date = article.published.value
        keys.append((date is None, date or dt.date.max, order.index(article.id), sentence.citation.start))
    assert keys == sorted(keys)
    # One sentence per claim: no two summary sentences cite the same claim.
    claim_of = {(c.article_id, c.start): i for i, claim in enumerate(claims) for c in claim.citations}
    assert len({claim_of[(s.citation.article_id, s.citation.start)] for s in summary.sentences}) == 5
    assert summary.language == "mul"
