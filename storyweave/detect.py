"""The detect stage: the language an article is written in, and when it was published.

Language: CLD2 (165 languages, pycld2) decides when it is sure; when it abstains or is unsure (short
texts, headlines), py3langid gives a second opinion, and a declared language (HTML ``lang``, a JSON
field) settles what the two leave open, provided the text does not contradict it. Codes come out as
ISO 639-1 where one exists, ISO 639-3 otherwise (``ceb``, ``haw``), ``und`` when nothing can be said.

Publication date: from the source's metadata (or the dump's ``date`` header), a dated dateline at the
head of the body, a date in the URL path, or a collector's folder date, in that order of trust. A
date is never invented: what the evidence does not say (the day of "2023-09", the year of "Sept. 13")
stays unsaid, through :class:`~storyweave.records.DatePrecision`, unless other evidence supplies it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Any

import pycld2
from babel import Locale
from babel.core import get_global
from dateparser.data import languages_info
from dateparser.date import DateDataParser
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .records import DatePrecision, PublishedDate, RawDoc

__all__ = ["detect_language", "detect_published", "normalise_language"]

UNDETERMINED = "und"

# ---------------------------------------------------------------------------------------------
# Language

# The identifiers see at most this much of an article: its language is settled by the first
# paragraphs, and both identifiers cost time linear in their input.
LANGUAGE_SAMPLE_CHARS = 4000

# Under this many characters (a headline, a lead sentence) CLD2's "reliable" is not to be trusted
# alone: it reads a 118-character Dutch sentence as Afrikaans, reliably. py3langid is consulted there,
# as it is wherever CLD2 is unsure; from a paragraph up CLD2 decides by itself.
SHORT_TEXT_CHARS = 200

# py3langid's (length-calibrated) probability above which it overrules a CLD2 that says it is sure,
# on a short text. Measured on headlines and lead sentences: right answers score 0.9-1.0 where the
# language is distinctive (French 0.96, Russian 0.94, Hebrew 0.996, Dutch 0.84 where CLD2 says
# Afrikaans); close relatives split the mass (Malay 0.50 against Indonesian 0.50).
LANGID_ALONE_PROBABILITY = 0.7

# Where CLD2 is unsure, py3langid's answer is preferred to CLD2's best-effort guess from this
# probability on: on headlines the guess is often a rare or constructed language (Interlingua for
# an Italian headline py3langid gives 0.68 to Italian, Yiddish for Hebrew), while py3langid's
# answers above one half were right on every headline we tried.
LANGID_MIN_PROBABILITY = 0.5

# The probability py3langid must give a declared language for the hint to be taken: enough to
# show the text is compatible with it (Indonesian 0.46 on a Malay headline), far above what a
# wrong declaration gets (an "en" page in Arabic script scores ~1e-9).
HINT_MIN_PROBABILITY = 0.05

# Where CLD2 is sure but the declaration differs, the declaration stands if py3langid gives it at
# least this share of the detected language's probability: the two are then indistinguishable on
# this text (Malay 0.46 against Indonesian 0.52 on a shared headline), while a wrong declaration
# scores orders of magnitude below.
HINT_CLOSE_RATIO = 0.5

# py3langid labels folded into the written standard CLD2 reports: its dialect and historic classes
# (Moroccan and Egyptian Arabic, Wu and Cantonese, Biblical Hebrew, Paraguayan Guarani, Southern
# Uzbek) take a large share of the probability of ordinary news text in the standard language;
# "zxx" is its "no linguistic content".
LANGID_FOLDS = {
    "ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "hbo": "he", "gug": "gn", "uzs": "uz",
    "zxx": UNDETERMINED,
}  # fmt: skip

# CLD2 labels that name a script or a test language, not a language.
_CLD2_NOT_LANGUAGES = re.compile(r"^(?:un|xxx|xx-\w+|zz\w*|tlh)$")

# Deprecated and ISO 639-2/3 codes to their ISO 639-1 form (CLDR's aliases: iw->he, jw->jv,
# eng->en, ara->ar, zsm->ms, ...); only aliases that lead to a two-letter code are taken, so that
# CLD2's "tl" stays Tagalog instead of becoming CLDR's "fil".
_ALIASES: dict[str, str] = {
    alias: target.split("_")[0]
    for alias, target in get_global("language_aliases").items()
    if len(target.split("_")[0]) == 2
}
_CODE = re.compile(r"^[a-z]{2,3}$")


def normalise_language(code: str) -> str:
    """A language code, tag or English name as a bare ISO 639-1 code (639-3 where there is none).

    ``"ar-EG"``, ``"AR"``, ``"ara"`` and ``"Arabic"`` all give ``"ar"``; ``"zh-Hant"`` gives ``"zh"``;
    CLD2's ``"iw"`` gives ``"he"``. Anything that is not a language gives ``""``.
    """
    value = code.strip()
    if not value:
        return ""
    primary = value.replace("_", "-").split("-")[0].lower()
    if _CLD2_NOT_LANGUAGES.match(value) or primary in ("und", "mul", "zxx", "xx"):
        return ""
    primary = _ALIASES.get(primary, primary)
    if _CODE.match(primary):
        return primary
    return _language_names().get(value.casefold(), "")


@functools.cache
def _language_names() -> dict[str, str]:
    names = {name.casefold(): code for code, name in Locale("en").languages.items() if "_" not in code}
    names.update((name.casefold(), normalise_language(code)) for name, code in pycld2.LANGUAGES)
    return {name: code for name, code in names.items() if code}


@functools.cache
def _langid() -> Any:
    # The normalised model gives probabilities, which the thresholds above are calibrated on.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, declared: str = "") -> str:
    """The language of ``text``; ``declared`` is a hint taken only where detection is unsure."""
    hint = normalise_language(declared)
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return hint or UNDETERMINED
    reliable, guess = _cld2(sample)
    reliable = reliable and bool(guess)
    short = len(sample.strip()) < SHORT_TEXT_CHARS
    if reliable and (hint == guess or (not hint and not short)):
        return guess
    ranked = _langid_ranking(sample)
    top, probability = next(iter(ranked.items()), (UNDETERMINED, 0.0))
    if reliable:
        if hint and ranked.get(hint, 0.0) >= HINT_CLOSE_RATIO * ranked.get(guess, 0.0):
            return hint  # py3langid cannot tell the declared language from CLD2's on this text
        if short and top not in (guess, UNDETERMINED) and probability >= LANGID_ALONE_PROBABILITY:
            return top  # CLD2 can be sure and wrong on a line (Dutch taken for Afrikaans)
        return guess
    if guess and guess == top:
        return guess  # two independent identifiers agree
    if hint and (hint == guess or ranked.get(hint, 0.0) >= HINT_MIN_PROBABILITY):
        return hint
    if probability >= LANGID_MIN_PROBABILITY and top != UNDETERMINED:
        return top
    return guess or UNDETERMINED


_SURROGATE = re.compile("[\ud800-\udfff]")


def _cld2(sample: str) -> tuple[bool, str]:
    """(reliable, best guess) from CLD2; the guess is "" when CLD2 has none even at best effort."""
    clean = _SURROGATE.sub("", sample)  # CLD2 takes UTF-8, which has no lone surrogates
    try:
        reliable, _, details = pycld2.detect(clean, isPlainText=True)
        if not reliable:
            _, _, details = pycld2.detect(clean, isPlainText=True, bestEffort=True)
    except pycld2.error:
        return False, ""
    return reliable, normalise_language(details[0][1]) if details else ""


def _langid_ranking(sample: str) -> dict[str, float]:
    """py3langid's probabilities by normalised code, best first, folded labels merged."""
    merged: dict[str, float] = {}
    for label, probability in _langid().rank(sample):
        code = LANGID_FOLDS.get(label, label)
        merged[code] = merged.get(code, 0.0) + float(probability)
    return dict(sorted(merged.items(), key=lambda item: item[1], reverse=True))


