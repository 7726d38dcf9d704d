"""Quotes: quotation marks of many traditions, speakers from speech verbs, exact spans.

Checked on the five sample articles and on short English, French and German texts written for
these tests.
"""

from __future__ import annotations

from pathlib import Path

from storyweave.analyse.entities import merge_entities
from storyweave.analyse.quotes import extract_quotes, quotation_spans
from storyweave.records import Quote

from .test_entities import SUMMIT_EN, SUMMIT_FR, make_article, sample_entities, samples


def sample_quotes() -> list[Quote]:
    return extract_quotes(samples(), sample_entities())


def file_of(quote: Quote) -> str:
    return next(Path(a.origin).name[:3] for a in samples() if a.id == quote.citation.article_id)


def speaker_name(quote: Quote) -> str | None:
    """The canonical name of the quote's speaker entity (None when unresolved)."""
    return next((e.name for e in sample_entities() if e.id == quote.speaker_entity), None)


# Every quotation of the samples that is kept, by file and opening words, with its speaker as
# written and the speaker's entity. Read off the texts by hand; see test_skipped_quotations for
# those that are left out.
EXPECTED = {
    ("000", "prioritet numër një"): ("Kim", "Kim Jong Un"),
    ("000", "Kemi shprehur gjithnjë"): ("Kim", "Kim Jong Un"),
    ("000", "Asnjë vend në planet"): ("Kirby", "John Kirby"),
    ("000", "Do të thoja se"): ("Miller", "Matthew Miller"),
    ("000", "Mendoj se është"): ("Mark Fitzpatrick", "Mark Fitzpatrick"),
    ("001", "në ditët në vazhdim"): ("Kremlinit", "Kremlin"),
    ("001", "I respektuari Shoku"): ("KCNA", "KCNA"),
    ("001", "nëse do të jetë"): ("Dmitry Peskov", "Dmitry Peskov"),
    ("002", "دعا كيم جونغ أون"): ("وكالة الأنباء المركزية الكورية", "KCNA"),
    ("002", "بوتين قبل الدعوة"): ("", None),  # "وأضافت الوكالة": the agency, not named
    ("002", "نصراً عظيماً"): ("", None),  # "أكد الرجل الأول في كوريا الشمالية": no name
    ("002", "تعزيز التعاون المستقبلي"): ("بوتين", "Vladimir Putin"),
    ("002", "آفاق"): ("بوتين", "Vladimir Putin"),
    ("002", "عرضاً"): ("بوتين", "Vladimir Putin"),
    ("002", "المدنية والعسكرية"): ("", None),  # "وقال الرئيس الروسي": a title, no name
    ("002", "قلقها"): ("الولايات المتحدة", "United States"),
    ("002", "من الواضح أننا"): ("جون كيربي", "John Kirby"),
    ("002", "انتهاكًا للعديد"): ("ماثيو ميللر", "Matthew Miller"),
    ("002", "لن تتردد"): ("ميلر", "Matthew Miller"),
    ("003", "rundingan senjata"): ("John Kirby", "John Kirby"),
    ("003", "secara aktif maju."): ("John Kirby", "John Kirby"),
    ("003", "Berikutan rundingan ini"): ("Kirby", "John Kirby"),
    ("003", "penglibatan diplomatik"): ("Rumah Putih", "White House"),
    ("003", "Kami mendesak D.P.R.K."): ("NSC", "National Security Council"),
    ("004", "استفزازا مباشرا"): ("يون سوك يول", "يون سوك يول"),
    ("004", "شكره العميق"): ("كيم", "Kim Jong Un"),
    ("004", "العناية الخاصة"): ("كيم", "Kim Jong Un"),
    ("004", "تعميق"): ("كيم وبوتين", None),  # two speakers: "وأكد كيم وبوتين"
    ("004", "دائما ما عبرنا"): ("كيم", "Kim Jong Un"),
    ("004", "أي اتفاق"): ("الكرملين", "Kremlin"),
}


def test_every_quote_cites_its_words_exactly() -> None:
    bodies = {a.id: a for a in samples()}
    quotes = sample_quotes()
    assert quotes
    for quote in quotes:
        article = bodies[quote.citation.article_id]
        assert article.body[quote.citation.start : quote.citation.end] == quote.text
        assert quote.text == quote.text.strip()
        assert quote.language == article.language
        # The span lies between quotation marks.
        assert article.body[quote.citation.start - 1] in "“«„\"'‘ "
        assert article.body[quote.citation.end] in "”»“\"'’ "


