"""The timeline stage: dates resolved as far as the evidence goes, never a wrong precise date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storyweave.analyse.sentences import sentence_spans
from storyweave.analyse.timeline import build_timeline, extract_events
from storyweave.ingest import read_paths
from storyweave.pipeline import prepare
from storyweave.records import Article, DatePrecision, PublishedDate, RawDoc, TimelineEvent

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEPT = dt.date(2023, 9, 1)


def _article(ident: str, body: str, language: str, published: PublishedDate | None = None) -> Article:
    return Article(
        id=ident, fingerprint=ident, origin=f"{ident}.txt", source="test", url="", title="", body=body,
        language=language, published=published or PublishedDate(), ingested_at=dt.datetime(2024, 1, 1),
    )  # fmt: skip


def _day(value: dt.date) -> PublishedDate:
    return PublishedDate(value, DatePrecision.DAY, "metadata")


def _dates(events: list[TimelineEvent]) -> dict[str, tuple[str, bool]]:
    """Expression -> (date as printed, uncertain)."""
    return {e.expression: (str(e.date), e.uncertain) for e in events}


def _check_citations(events: list[TimelineEvent], articles: list[Article]) -> None:
    """The first citation is the event's text; each further one a whole sentence of its article."""
    bodies = {a.id: a.body for a in articles}
    for event in events:
        first = event.citations[0]
        assert bodies[first.article_id][first.start : first.end] == event.text
        assert event.expression in event.text
        for citation in event.citations:
            assert (citation.start, citation.end) in sentence_spans(bodies[citation.article_id])


@pytest.fixture(scope="module")
def samples() -> list[Article]:
    return [prepare(doc) for doc in read_paths([EXAMPLES]) if isinstance(doc, RawDoc)]


def test_sample_story_timeline(samples: list[Article]) -> None:
    timeline = build_timeline(samples)
    _check_citations(timeline, samples)
    origin = {a.id: Path(a.origin).name[:3] for a in samples}
    found = {(origin[e.citations[0].article_id], e.expression): (str(e.date), e.uncertain) for e in timeline}
    # The meeting at Vostochny, "يوم الأربعاء": the Malay article's 10-13 September forum narrows
    # the undated Arabic report (its Wednesday and Thursday fit only there) to 13 September.
    assert found[("002", "يوم الأربعاء")] in {("2023-09-13", False), ("2023-09", True)}
    # The announcement on Monday and the train leaving on Sunday evening, in a 2023-09 article.
    assert found[("001", "të hënën")] in {("2023-09-11", False), ("2023-09", True)}
    assert found[("001", "mbrëmjen e së dielës")] in {("2023-09-10", False), ("2023-09", True)}
    # "could take place on Tuesday" is speculation: never a day.
    assert found[("001", "e martë")] == ("2023-09", True)
    # The article written after the visit names Friday, Wednesday, Monday, Sunday and Tuesday:
    # no single week fits the forum, so its arrival, departure and thank-you stay in the month.
    for expression in ("الثلاثاء", "الأحد", "الإثنين"):
        assert found[("004", expression)] == ("2023-09", True)
    # Never a wrong precise date: every day given is one the story's events took place on.
    true_days = {"2023-09-10", "2023-09-11", "2023-09-13", "2023-09-14"}
    assert {str(e.date) for e in timeline if e.date.precision is DatePrecision.DAY} <= true_days
    assert found[("002", "في عام 2019")] == ("2019", False)


@pytest.mark.parametrize(
    ("language", "published", "body", "expected"),
    [
        ("en", dt.date(2023, 9, 14),  # a Thursday
         "Kim met Putin on Wednesday. He will visit a shipyard on Friday. Officials said yesterday that "
         "talks went well. The forum ran September 10-13, 2023. Last week the plans leaked.",
         {"on Wednesday": ("2023-09-13", False), "on Friday": ("2023-09-15", False),
          "yesterday": ("2023-09-13", False), "September 10-13, 2023": ("2023-09", False),
          "Last week": ("2023-09", False)}),
        ("es", dt.date(2011, 1, 28),  # a Friday
         "El presidente habló el miércoles en El Cairo. Miles protestaron ayer en la plaza. El 25 de enero "
         "comenzaron las protestas. La marcha será el próximo martes.",
         {"el miércoles": ("2011-01-26", False), "ayer": ("2011-01-27", False),
          "25 de enero": ("2011-01-25", False), "próximo martes": ("2011-02-01", False)}),
        ("fr", dt.date(2011, 3, 7),  # a Monday
         "Kadhafi a parlé mardi dernier à Tripoli. Hier, des avions ont bombardé Ras Lanouf.",
         {"mardi dernier": ("2011-03-01", False), "Hier": ("2011-03-06", False)}),
        ("it", dt.date(2011, 2, 22),  # a Tuesday: "last Tuesday" is a week ago, not today
         "Martedì scorso ci sono stati scontri. Ieri Gheddafi ha parlato. Sabato si terrà un corteo.",
         {"Martedì scorso": ("2011-02-15", False), "Ieri": ("2011-02-21", False),
          "Sabato": ("2011-02-26", False)}),
        ("sq", dt.date(2023, 9, 12),
         "Kim do të vizitojë Rusinë, njoftuan dy vendet të hënën. Treni u nis mbrëmjen e së dielës. "
         "Takimi mund të bëhej ditën e martë.",
         {"të hënën": ("2023-09-11", False), "mbrëmjen e së dielës": ("2023-09-10", False),
          "e martë": ("2023-09", True)}),
        ("ms", dt.date(2023, 9, 5),
         "The New York Times melaporkan pada hari Isnin bahawa Kim merancang untuk bertemu Putin. "
         "Forum itu dijadualkan berlangsung dari 10 hingga 13 September.",
         {"pada hari Isnin": ("2023-09-04", False), "10 hingga 13 September": ("2023-09", False)}),
        ("ar", dt.date(2023, 9, 18),  # a Monday
         "وغادر كيم الأحد روسيا بعد زيارة. وعقد الاجتماع في 13 أيلول 2023. وقال أمس إن الزيارة ناجحة. "
         "وسوف يزور بوتين بيونغ يانغ يوم الخميس المقبل. وبدأت الحرب في تشرين الأول 2022.",
         {"الأحد": ("2023-09-17", False), "13 أيلول 2023": ("2023-09-13", False), "أمس": ("2023-09-17", False),
          "يوم الخميس المقبل": ("2023-09-21", False), "تشرين الأول 2022": ("2022-10", False)}),
    ],
)  # fmt: skip
def test_relative_dates_resolved_from_the_publication_day(
    language: str, published: dt.date, body: str, expected: dict[str, tuple[str, bool]]
) -> None:
    article = _article("a", body, language, _day(published))
    events = extract_events(article)
    _check_citations(events, [article])
    assert _dates(events) == expected


