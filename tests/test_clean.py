"""The clean stage: every piece of furniture goes, every article sentence stays."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from storyweave.clean import clean, clean_text, clean_title
from storyweave.ingest import read_paths
from storyweave.records import RawDoc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The furniture of each sample, as it appears in the file (a reader's judgement, not the code's).
FURNITURE = {
    "000": ["/VOA"],
    "001": [],
    "002": [],
    "003": [
        "KOREA UTARA MENJALANKAN SIMULASI SERANGAN NUKLEAR BUMI HANGUS BESAR-BESARAN KE ATAS KOREA "
        "SELATAN, TERMASUK MENAKLUK SAINGAN",
        "KOREA UTARA MELEPASKAN 2 PELURU BERPANDU BALISTIK KE LAUT SELEPAS LATIHAN TENTERA AS, KOREA SELATAN",
        "‘ Timothy H.J. Nerozzi menyumbang kepada laporan ini.",
    ],
    "004": [
        "كتب فريق التحرير",
        "فريق التحرير",
        "3 دقيقة للقراءة",
        "شارك المقال",
        "اترك تعليقك",
        "اترك تعليقاً",
        "لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *",
    ],
}

_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+")


def sentences(text: str, furniture: list[str]) -> list[str]:
    """The sentences of ``text`` once its furniture is cut out, split at final punctuation."""
    found: list[str] = []
    for line in text.split("\n"):
        for piece in furniture:
            line = line.replace(piece, " ")
        found += [" ".join(s.split()) for s in _SENTENCE_END.split(line)]
    return [s for s in found if any(ch.isalpha() for ch in s)]


@pytest.fixture(scope="module")
def samples() -> dict[str, RawDoc]:
    return {Path(doc.origin).name[:3]: doc for doc in read_paths([EXAMPLES]) if isinstance(doc, RawDoc)}


@pytest.mark.parametrize("key", sorted(FURNITURE))
def test_sample_furniture_goes_and_every_sentence_stays(samples: dict[str, RawDoc], key: str) -> None:
    raw = samples[key]
    cleaned = clean(raw)
    output = " ".join(f"{cleaned.title}\n{cleaned.text}".split())
    for piece in FURNITURE[key]:
        assert piece in f"{raw.title}\n{raw.text}", "the furniture list must quote the sample"
        assert piece not in output
    kept = sentences(f"{raw.title}\n{raw.text}", FURNITURE[key])
    assert len(kept) > 5
    for sentence in kept:
        assert sentence in output, sentence


def test_sample_000_keeps_the_sentence_its_agency_tag_was_glued_to(samples: dict[str, RawDoc]) -> None:
    assert clean(samples["000"]).text.endswith("sanksionet e vendosura nga Këshilli i Sigurimit.")


def test_clean_returns_a_copy(samples: dict[str, RawDoc]) -> None:
    raw = samples["004"]
    cleaned = clean(raw)
    assert cleaned is not raw and "شارك المقال" in raw.text
    assert cleaned == dataclasses.replace(raw, text=cleaned.text, title=cleaned.title)


# --- each kind, in several languages, both directions ----------------------------------------

LEAD = "Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome on Wednesday, the Kremlin said."
TAIL = "The two leaders discussed military cooperation despite international sanctions."


@pytest.mark.parametrize(
    "furniture",
    [
        "Share", "Share this article", "Share on WhatsApp", "Share | Tweet | Email", "Comments (12)",
        "Leave a comment", "Leave a Reply", "Partager", "Laisser un commentaire", "Compartir",
        "Deja un comentario", "Condividi", "Lascia un commento", "Teilen", "Kommentare", "Поделиться",
        "Paylaş", "Kongsi", "Bagikan", "شارك المقال", "اترك تعليقاً", "أضف تعليق", "分享", "댓글",
        "Your email address will not be published. Required fields are marked *",
        "Votre adresse e-mail ne sera pas publiée. Les champs obligatoires sont indiqués avec *",
        "5 min read", "3 minute read", "Lesezeit: 3 Minuten", "Temps de lecture : 4 min",
        "Tiempo de lectura: 2 minutos", "3 دقيقة للقراءة", "By Jane Doe", "By JANE DOE and John Roe",
        "Par Jean Dupont", "Von Anna Schmidt", "Nga Arben Hoxha", "Oleh Ahmad Rahman",
        "كتب فريق التحرير", "بقلم محمد أحمد", "Staff Reporter", "فريق التحرير",
        "Read more: Kim leaves Russia after six-day visit", "Baca juga: Kim tinggalkan Rusia",
        "اقرأ أيضا: كيم يغادر روسيا", "NORTH KOREA FIRES BALLISTIC MISSILES INTO THE SEA AFTER US DRILLS",
        "Jane Doe contributed to this report.", "Reporting by Jane Doe; Editing by John Roe",
        "Timothy H.J. Nerozzi menyumbang kepada laporan ini.", "ساهم في التغطية محمد أحمد",
    ],
)  # fmt: skip
def test_furniture_line_is_removed(furniture: str) -> None:
    assert clean_text(f"{LEAD}\n{furniture}\n{TAIL}") == f"{LEAD}\n{TAIL}"


@pytest.mark.parametrize(
    "sentence",
    [
        "Share prices in Seoul fell sharply after the announcement.",
        "By the end of the day, the talks had ended.",
        "By the numbers",  # a heading: names are capitalised
        "Nga ana e tij, Kim tha se do t’i bëjë lidhjet me Rusinë prioritet.",
        "Nga Moska në Phenian",  # a heading: "në" is no name
        "Par ailleurs, les sanctions restent en vigueur.",
        "Teilen Sie uns Ihre Meinung mit, sagte der Minister.",
        "The minister said he needed 5 min to read the statement.",
        "The company contributed to the report's funding, it said.",
        "NATO",
        "UN SAYS NO",  # too short to be a headline
        "Kim said the plan (AP) would go ahead.",
        "كتب الرئيس في رسالته أن العلاقات بين البلدين ستتعزز.",
        "زيارة كيم لموسكو",
    ],
)
def test_article_line_is_kept(sentence: str) -> None:
    text = f"{LEAD}\n{sentence}\n{TAIL}"
    assert clean_text(text) == text


def test_reading_time_is_cut_from_a_line_that_keeps_other_text() -> None:
    assert clean_text(f"Seoul · 5 min read · Kim in Russia\n{LEAD}") == f"Seoul · Kim in Russia\n{LEAD}"


def test_credit_sentence_closing_a_paragraph_is_removed() -> None:
    paragraph = f"{LEAD} {TAIL} Timothy H.J. Nerozzi and Jane Doe contributed to this report."
    assert clean_text(paragraph) == f"{LEAD} {TAIL}"


def test_all_caps_lines_only_go_in_mixed_case_texts_of_cased_scripts() -> None:
    shouting = f"{LEAD.upper()}\nNORTH KOREA FIRES BALLISTIC MISSILES INTO THE SEA\n{TAIL.upper()}"
    assert clean_text(shouting) == shouting  # a wire story in capitals keeps its lines
    arabic = (
        "وافق الرئيس الروسي فلاديمير بوتين على التوجه إلى كوريا الشمالية.\n"
        "كوريا الشمالية تطلق صاروخين باليستيين\n"
        "وقال المتحدث إن الزيارة ناجحة."
    )
    assert clean_text(arabic) == arabic


@pytest.mark.parametrize(
    ("ending", "kept"),
    [
        ("Këshilli i Sigurimit./VOA", "Këshilli i Sigurimit."),
        ("the Security Council. (Reuters)", "the Security Council."),
        ("the Security Council. - AFP", "the Security Council."),
        ("the Security Council./AP", "the Security Council."),
        ("the Security Council.\n(AFP)", "the Security Council."),
        ("مجلس الأمن. (رويترز)", "مجلس الأمن."),
        ("he said on Friday - Reuters", "he said on Friday"),
    ],
)
def test_trailing_agency_tag_goes_and_its_sentence_stays(ending: str, kept: str) -> None:
    assert clean_text(f"{LEAD}\n{ending}") == f"{LEAD}\n{kept}"


@pytest.mark.parametrize(
    "ending",
    ["first reported by the AP", "relations improved (slightly).", "a 50/50 chance.", "the AC/DC concert"],
)
def test_endings_that_are_not_agency_tags_stay(ending: str) -> None:
    assert clean_text(f"{LEAD}\n{ending}") == f"{LEAD}\n{ending}"


def test_agency_tag_mid_text_stays() -> None:
    text = f"SEOUL (Reuters) - {LEAD}\n{TAIL}"
    assert clean_text(text) == text  # the dateline is evidence for the detect stage


@pytest.mark.parametrize(
    ("title", "source", "expected"),
    [
        ("Kim meets Putin | BBC News", "BBC News", "Kim meets Putin"),
        ("Kim meets Putin - Al Jazeera", "aljazeera.com", "Kim meets Putin"),
        ("VOA - Kim meets Putin", "VOA", "Kim meets Putin"),
        ("Kim - Putin summit ends", "example.com", "Kim - Putin summit ends"),
        ("Kim meets  Putin\n", "", "Kim meets Putin"),
        ("By Jane Doe", "", ""),
        ("Share", "", ""),
        ("NORTH KOREA FIRES MISSILES AFTER DRILLS", "", "NORTH KOREA FIRES MISSILES AFTER DRILLS"),
    ],
)
def test_clean_title(title: str, source: str, expected: str) -> None:
    assert clean_title(title, source) == expected