def test_sample_quotes_and_speakers() -> None:
    found = {}
    for quote in sample_quotes():
        key = next((k for k in EXPECTED if k[0] == file_of(quote) and quote.text.startswith(k[1])), None)
        assert key is not None, f"unexpected quote in {file_of(quote)}: {quote.text[:40]}"
        found[key] = (quote.speaker, speaker_name(quote))
    assert found == EXPECTED


def test_quotes_by_the_story_s_speakers_in_three_languages() -> None:
    by_speaker: dict[str, set[str]] = {}
    for quote in sample_quotes():
        name = speaker_name(quote)
        if name:
            by_speaker.setdefault(name, set()).add(quote.language)
    assert by_speaker["John Kirby"] == {"sq", "ar", "ms"}
    assert by_speaker["Matthew Miller"] == {"sq", "ar"}
    assert by_speaker["Kim Jong Un"] == {"sq", "ar"}
    assert by_speaker["Kremlin"] == {"sq", "ar"}
    assert by_speaker["Vladimir Putin"] == {"ar"}
    assert by_speaker["Mark Fitzpatrick"] == {"sq"}
    assert set().union(*by_speaker.values()) == {"sq", "ar", "ms"}


def test_skipped_quotations() -> None:
    texts = [q.text for q in sample_quotes()]
    # Names and scare quotes of three words or fewer with no speech verb in their sentence.
    for skipped in ("Chosun Ilbo", "politikat hegjemoniste", "الازدهار", "الرفاهية"):
        assert skipped not in texts
    # A mark left open at the end of its paragraph opens no quotation.
    assert not [t for t in texts if "لهذا السبب" in t or "Timothy" in t]


def test_speakers_are_found_without_entities() -> None:
    quotes = extract_quotes(samples(), [])
    assert all(q.speaker_entity is None for q in quotes)
    speakers = {q.speaker for q in quotes}
    assert {"Kirby", "John Kirby", "جون كيربي", "Mark Fitzpatrick", "Dmitry Peskov"} <= speakers


# --- Quotation marks ---------------------------------------------------------------------------
def test_quotation_marks_of_many_traditions() -> None:
    text = (
        "Er sagte: „Wir schaffen das“. Elle a dit : « Bonjour » et ‹ oui ›. "
        "「東京」と『大阪』. She said 'fine' and \"well\". Il a dit « c'est ça »."
    )
    inner = [text[o + 1 : c].strip() for o, c in quotation_spans(text)]
    assert inner == ["Wir schaffen das", "Bonjour", "oui", "東京", "大阪", "fine", "well", "c'est ça"]


def test_apostrophes_and_unclosed_marks_open_no_quotation() -> None:
    assert quotation_spans("Putin's plan, Kim’s train and t’i bëjë; the '90s.") == []
    assert quotation_spans("“Open and never closed.\n“Closed” here.") == [(24, 31)]
    # A second opening mark before any closing one: the first was left open.
    assert quotation_spans("“one “two” three") == [(5, 9)]


# --- Generalisation -----------------------------------------------------------------------------
def test_english_and_french_quotes() -> None:
    articles = [make_article("en1", "en", SUMMIT_EN), make_article("fr1", "fr", SUMMIT_FR)]
    entities = merge_entities(articles)
    names = {e.id: e.name for e in entities}
    quotes = extract_quotes(articles, entities)
    got = [(q.language, q.text, q.speaker, names.get(q.speaker_entity or "")) for q in quotes]
    assert got == [
        ("en", "We stand together with Ukraine,", "Scholz", "Olaf Scholz"),
        ("en", "This is a decisive moment for Europe,", "", None),  # "he added": a pronoun
        ("en", "the coming months will be difficult.", "Stoltenberg", "Jens Stoltenberg"),
        ("fr", "Nous devons soutenir l'Ukraine aussi longtemps qu'il le faudra", "Macron", "Emmanuel Macron"),
        ("fr", "la France ne reculera pas", "Jean-Noël Barrot", "Jean-Noël Barrot"),
    ]
    # "special operation" (no speech verb) and « provocation » (dénoncé is no speech verb) are
    # scare quotes.


def test_german_quote_with_speaker_after_the_verb() -> None:
    text = "„Wir werden die Ukraine weiter unterstützen“, sagte Bundeskanzler Scholz am Montag in Berlin."
    article = make_article("de1", "de", text)
    (quote,) = extract_quotes([article], merge_entities([article]))
    assert quote.text == "Wir werden die Ukraine weiter unterstützen"
    assert quote.speaker == "Scholz"