def test_month_precision_publication_leaves_weekdays_uncertain() -> None:
    month = PublishedDate(SEPT, DatePrecision.MONTH, "header")
    body = "Guterres tha të mërkurën se sanksionet duhen respektuar. Në shkurt 2022 nisi lufta."
    article = _article("sq", body, "sq", month)
    assert _dates(extract_events(article)) == {"të mërkurën": ("2023-09", True), "shkurt 2022": ("2022-02", False)}


def test_a_range_in_another_article_pins_the_weekday() -> None:
    month = PublishedDate(SEPT, DatePrecision.MONTH, "header")
    forum = _article("ms", "Forum itu dijadualkan berlangsung dari 10 hingga 13 September.", "ms")
    report = _article("sq", "Kim dhe Putin u takuan të mërkurën në kozmodrom.", "sq", month)
    recap = _article("sq2", "Ministrat u takuan të premten. Kim u largua të dielën.", "sq", month)
    events = build_timeline([forum, report, recap])
    _check_citations(events, [forum, report, recap])
    found = _dates(events)
    assert found["të mërkurën"] == ("2023-09-13", False)
    # Friday falls outside 10-14 September: the recap is not about the forum's days.
    assert found["të premten"] == ("2023-09", True)
    assert found["të dielën"] == ("2023-09", True)
    # Alone, without the forum, the meeting cannot be pinned down.
    assert _dates(build_timeline([report])) == {"të mërkurën": ("2023-09", True)}


def test_unknown_publication_date_dates_only_what_carries_a_year() -> None:
    article = _article("x", "Kim met Putin on Wednesday. The summit was on 13 September 2023.", "en")
    assert _dates(extract_events(article)) == {"13 September 2023": ("2023-09-13", False)}


def test_weekday_beside_a_date_and_weekday_names_that_are_names() -> None:
    wednesday = _article("w", "Kim met Putin on Wednesday, 13 September.", "en", _day(dt.date(2023, 9, 21)))
    assert _dates(extract_events(wednesday)) == {"on Wednesday, 13 September": ("2023-09-13", False)}
    santo = _article("d", "Plácido Domingo cantó en Santo Domingo.", "es", _day(dt.date(2011, 1, 28)))
    assert extract_events(santo) == []


def test_same_weekday_future_and_yearless_dates() -> None:
    monday = _day(dt.date(2023, 9, 18))
    # "will meet on Monday" written on a Monday: today or in a week, so the month only.
    future = _article("f", "Kim will meet Putin on Monday.", "en", monday)
    assert _dates(extract_events(future)) == {"on Monday": ("2023-09", True)}
    # A date without a year reads in the latest year that does not put it far in the future.
    january = _article("j", "Protests began on 25 December.", "en", _day(dt.date(2011, 1, 10)))
    assert _dates(extract_events(january)) == {"25 December": ("2010-12-25", False)}


def test_events_merged_across_articles_and_languages() -> None:
    day = _day(dt.date(2023, 9, 14))
    english = _article("en", "Vladimir Putin met Kim Jong Un on Wednesday. Rain fell on Wednesday.", "en", day)
    french = _article("fr", "Vladimir Poutine a reçu Kim Jong Un mercredi au cosmodrome.", "fr", day)
    events = build_timeline([english, french])
    _check_citations(events, [english, french])
    meeting = [e for e in events if "Kim" in e.text]
    assert len(meeting) == 1
    assert [c.article_id for c in meeting[0].citations] == ["en", "fr"]
    assert str(meeting[0].date) == "2023-09-13"
    rain = [e for e in events if "Rain" in e.text]
    assert len(rain) == 1 and len(rain[0].citations) == 1
