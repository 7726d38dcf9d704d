"""The detect stage: language of articles and headlines, and publication dates never invented."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storyweave.clean import clean
from storyweave.detect import detect_language, detect_published, normalise_language
from storyweave.ingest import read_paths
from storyweave.records import DatePrecision, PublishedDate, RawDoc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def samples() -> list[RawDoc]:
    return [clean(doc) for doc in read_paths([EXAMPLES]) if isinstance(doc, RawDoc)]


# --- language ----------------------------------------------------------------------------------


def test_sample_languages(samples: list[RawDoc]) -> None:
    found = [detect_language(f"{doc.title}\n{doc.text}", doc.language) for doc in samples]
    assert found == ["sq", "sq", "ar", "ms", "ar"]


def test_sample_headlines(samples: list[RawDoc]) -> None:
    assert [detect_language(doc.title) for doc in samples if doc.title] == ["ms", "ar"]


# One lead sentence per language, the same news in each: scripts and close relatives that trip
# identifiers (Dutch/Afrikaans, Serbian Cyrillic/Russian, Urdu/Persian/Arabic, Malay/Indonesian).
LEADS = {
    "en": "North Korean leader Kim Jong Un arrived in Russia on Tuesday for talks with President Vladimir Putin.",
    "fr": "Le dirigeant nord-coréen Kim Jong Un est arrivé mardi en Russie pour s'entretenir avec le président Vladimir Poutine.",
    "es": "El líder norcoreano Kim Jong Un llegó el martes a Rusia para reunirse con el presidente Vladimir Putin.",
    "pt": "O líder norte-coreano Kim Jong Un chegou na terça-feira à Rússia para conversar com o presidente Vladimir Putin.",
    "it": "Il leader nordcoreano Kim Jong Un è arrivato martedì in Russia per incontrare il presidente Vladimir Putin.",
    "de": "Der nordkoreanische Machthaber Kim Jong Un ist am Dienstag zu Gesprächen mit Präsident Wladimir Putin in Russland eingetroffen.",
    "nl": "De Noord-Koreaanse leider Kim Jong Un is dinsdag in Rusland aangekomen voor gesprekken met president Vladimir Poetin.",
    "pl": "Przywódca Korei Północnej Kim Dzong Un przybył we wtorek do Rosji na rozmowy z prezydentem Władimirem Putinem.",
    "ru": "Лидер КНДР Ким Чен Ын прибыл во вторник в Россию для переговоров с президентом Владимиром Путиным.",
    "uk": "Лідер КНДР Кім Чен Ин прибув у вівторок до Росії для переговорів із президентом Володимиром Путіним.",
    "sr": "Лидер Северне Кореје Ким Џонг Ун стигао је у уторак у Русију на разговоре са председником Владимиром Путином.",
    "tr": "Kuzey Kore lideri Kim Jong Un, Devlet Başkanı Vladimir Putin ile görüşmek için salı günü Rusya'ya geldi.",
    "el": "Ο ηγέτης της Βόρειας Κορέας Κιμ Γιονγκ Ουν έφτασε την Τρίτη στη Ρωσία για συνομιλίες με τον πρόεδρο Βλαντιμίρ Πούτιν.",
    "ar": "وصل زعيم كوريا الشمالية كيم جونغ أون إلى روسيا يوم الثلاثاء لإجراء محادثات مع الرئيس فلاديمير بوتين.",
    "fa": "کیم جونگ اون، رهبر کره شمالی، روز سه‌شنبه برای گفتگو با ولادیمیر پوتین، رئیس جمهور، وارد روسیه شد.",
    "ur": "شمالی کوریا کے رہنما کم جونگ ان صدر ولادیمیر پوتن کے ساتھ بات چیت کے لیے منگل کو روس پہنچ گئے۔",
    "he": "מנהיג צפון קוריאה קים ג'ונג און הגיע ביום שלישי לרוסיה לשיחות עם הנשיא ולדימיר פוטין.",
    "hi": "उत्तर कोरिया के नेता किम जोंग उन राष्ट्रपति व्लादिमीर पुतिन के साथ बातचीत के लिए मंगलवार को रूस पहुंचे।",
    "bn": "উত্তর কোরিয়ার নেতা কিম জং উন প্রেসিডেন্ট ভ্লাদিমির পুতিনের সঙ্গে আলোচনার জন্য মঙ্গলবার রাশিয়ায় পৌঁছেছেন।",
    "zh": "朝鲜领导人金正恩周二抵达俄罗斯，与俄罗斯总统普京举行会谈。",
    "ja": "北朝鮮の金正恩総書記は火曜日、プーチン大統領との会談のためロシアに到着した。",
    "ko": "김정은 북한 국무위원장이 블라디미르 푸틴 대통령과의 회담을 위해 화요일 러시아에 도착했다.",
    "vi": "Nhà lãnh đạo Triều Tiên Kim Jong Un đã đến Nga hôm thứ Ba để hội đàm với Tổng thống Vladimir Putin.",
    "th": "คิม จอง อึน ผู้นำเกาหลีเหนือ เดินทางถึงรัสเซียเมื่อวันอังคาร เพื่อหารือกับประธานาธิบดีวลาดิมีร์ ปูติน",
    "id": "Pemimpin Korea Utara Kim Jong Un tiba di Rusia pada hari Selasa untuk melakukan pembicaraan dengan Presiden Vladimir Putin.",
    "sw": "Kiongozi wa Korea Kaskazini Kim Jong Un aliwasili nchini Urusi siku ya Jumanne kwa mazungumzo na Rais Vladimir Putin.",
    "sv": "Nordkoreas ledare Kim Jong Un anlände på tisdagen till Ryssland för samtal med president Vladimir Putin.",
    "hu": "Kim Dzsong Un észak-koreai vezető kedden Oroszországba érkezett, hogy tárgyaljon Vlagyimir Putyin elnökkel.",
    "ro": "Liderul nord-coreean Kim Jong Un a sosit marți în Rusia pentru discuții cu președintele Vladimir Putin.",
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(LEADS))
def test_lead_sentences(code: str) -> None:
    assert detect_language(LEADS[code]) == code


@pytest.mark.parametrize(
    ("headline", "code"),
    [
        ("Kim Jong Un takon Putin në kozmodromin Vostochny", "sq"),
        ("Putin pranon ftesën për të vizituar Korenë e Veriut", "sq"),
        ("Kim Jong Un arrive en Russie pour rencontrer Poutine", "fr"),
        ("Kim Jong Un arriva in Russia per incontrare Putin", "it"),  # CLD2's best effort: Interlingua
        ("Ким Чен Ын прибыл в Россию", "ru"),
        ("קים ג'ונג און הגיע לרוסיה", "he"),  # CLD2's best effort: Yiddish
        ("金正恩抵達俄羅斯與普京會面", "zh"),  # CLD2's zh-Hant
        ("Kim Jong Un anlände till Ryssland", "sv"),
    ],
)
def test_headlines(headline: str, code: str) -> None:
    assert detect_language(headline) == code


def test_declared_language_settles_what_detection_cannot() -> None:
    shared = "Kim Jong Un tiba di Rusia untuk bertemu Putin"  # Malay and Indonesian alike
    assert detect_language(shared, "ms") == "ms"
    assert detect_language(shared, "id-ID") == "id"
    assert detect_language("Kim Jong Un dorazil do Ruska", "cs") == "cs"


def test_declared_language_is_not_taken_blindly() -> None:
    assert detect_language(LEADS["ar"], "en") == "ar"
    assert detect_language("لقاء كيم وبوتين يقلق 3 دول", "en") == "ar"
    assert detect_language(LEADS["de"], "fr") == "de"


def test_a_lone_surrogate_does_not_hide_the_language() -> None:
    # Decoded with errors="surrogateescape", broken bytes become lone surrogates, which UTF-8
    # (what CLD2 reads) cannot encode.
    assert detect_language(LEADS["de"] + "\udcff\ud800") == "de"


def test_nothing_to_detect() -> None:
    assert detect_language("") == "und"
    assert detect_language("2023-09-13 12:00 — 3/4") == "und"
    assert detect_language("12 345", "fr") == "fr"


@pytest.mark.parametrize(
    ("declared", "code"),
    [("ar-EG", "ar"), ("AR", "ar"), ("ara", "ar"), ("Arabic", "ar"), ("en_US", "en"), ("zh-Hant-TW", "zh"),
     ("iw", "he"), ("jw", "jv"), ("tl", "tl"), ("ceb", "ceb"), ("xx-Arab", ""), ("und", ""), ("", ""), ("??", "")],
)  # fmt: skip
def test_normalise_language(declared: str, code: str) -> None:
    assert normalise_language(declared) == code


# --- publication date --------------------------------------------------------------------------


def doc(text: str = "Kim met Putin in Vostochny.", **fields: object) -> RawDoc:
    return RawDoc(origin="test", text=text, **fields)  # type: ignore[arg-type]


def test_sample_dates(samples: list[RawDoc]) -> None:
    dates = [detect_published(doc) for doc in samples]
    assert dates[:2] == [PublishedDate(dt.date(2023, 9, 1), DatePrecision.MONTH, "header")] * 2
    assert [str(date) for date in dates] == ["2023-09", "2023-09", "unknown", "unknown", "unknown"]
    assert all(date.origin == "" for date in dates[2:])


@pytest.mark.parametrize(
    ("written", "expected", "precision"),
    [
        ("2023-09-13T23:30:00-05:00", dt.date(2023, 9, 13), DatePrecision.DAY),  # the publisher's date
        ("2023-09-13T10:00:00Z", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("Wed, 13 Sep 2023 10:00:00 +0000", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("2023-09", dt.date(2023, 9, 1), DatePrecision.MONTH),
        ("September 2023", dt.date(2023, 9, 1), DatePrecision.MONTH),
        ("2023", dt.date(2023, 1, 1), DatePrecision.YEAR),
        ("13 سبتمبر 2023", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("١٣ سبتمبر ٢٠٢٣", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("13 shtator 2023", dt.date(2023, 9, 13), DatePrecision.DAY),
    ],
)
def test_metadata_dates_keep_their_precision(written: str, expected: dt.date, precision: DatePrecision) -> None:
    assert detect_published(doc(published=written)) == PublishedDate(expected, precision, "metadata")


@pytest.mark.parametrize("written", ["today", "3 days ago", "Wednesday", "Sept. 13", "13/09", "n/a", "0"])
def test_dates_are_never_invented(written: str) -> None:
    assert detect_published(doc(published=written)) == PublishedDate()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13 سبتمبر 2023 - التقى كيم جونغ أون الرئيس الروسي.", "2023-09-13"),
        ("PARIS, 13 septembre 2023 (AFP) – Kim Jong Un a rencontré Vladimir Poutine.", "2023-09-13"),
        ("SEOUL, Sept. 13, 2023 — Kim met Putin at the cosmodrome.", "2023-09-13"),
        ("WASHINGTON, Sept. 13 (Reuters) - Kim met Putin.", "unknown"),  # no year anywhere
        ("(سيئول) – وافق الرئيس الروسي على التوجه إلى كوريا الشمالية.", "unknown"),
        ("In 2023 – the year of the summit – Kim travelled by train.", "unknown"),  # not a dateline
        ("Kim met Putin on 13 September 2023 - the first summit in four years.", "unknown"),  # a sentence
    ],
)
def test_datelines(text: str, expected: str) -> None:
    found = detect_published(doc(text))
    assert str(found) == expected
    assert found.origin == ("dateline" if found.value else "")


@pytest.mark.parametrize(
    ("url", "expected", "precision"),
    [
        ("https://example.com/world/2023/09/13/kim-putin", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("https://example.com/2023-09-13-kim-putin.html", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("https://example.com/news/20230913/kim", dt.date(2023, 9, 13), DatePrecision.DAY),
        ("https://example.com/2023/09/kim-putin", dt.date(2023, 9, 1), DatePrecision.MONTH),
    ],
)
def test_url_dates(url: str, expected: dt.date, precision: DatePrecision) -> None:
    assert detect_published(doc(url=url)) == PublishedDate(expected, precision, "url")


@pytest.mark.parametrize(
    "url", ["https://x.com/2023/10-things-to-know", "https://x.com/a/7265123.html", "https://x.com/2023/13/45/x"]
)
def test_url_without_a_date(url: str) -> None:
    assert detect_published(doc(url=url)) == PublishedDate()


def test_a_yearless_dateline_takes_its_year_from_other_evidence() -> None:
    dateline = "WASHINGTON, Sept. 13 (Reuters) - Kim met Putin."
    found = detect_published(doc(dateline, published="2023-09", extra={"published_origin": "header"}))
    assert found == PublishedDate(dt.date(2023, 9, 13), DatePrecision.DAY, "dateline")


def test_a_date_after_the_article_was_read_is_set_aside() -> None:
    read_on = dt.date(2026, 12, 5)
    typo = doc(published="2099-01-05")
    assert detect_published(typo) == PublishedDate(dt.date(2099, 1, 5), DatePrecision.DAY, "metadata")
    assert detect_published(typo, read_on=read_on) == PublishedDate()
    # Other evidence still counts, and a day of slack covers time zones.
    with_url = doc(published="2099-01-05", url="https://example.org/2026/12/04/summit")
    assert detect_published(with_url, read_on=read_on) == PublishedDate(dt.date(2026, 12, 4), DatePrecision.DAY, "url")
    tomorrow = doc(published="2026-12-06")
    assert detect_published(tomorrow, read_on=read_on).value == dt.date(2026, 12, 6)


def test_less_trusted_evidence_only_adds_precision_it_agrees_with() -> None:
    refined = detect_published(doc(published="2023-09", url="https://example.com/2023/09/13/kim"))
    assert refined == PublishedDate(dt.date(2023, 9, 13), DatePrecision.DAY, "url")
    conflicting = detect_published(doc(published="2023-08", url="https://example.com/2023/09/13/kim"))
    assert conflicting == PublishedDate(dt.date(2023, 8, 1), DatePrecision.MONTH, "metadata")


def test_unparsable_metadata_falls_back_to_other_evidence() -> None:
    found = detect_published(doc(published="recently", url="https://example.com/2023/09/13/kim"))
    assert found.origin == "url" and str(found) == "2023-09-13"


def test_origins_set_by_other_loaders() -> None:
    assert detect_published(doc(published="2023-09-13", extra={"published_origin": "feed"})).origin == "feed"
    folder = detect_published(doc(extra={"folder_date": "2023-09-14"}))
    assert folder == PublishedDate(dt.date(2023, 9, 14), DatePrecision.DAY, "folder")