# ---------------------------------------------------------------------------------------------
# Publication date

_RANK = {DatePrecision.UNKNOWN: 0, DatePrecision.YEAR: 1, DatePrecision.MONTH: 2, DatePrecision.DAY: 3}

# dateparser, told never to guess: only absolute dates in a known format or language (no "today",
# "3 days ago" or bare weekday, which it would resolve against the clock), a year required, a
# missing day read as the first of the month, and the precision reported as a period. dateparser
# still reads "Sept. 13" as September 2013, so a parsed year must also appear written out in full.
DATEPARSER_SETTINGS: dict[str, Any] = {
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["year"],
    "PREFER_DAY_OF_MONTH": "first",
    "RETURN_TIME_AS_PERIOD": True,
}
_PERIODS = {
    "time": DatePrecision.DAY, "day": DatePrecision.DAY, "month": DatePrecision.MONTH, "year": DatePrecision.YEAR,
}  # fmt: skip

# ISO 8601 as metadata writes it: "2023", "2023-09", "2023-09-13", "2023-09-13T10:00:00+02:00".
# The date part is taken as written: the time zone changes the instant, not the publisher's date.
ISO_DATE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:[T ].*)?)?)?$")

# A dateline: the head of the body's first line, before the dash that opens the story
# ("WASHINGTON, Sept. 13 (Reuters) -", "13 سبتمبر 2023 -", "PARIS, 13 septembre 2023 (AFP) –").
# 80 characters hold a place, a date and an agency; a dash further on is inside a sentence.
DATELINE = re.compile(r"\A\s*(?P<head>[^\n]{1,80}?)\s+[-–—―]{1,2}\s")
_PARENTHESISED = re.compile(r"\([^)]*\)")

# A page cannot be published after it was read; a day of slack covers time zones (a page dated
# tomorrow where it was written). A later date is a typo or a misread field, and believing it would
# do harm beyond the article: the clusterer measures activity from the newest date it has seen,
# so one article dated 2099 would retire every active story.
PUBLISHED_AFTER_READ_DAYS = 1

# A date in a URL path: /2023/09/13/, /2023-09-13-slug, /20230913/ (day); /2023/09/ (month).
# A bare month must be a whole path segment: "/2023/10-things" is a list, not October.
URL_DAY = re.compile(
    r"/(?P<y>(?:19|20)\d{2})(?P<sep>[/-]?)(?P<m>0[1-9]|1[0-2])(?P=sep)(?P<d>0[1-9]|[12]\d|3[01])(?=[/._-]|$)"
)
URL_MONTH = re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>0?[1-9]|1[0-2])(?=/|$)")


def detect_published(doc: RawDoc, read_on: dt.date | None = None) -> PublishedDate:
    """The publication date the evidence supports, with its precision and origin.

    The most trusted evidence wins; less trusted evidence only adds precision it agrees with (a
    ``2023-09`` header and a ``Sept. 13`` dateline give 2023-09-13, origin "dateline"). Evidence
    dated more than :data:`PUBLISHED_AFTER_READ_DAYS` after *read_on* (the day the article was
    read) is not credible and is set aside.
    """
    latest = None if read_on is None else read_on + dt.timedelta(days=PUBLISHED_AFTER_READ_DAYS)

    def credible(date: PublishedDate) -> bool:
        return date.value is not None and (latest is None or date.value <= latest)

    languages = _dateparser_languages(doc)
    found: list[PublishedDate] = []
    if doc.published:
        origin = doc.extra.get("published_origin") or "metadata"
        found.append(_parse(doc.published, origin, languages, any_language=True))
    found.append(_url_date(doc.url))
    if doc.extra.get("folder_date"):
        found.append(_parse(doc.extra["folder_date"], "folder", languages, any_language=True))
    context_year = next((d.value.year for d in found if d.value is not None and credible(d)), None)
    found.insert(1, _dateline(doc.text, languages, context_year))
    evidence = [d for d in found if credible(d)]
    if not evidence:
        return PublishedDate()
    best = evidence[0]
    for other in evidence[1:]:
        if _RANK[other.precision] > _RANK[best.precision] and _agrees(other, best):
            best = other
    return best


def _agrees(finer: PublishedDate, coarser: PublishedDate) -> bool:
    assert finer.value is not None and coarser.value is not None
    if finer.value.year != coarser.value.year:
        return False
    return coarser.precision is DatePrecision.YEAR or finer.value.month == coarser.value.month


def _parse(written: str, origin: str, languages: tuple[str, ...], any_language: bool = False) -> PublishedDate:
    """A date as a source wrote it, at the precision it was written with.

    ``languages`` are tried first; with ``any_language`` (for fields that hold nothing but a date)
    dateparser then tries all it knows: metadata need not be in the article's language.
    """
    text = _ascii_digits(" ".join(written.split()))
    iso = ISO_DATE.match(text)
    if iso is not None:
        month, day = iso.group("m"), iso.group("d")
        precision = DatePrecision.DAY if day else DatePrecision.MONTH if month else DatePrecision.YEAR
        return _dated(int(iso.group("y")), int(month or 1), int(day or 1), precision, origin)
    parsed = _dateparser(languages).get_date_data(text)
    if parsed.date_obj is None and any_language and languages:
        parsed = _dateparser(()).get_date_data(text)
    period = _PERIODS.get(parsed.period or "")
    if parsed.date_obj is None or period is None:
        return PublishedDate()
    year = parsed.date_obj.year
    if not re.search(rf"(?<!\d){year}(?!\d)", text):
        return PublishedDate()  # the year was not written: dateparser made it up
    return _dated(year, parsed.date_obj.month, parsed.date_obj.day, period, origin)


def _dated(year: int, month: int, day: int, precision: DatePrecision, origin: str) -> PublishedDate:
    if precision is not DatePrecision.DAY:
        day = 1
    if precision is DatePrecision.YEAR:
        month = 1
    try:
        return PublishedDate(dt.date(year, month, day), precision, origin)
    except ValueError:
        return PublishedDate()


def _dateline(text: str, languages: tuple[str, ...], context_year: int | None) -> PublishedDate:
    """A dated dateline at the head of the body, at month precision or better.

    A dateline without a year ("Sept. 13") is completed only with the year other evidence gives,
    and then must name its day.
    """
    match = DATELINE.match(text)
    if match is None:
        return PublishedDate()
    head = _PARENTHESISED.sub(" ", match.group("head"))
    parts = [part.strip() for part in head.split(",")]
    for start in range(len(parts)):
        candidate = ", ".join(parts[start:])
        if not any(ch.isdigit() for ch in candidate):
            continue
        found = _parse(candidate, "dateline", languages)
        if found.value is None and context_year is not None:
            found = _parse(f"{candidate} {context_year}", "dateline", languages)
            if found.precision is not DatePrecision.DAY:
                continue
        if _RANK[found.precision] >= _RANK[DatePrecision.MONTH]:
            return found
    return PublishedDate()


def _url_date(url: str) -> PublishedDate:
    path = url.split("?", 1)[0].split("#", 1)[0]
    if (day := URL_DAY.search(path)) is not None:
        return _dated(int(day["y"]), int(day["m"]), int(day["d"]), DatePrecision.DAY, "url")
    if (month := URL_MONTH.search(path)) is not None:
        return _dated(int(month["y"]), int(month["m"]), 1, DatePrecision.MONTH, "url")
    return PublishedDate()


def _dateparser_languages(doc: RawDoc) -> tuple[str, ...]:
    """The article's language (declared, else detected) and English, as dateparser knows them.

    Naming the languages keeps dateparser from trying all 200 of its locales on every string
    (seconds per miss) and from reading a word of one language as a month name of another.
    """
    language = normalise_language(doc.language) or detect_language(f"{doc.title}\n{doc.text}")
    return tuple(dict.fromkeys(code for code in (language, "en") if code in _DATEPARSER_LANGUAGES))


_DATEPARSER_LANGUAGES = frozenset(languages_info.language_order)


@functools.cache
def _dateparser(languages: tuple[str, ...]) -> DateDataParser:
    return DateDataParser(languages=list(languages) or None, settings=DATEPARSER_SETTINGS)


def _ascii_digits(text: str) -> str:
    # Arabic-Indic, Persian, Devanagari ... digits as ASCII, so that years can be checked and read.
    return re.sub(r"\d", lambda digit: str(unicodedata.digit(digit.group())), text)
