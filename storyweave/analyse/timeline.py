"""The timeline stage: what happened when, dated as precisely as the texts allow and no more.

An event is a sentence that carries a date expression, cited by its span in the article body. The
expressions are found with CLDR's month and weekday names for the article's language (every
regional locale of it, so Levantine ``أيلول`` and Maghrebi ``شتنبر`` come with Arabic), numbers, and
small hand lists for what CLDR does not give: relative words (yesterday, ``dje``, ``أمس``), "last
week"-style phrases, the words that lead or modify a weekday (``pada hari``, ``الماضي``), Albanian
inflected weekdays (``të hënën``) and the cues that tell future from past.

Relative expressions are resolved against the publication date. Where that date is a period (an
Albanian ``2023-09``) or unknown (then the story's publication period stands in), every day of the
period is tried as the publication date: an expression that resolves to the same date for all of
them is certain; one that does not gets the month (or year) most of its readings fall in, marked
``uncertain``. A precise date is never guessed. One kind of evidence narrows the period: a date
range written in another article of the story ("10 hingga 13 September"). If every weekday an
article names can fall inside that range (or the day after it, when reports of it appear), and
for one set of publication days only, the weekdays resolve inside it.

Events from different articles on the same date that share names (cross-script keys from
:mod:`storyweave.names`) or words are merged into one event with several citations.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from babel.localedata import Alias, load, locale_identifiers

from storyweave.analyse.sentences import sentence_spans
from storyweave.names import find_names, is_distinctive, key_matches
from storyweave.records import Article, Citation, DatePrecision, PublishedDate, TimelineEvent

__all__ = ["build_timeline", "extract_events"]

# --- Hand lists: what CLDR does not give --------------------------------------------------------
# Languages with lists here resolve tense and relative words; any other language still gets CLDR
# month and weekday names, with weekdays read in both directions (so never dated to the day).

# Relative day words and their offset from the publication day. Ambiguous words are left out:
# Spanish "mañana" is also "morning", German "Morgen" too, Arabic "اليوم" is also "the day"
# ("في اليوم نفسه"), Malay "kelmarin" is yesterday in some regions and the day before in others.
RELATIVE_DAYS: dict[str, tuple[tuple[str, int], ...]] = {
    "en": (("the day before yesterday", -2), ("yesterday", -1), ("today", 0), ("tomorrow", 1)),
    "es": (("anteayer", -2), ("antes de ayer", -2), ("ayer", -1), ("hoy", 0)),
    "fr": (("avant-hier", -2), ("hier", -1), ("aujourd'hui", 0), ("aujourd’hui", 0), ("après-demain", 2),
           ("demain", 1)),
    "it": (("l'altro ieri", -2), ("l’altro ieri", -2), ("altroieri", -2), ("ieri", -1), ("oggi", 0),
           ("dopodomani", 2), ("domani", 1)),
    "pt": (("anteontem", -2), ("ontem", -1), ("hoje", 0), ("amanhã", 1)),
    "de": (("vorgestern", -2), ("gestern", -1), ("heute", 0), ("übermorgen", 2)),
    "sq": (("pardje", -2), ("dje", -1), ("sot", 0), ("pasnesër", 2), ("nesër", 1)),
    "ms": (("semalam", -1), ("hari ini", 0), ("esok", 1), ("lusa", 2)),
    "id": (("kemarin", -1), ("hari ini", 0), ("besok", 1), ("lusa", 2)),
    "ar": (("أول أمس", -2), ("أول من أمس", -2), ("أمس", -1), ("الأمس", -1), ("البارحة", -1), ("بعد غد", 2),
           ("غدا", 1), ("غداً", 1)),
}  # fmt: skip

# Words for week, month and year, as they stand in "last week", "bulan ini", "الشهر الماضي".
UNIT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"week": ("week",), "month": ("month",), "year": ("year",)},
    "es": {"week": ("semana",), "month": ("mes",), "year": ("año",)},
    "fr": {"week": ("semaine",), "month": ("mois",), "year": ("année", "an")},
    "it": {"week": ("settimana",), "month": ("mese",), "year": ("anno",)},
    "pt": {"week": ("semana",), "month": ("mês",), "year": ("ano",)},
    "de": {"week": ("woche",), "month": ("monat",), "year": ("jahr",)},
    "sq": {"week": ("javën", "java"), "month": ("muajin", "muaji", "muaj"), "year": ("vitin", "viti")},
    "ms": {"week": ("minggu",), "month": ("bulan",), "year": ("tahun",)},
    "id": {"week": ("minggu", "pekan"), "month": ("bulan",), "year": ("tahun",)},
    "ar": {"week": ("الأسبوع",), "month": ("الشهر",), "year": ("العام", "السنة")},
}

# Modifiers of a weekday or a unit and the direction they give, by the side of it they stand on:
# "last week", "la semana pasada", "la próxima semana", "الأسبوع الماضي", "bulan ini". Only the
# usual side is listed: French "la dernière semaine de janvier" is a final week, not last week,
# and English "the past year" is the last twelve months.
MODIFIERS_BEFORE: dict[str, dict[str, str]] = {
    "en": {"last": "past", "next": "future", "this": "this"},
    "es": {"pasado": "past", "pasada": "past", "próximo": "future", "próxima": "future", "este": "this",
           "esta": "this"},
    "fr": {"prochain": "future", "prochaine": "future", "ce": "this", "cette": "this"},
    "it": {"scorso": "past", "scorsa": "past", "prossimo": "future", "prossima": "future", "questo": "this",
           "questa": "this"},
    "pt": {"passado": "past", "passada": "past", "próximo": "future", "próxima": "future", "este": "this",
           "esta": "this"},
    "de": {"letzte": "past", "letzten": "past", "letztes": "past", "vergangene": "past", "vergangenen": "past",
           "nächste": "future", "nächsten": "future", "nächstes": "future", "diese": "this", "diesen": "this",
           "dieses": "this"},
    "sq": {"këtë": "this"},
    "ar": {"هذا": "this", "هذه": "this"},
}  # fmt: skip
MODIFIERS_AFTER: dict[str, dict[str, str]] = {
    "es": {"pasado": "past", "pasada": "past", "próximo": "future", "próxima": "future", "que viene": "future"},
    "fr": {"dernier": "past", "dernière": "past", "passé": "past", "passée": "past", "prochain": "future",
           "prochaine": "future"},
    "it": {"scorso": "past", "scorsa": "past", "prossimo": "future", "prossima": "future"},
    "pt": {"passado": "past", "passada": "past", "que vem": "future"},
    "sq": {"e kaluar": "past", "të kaluar": "past", "e shkuar": "past", "të shkuar": "past", "e ardhshme": "future",
           "të ardhshme": "future", "e ardhshëm": "future", "të ardhshëm": "future"},
    "ms": {"lalu": "past", "lepas": "past", "depan": "future", "hadapan": "future", "ini": "this"},
    "id": {"lalu": "past", "depan": "future", "ini": "this"},
    "ar": {"الماضي": "past", "الماضية": "past", "المنصرم": "past", "المقبل": "future", "المقبلة": "future",
           "القادم": "future", "القادمة": "future", "الجاري": "this", "الحالي": "this"},
}  # fmt: skip

# Words that lead a weekday and belong to the expression ("on Wednesday", "pada hari Isnin").
WEEKDAY_LEADS: dict[str, tuple[str, ...]] = {
    "en": ("on",), "es": ("el",), "fr": ("le",), "it": ("il",), "pt": ("na", "no"), "de": ("am",),
    "sq": ("ditën e", "mbrëmjen e", "mëngjesin e", "natën e"), "ms": ("pada hari", "hari"),
    "id": ("pada hari", "hari"),
    "ar": ("يوم", "ليلة", "مساء", "صباح", "فجر"),
}  # fmt: skip

# Albanian writes weekdays with a case article and ending: CLDR's "e hënë" is "të hënën" (on
# Monday), "së dielës" (of Sunday), "e marta" (the Tuesday). CLDR names that start with one of
# these articles match with any of them; the stem may lose its final vowel and take an ending.
WEEKDAY_ARTICLES: dict[str, tuple[str, ...]] = {"sq": ("të", "e", "së")}
WEEKDAY_ENDINGS: dict[str, tuple[str, ...]] = {"sq": ("ën", "ës", "ja", "a", "n", "s")}
WEEKDAY_STEM_VOWELS: dict[str, str] = {"sq": "ëe"}

# Words before a bare year that make it a date ("in 2019", "عام 2019"), not a quantity.
YEAR_CUES: dict[str, tuple[str, ...]] = {
    "en": ("in",), "es": ("en",), "fr": ("en",), "it": ("nel",), "pt": ("em",), "de": ("im jahr", "im"),
    "sq": ("në vitin", "në"), "ms": ("pada tahun", "tahun"), "id": ("pada tahun", "tahun"),
    "ar": ("عام", "في عام", "سنة", "العام"),
}  # fmt: skip

# Words between a day and its month or a month and its year ("13 de septiembre de 2023").
DATE_LINKS = ("de", "del", "di", "of", "من")
# Words between the two days of a range ("10 hingga 13 September", "del 10 al 13", "من 10 إلى 13").
# "and"-words are left out: "10 and 13 September" names two days, not the days between.
RANGE_LINKS = ("to", "until", "till", "through", "hingga", "sehingga", "sampai", "au", "al", "a", "bis", "até",
               "deri më", "deri në", "deri", "إلى", "الى", "حتى")  # fmt: skip

# Cues that the clause speaks of the future: auxiliaries, "scheduled", and in Romance languages
# the future endings (regular expressions: -rá/-rán, -rà/-ranno, -era/-ira; French irregular
# futures listed, since a bare -ra would take "Sahara" and "extra"; Portuguese -rão needs two
# letters before it, or "Irão", Iran, would be a future).
FUTURE_CUES: dict[str, tuple[str, ...]] = {
    "en": (r"will", r"\w+'ll", r"\w+’ll", r"shall", r"(?:is|are|was|were) (?:due|set|expected|scheduled) to",
           r"scheduled", r"plans? to", r"going to"),
    "es": (r"\w+rán?", r"va a", r"van a", r"está previst[oa]", r"tendrá lugar"),
    "fr": (r"\w+(?:era|eront|ira|iront)", r"(?:se|au|fe|pour|dev|viend|tiend|ver|ren|pren|atten|répond)ra",
           r"(?:se|au|fe|pour|dev|viend|tiend|ver|ren|pren|atten|répond)ront", r"faudra", r"va", r"vont", r"doit",
           r"doivent", r"prévue?s?"),
    "it": (r"\w+rà", r"\w+ranno", r"previst[oa]", r"dovrebbe"),
    "pt": (r"\w+rá", r"\w{2,}rão", r"vai", r"vão", r"previst[oa]"),
    "de": (r"wird", r"werden", r"soll", r"sollen"),
    "sq": (r"do të", r"do t['’]", r"pritet", r"planifikon"),
    "ms": (r"akan", r"bakal", r"dijadualkan", r"dijangka", r"merancang"),
    "id": (r"akan", r"bakal", r"dijadwalkan", r"direncanakan", r"berencana"),
    "ar": (r"سوف", r"من المقرر", r"من المتوقع", r"يعتزم", r"تعتزم"),
}  # fmt: skip
# Cues of speculation ("could", "mund të", "ربما"): the date is then never given to the day.
MODAL_CUES: dict[str, tuple[str, ...]] = {
    "en": (r"could", r"might", r"possibly", r"perhaps"), "es": (r"podría", r"podrían", r"quizás?", r"tal vez"),
    "fr": (r"pourrait", r"pourraient", r"peut-être"), "it": (r"potrebbe", r"potrebbero", r"forse"),
    "pt": (r"poderia", r"poderiam", r"talvez"), "de": (r"könnte", r"könnten", r"vielleicht"),
    "sq": (r"mund të", r"mund t['’]", r"ndoshta"), "ms": (r"mungkin", r"kemungkinan"), "id": (r"mungkin",),
    "ar": (r"ربما", r"من المحتمل", r"يحتمل"),
}  # fmt: skip
# Words that open a subordinate clause: a cue after one belongs to another verb ("reported on
# Monday that Kim plans to ...").
COMPLEMENTIZERS: dict[str, tuple[str, ...]] = {
    "en": ("that",), "es": ("que",), "fr": ("que", "qu'", "qu’"), "it": ("che",), "pt": ("que",), "de": ("dass",),
    "sq": ("se",), "ms": ("bahawa",), "id": ("bahwa",), "ar": ("أن", "بأن", "إن"),
}  # fmt: skip
# Punctuation that closes a clause, Arabic comma and semicolon included.
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]\"“”«»„—–،؛]")
# A clause with fewer words than this beside the date expression is a fronted adverbial ("On
# Wednesday, Kim will ..."): its tense is read from the clause after it.
CLAUSE_MIN_WORDS = 2

# --- Resolution constants -----------------------------------------------------------------------
# A date written without its year ("13 September") is taken in the latest year that puts it no
# more than this many days after the publication date (news reports the recent past, and
# announces the next few weeks); with a future cue, the earliest year no more than this before it.
YEARLESS_SLACK_DAYS = 31
# Where the readings of an uncertain expression span at most this many days, the month most of them
# fall in is given (a weekday read against a month-long period spans 36 days); up to a year and a
# bit, the year; beyond that the expression says nothing usable.
UNCERTAIN_MONTH_SPAN_DAYS = 45
UNCERTAIN_YEAR_SPAN_DAYS = 400
# A period longer than this (a story spread over years) is not tried day by day: relative
# expressions in an article dated no better than that stay unresolved.
MAX_REFERENCE_DAYS = 400
# Days after a range during which an article naming only days inside it (or this soon after) is
# taken to report on it: reports of a meeting appear the next day (KCNA on Thursday about
# Wednesday). Kept at one: with three, an article recounting a whole week fits too.
ANCHOR_REPORT_DAYS = 1
# Merging: events on the same date are one when their sentences share this many names, or this
# share (Jaccard) of their words of at least MIN_WORD_CHARS letters. Two names, because the
# protagonists of a story (Kim, Putin) appear in most of its sentences.
MIN_SHARED_NAMES = 2
MIN_WORD_OVERLAP = 0.3
MIN_WORD_CHARS = 4
# The last word of a multi-word name key stands for the name when it has this many letters (Putin
# for Vladimir Putin); shorter ones (the "n" of Kim Jong Un) are not a name alone.
SURNAME_MIN_LETTERS = 3

_RANK = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2, DatePrecision.UNKNOWN: 3}
Interval = tuple[dt.date, dt.date]


# --- Lexicon: patterns for one language ---------------------------------------------------------

_ALEF = "اأإآ"
# Code points below this are Latin (Basic Latin to Latin Extended-B, IPA after it).
LATIN_END = 0x250
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "\u00a0": " "})


def _fold(text: str) -> str:
    """Lookup form of a name: case-folded, Arabic alef/yeh/teh variants merged, dots and extra space gone."""
    return " ".join(text.casefold().translate(_ARABIC_FOLD).replace(".", "").split())


def _strip_accents(text: str) -> str:
    """"miercoles" for "miércoles", as people type; Latin script only (Cyrillic й is a letter)."""
    if any(ord(ch) >= LATIN_END for ch in text):
        return text
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def _form_pattern(form: str) -> str:
    """A regular expression for one written form: spaces as any space, Arabic letter variants alike."""
    out = []
    for ch in form:
        if ch in _ALEF:
            out.append(f"[{_ALEF}]")
        elif ch in "ةه":
            out.append("[ةه]")
        elif ch in "يى":
            out.append("[يى]")
        elif ch.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _alternation(forms: Iterable[str]) -> str:
    """Forms as one group, longest first so that "tetor" is not read as "tet"; never matches when empty."""
    unique = sorted({f for f in forms if f}, key=lambda f: (-len(f), f))
    return "(?:" + "|".join(_form_pattern(f) for f in unique) + ")" if unique else "(?!)"


@functools.cache
def _locales(language: str) -> tuple[str, ...]:
    """Every CLDR locale of a language (ar_SY, ar_MA ... for ar): regional month names come with them."""
    return tuple(sorted(i for i in locale_identifiers() if i.split("_")[0] == language))


def _resolved(data: Mapping[Any, Any], path: tuple[str, ...]) -> Mapping[Any, Any]:
    """The CLDR table at ``path`` in a locale's raw data, its aliases followed without writing.

    Babel's own accessors (``get_day_names`` and the like) store what an alias resolves to inside
    dictionaries that a script locale (ms_Arab) shares with the root locale, so that asking for
    ms_Arab's stand-alone weekdays turns every other language's into Jawi for the rest of the
    process (Babel 2.18). Reading the raw data this way leaves it as it is.
    """
    node: Any = data
    for key in path:
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
        if isinstance(node, Alias):
            node = node.resolve(data)
        elif isinstance(node, tuple):  # an alias with local overrides
            alias, overrides = node
            node = {**alias.resolve(data), **overrides}
    return node if isinstance(node, Mapping) else {}


def _cldr_names(language: str, table: str, widths: tuple[str, ...]) -> dict[str, int]:
    """Names by number (months 1-12, weekdays 0-6 from Monday) over the language's locales,
    the given widths and both contexts, unaccented forms too."""
    names: dict[str, int] = {}
    for locale in _locales(language):
        data = load(locale)
        for width in widths:
            for context in ("format", "stand-alone"):
                for number, name in _resolved(data, (table, context, width)).items():
                    if isinstance(name, str):
                        for form in {name, _strip_accents(name)}:
                            names.setdefault(form.strip().rstrip("."), number)
    return names


@dataclass(frozen=True, slots=True)
class _Lexicon:
    language: str
    months: dict[str, int]  # folded form -> 1..12
    weekdays: dict[str, int]  # folded stem -> 0 (Monday) .. 6
    lowercase_weekdays: bool  # CLDR writes weekdays in lower case: "Domingo" mid-sentence is a name
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    future: re.Pattern[str] | None
    modal: re.Pattern[str] | None
    complementizer: re.Pattern[str] | None


def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){pattern}(?!\w)", re.IGNORECASE)


def _cues(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for a list of cue patterns (whole words), None for none."""
    return _bounded("(?:" + "|".join(patterns) + ")") if patterns else None


@functools.cache
def _lexicon(language: str) -> _Lexicon:
    """Month and weekday names from CLDR (the language's locales, English months too) and the
    hand lists above, compiled into one pattern per kind of expression."""
    months = _cldr_names(language, "months", ("wide", "abbreviated"))
    for form, number in _cldr_names("en", "months", ("wide", "abbreviated")).items():
        months.setdefault(form, number)
    months = {form: n for form, n in months.items() if len(form) >= 3}  # "M." and the like are no names
    day_names = _cldr_names(language, "days", ("wide",))
    articles = WEEKDAY_ARTICLES.get(language, ())
    stems: dict[str, int] = {}
    vowels = WEEKDAY_STEM_VOWELS.get(language, "")
    for name, number in day_names.items():
        head, _, rest = name.partition(" ")
        stem = rest if rest and head in articles else name
        stems[stem] = number
        if vowels and stem[-1] in vowels:
            stems.setdefault(stem[:-1], number)  # "hënë" -> "hën" of "e hëna"
    endings = WEEKDAY_ENDINGS.get(language, ())
    lowercase = bool(day_names) and all(n == n.lower() != n.upper() for n in day_names)

    month = _alternation(months)
    # An abbreviation's dot belongs to the date only when a number follows ("Sept. 13"): at the end
    # of "13 Sept." it also ends the sentence.
    dot = r"(?:\.(?=\s*\d))?"
    months_group = rf"(?P<m>{month}{dot}(?:\s*/\s*{month}{dot})?)"
    ordinal = r"(?:st|nd|rd|th|er|e|º|°|ª)?"
    day = rf"(?P<d1>\d{{1,2}}){ordinal}"
    day2 = rf"(?:\s*[-–—]\s*|\s+{_alternation(RANGE_LINKS)}\s+)(?P<d2>\d{{1,2}}){ordinal}"
    link = rf"(?:\s*,\s*|\s+)(?:{_alternation(DATE_LINKS)}\s+)?"
    year = r"(?P<y>\d{4})"
    before = _alternation(MODIFIERS_BEFORE.get(language, {}))
    after = _alternation(MODIFIERS_AFTER.get(language, {}))
    article = rf"(?:{_alternation(articles)}\s+)" if articles else ""
    ending = f"{_alternation(endings)}?" if endings else ""
    weekday = rf"(?:(?P<before>{before})\s+)?(?:{_alternation(WEEKDAY_LEADS.get(language, ()))}\s+)?"
    weekday += rf"(?P<w>{article}{_alternation(stems)}{ending})(?:\s+(?P<after>{after}))?"
    unit = rf"(?P<u>{_alternation(f for forms in UNIT_WORDS.get(language, {}).values() for f in forms)})"
    patterns = [
        ("iso", r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d1>\d{2})"),
        ("day_month", rf"(?<![\d.,:]){day}(?:{day2})?{link}{months_group}(?:{link}{year})?(?![\d:])"),
        ("month_day", rf"{months_group}\s+{day}(?:{day2})?(?:\s*,?\s*{year})?(?![\d:%])"),
        ("month_year", rf"{months_group}{link}{year}"),
        ("year", rf"{_alternation(YEAR_CUES.get(language, ()))}\s+{year}"),
        ("weekday", weekday),
        ("relative_unit", rf"(?:(?P<before>{before})\s+)?{unit}(?:\s+(?P<after>{after}))?"),
        ("relative_day", rf"(?P<rel>{_alternation(p for p, _ in RELATIVE_DAYS.get(language, ()))})"),
    ]
    return _Lexicon(
        language=language,
        months={_fold(f): n for f, n in months.items()},
        weekdays={_fold(f): n for f, n in stems.items()},
        lowercase_weekdays=lowercase,
        patterns=tuple((kind, _bounded(pattern)) for kind, pattern in patterns),
        future=_cues(FUTURE_CUES.get(language, ())),
        modal=_cues(MODAL_CUES.get(language, ())),
        complementizer=_cues([_alternation(COMPLEMENTIZERS[language])] if language in COMPLEMENTIZERS else []),
    )


# --- Finding expressions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Expression:
    """A date expression found in a body, with what is needed to resolve it against a day."""

    kind: str  # "date", "month", "year", "weekday", "relative_day", "relative_unit"
    start: int = 0
    end: int = 0
    sentence: tuple[int, int] = (0, 0)
    year: int | None = None
    month: int = 0
    day: int = 0
    last_day: int = 0  # the end of a range; equal to ``day`` otherwise
    weekday: int = 0
    unit: str = ""  # "week", "month" or "year" for relative_unit
    offset: int = 0  # days (relative_day) or units (relative_unit) from the publication date
    # For weekdays and dates without a year: "past" or "future" (read from the clause's tense),
    # "last" or "next" (a modifier says it, the day itself excluded), "either" (nothing says).
    direction: str = ""
    speculative: bool = False

    @property
    def relative(self) -> bool:
        """Whether the expression needs the publication day (not only its year)."""
        return self.kind in ("weekday", "relative_day", "relative_unit")


def _number(text: str) -> int:
    # Arabic-Indic and other digits read as their values.
    return int("".join(str(unicodedata.digit(ch)) for ch in text))


def _month(lexicon: _Lexicon, written: str) -> int:
    """The month of "سبتمبر", "أيلول/سبتمبر" (the first name that is known), "Sept."."""
    for part in written.split("/"):
        number = lexicon.months.get(_fold(part))
        if number:
            return number
    return 0


def _modifier(language: str, match: re.Match[str]) -> str:
    """"past", "future", "this" or "" from the modifier beside a weekday or unit."""
    for group, table in (("before", MODIFIERS_BEFORE), ("after", MODIFIERS_AFTER)):
        written = match.groupdict().get(group)
        if written:
            folded = _fold(written)
            return next(d for word, d in table[language].items() if _fold(word) == folded)
    return ""


def _weekday_number(lexicon: _Lexicon, written: str) -> int | None:
    stem = _fold(written)
    for article in WEEKDAY_ARTICLES.get(lexicon.language, ()):
        stem = stem.removeprefix(_fold(article) + " ")
    if stem in lexicon.weekdays:
        return lexicon.weekdays[stem]
    for ending in WEEKDAY_ENDINGS.get(lexicon.language, ()):
        if stem.endswith(ending) and stem[: -len(ending)] in lexicon.weekdays:
            return lexicon.weekdays[stem[: -len(ending)]]
    return None


def _parse(kind: str, match: re.Match[str], lexicon: _Lexicon) -> _Expression | None:
    """The expression a match stands for, or None where it is no date after all."""
    groups = match.groupdict()
    if kind in ("iso", "day_month", "month_day", "month_year", "year"):
        year = _number(groups["y"]) if groups.get("y") else None
        if year is not None and not 1900 <= year <= 2099:
            return None
        if kind == "year":
            return _Expression("year", year=year)
        month = int(groups["mo"]) if kind == "iso" else _month(lexicon, groups["m"])
        if not 1 <= month <= 12:
            return None
        if kind == "month_year":
            return _Expression("month", year=year, month=month)
        first = _number(groups["d1"])
        last = _number(groups["d2"]) if groups.get("d2") else first
        if not 1 <= first <= last <= 31:
            return None
        return _Expression("date", year=year, month=month, day=first, last_day=last)
    modifier = _modifier(lexicon.language, match)
    if kind == "weekday":
        number = _weekday_number(lexicon, groups["w"])
        if number is None:
            return None
        # "this Monday" may be the last Monday or the next one.
        direction = {"past": "last", "future": "next", "this": "either"}.get(modifier, "")
        return _Expression("weekday", weekday=number, direction=direction)
    if kind == "relative_unit":
        if not modifier:
            return None  # "the week" alone says nothing of which week
        folded = _fold(groups["u"])
        unit = next(u for u, forms in UNIT_WORDS[lexicon.language].items() if folded in {_fold(f) for f in forms})
        offset = {"past": -1, "future": 1, "this": 0}[modifier]
        return _Expression("relative_unit", unit=unit, offset=offset)
    folded = _fold(groups["rel"])
    offset = next(o for phrase, o in RELATIVE_DAYS[lexicon.language] if _fold(phrase) == folded)
    return _Expression("relative_day", offset=offset)


def _clause(body: str, sentence: tuple[int, int], start: int, end: int, lexicon: _Lexicon) -> str:
    """The clause around an expression: punctuation and complementizers bound it; a clause that is
    little more than the expression is read with the clause after it."""
    s_start, s_end = sentence
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(body, s_start, start)), default=s_start)
    if lexicon.complementizer is not None:
        left = max((m.end() for m in lexicon.complementizer.finditer(body, left, start)), default=left)

    def right_bound(position: int) -> int:
        found = _CLAUSE_BREAK.search(body, position, s_end)
        stop = s_end if found is None else found.start()
        if lexicon.complementizer is not None:
            word = lexicon.complementizer.search(body, position, stop)
            if word is not None:
                stop = word.start()
        return stop

    right = right_bound(end)
    outside = body[left:start] + " " + body[end:right]
    if len(re.findall(r"\w+", outside)) < CLAUSE_MIN_WORDS and right < s_end:
        right = right_bound(right + 1)
    return body[left:right]


def _expressions(article: Article) -> list[_Expression]:
    """Every date expression in the body, non-overlapping, with its sentence and tense reading."""
    body = article.body
    lexicon = _lexicon(article.language)
    sentences = sentence_spans(body)
    sentence_starts = [s for s, _ in sentences]
    found: list[_Expression] = []
    for kind, pattern in lexicon.patterns:
        for match in pattern.finditer(body):
            parsed = _parse(kind, match, lexicon)
            if parsed is None:
                continue
            if kind == "weekday" and lexicon.lowercase_weekdays and match["w"][:1].isupper():
                position = bisect.bisect_left(sentence_starts, match.start())
                if position == len(sentence_starts) or sentence_starts[position] != match.start():
                    continue  # "Santo Domingo", "Plácido Domingo": a capitalised weekday is a name
            found.append(replace(parsed, start=match.start(), end=match.end()))
    found.sort(key=lambda e: (e.start, e.start - e.end))
    chosen: list[_Expression] = []
    for expression in found:
        if chosen and expression.start < chosen[-1].end:
            continue
        # "Wednesday, 13 September": the weekday names the date beside it; the date alone rules.
        previous = chosen[-1] if chosen else None
        if (
            previous is not None
            and previous.kind == "weekday"
            and expression.kind == "date"
            and re.fullmatch(r"[\s,]*", body[previous.end : expression.start])
        ):
            chosen[-1] = replace(expression, start=previous.start)
            continue
        chosen.append(expression)
    out: list[_Expression] = []
    for e in chosen:
        position = bisect.bisect_right(sentence_starts, e.start) - 1
        if position < 0 or sentences[position][1] < e.end:
            continue  # an expression across a sentence break is no expression
        sentence = sentences[position]
        clause = _clause(body, sentence, e.start, e.end, lexicon)
        direction = e.direction
        if not direction and e.kind in ("weekday", "date"):  # relative words carry their direction
            if lexicon.future is None:
                direction = "either"  # no tense cues for this language: both readings stand
            else:
                direction = "future" if lexicon.future.search(clause) else "past"
        speculative = lexicon.modal is not None and lexicon.modal.search(clause) is not None
        out.append(replace(e, sentence=sentence, direction=direction, speculative=speculative))
    return out


# --- Resolving expressions ----------------------------------------------------------------------


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _shift_month(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _intervals(expression: _Expression, reference: dt.date) -> list[Interval]:
    """What an expression denotes if the article was published on ``reference``."""
    e = expression
    if e.kind == "year":
        assert e.year is not None
        return [(dt.date(e.year, 1, 1), dt.date(e.year, 12, 31))]
    if e.kind == "month":
        assert e.year is not None
        first = dt.date(e.year, e.month, 1)
        return [(first, _month_end(first))]
    if e.kind == "date":
        years = [e.year] if e.year is not None else [reference.year - 1, reference.year, reference.year + 1]
        options: list[Interval] = []
        for year in years:
            start, end = _safe_date(year, e.month, e.day), _safe_date(year, e.month, e.last_day)
            if start is not None and end is not None:
                options.append((start, end))
        if e.year is not None or not options:
            return options
        slack = dt.timedelta(days=YEARLESS_SLACK_DAYS)
        if e.direction == "past":
            options = [o for o in options if o[0] <= reference + slack][-1:]
        elif e.direction == "future":
            options = [o for o in options if o[0] >= reference - slack][:1]
        else:
            options = [min(options, key=lambda o: abs((o[0] - reference).days))]
        return options
    if e.kind == "weekday":
        back = (reference.weekday() - e.weekday) % 7  # 0 when the reference is that weekday
        ahead = (e.weekday - reference.weekday()) % 7
        offsets = {
            "past": [-back],  # "said on Monday" in a Monday article: today
            "last": [-(back or 7)],  # "last Monday", "الاثنين الماضي": never today
            "future": [ahead] if ahead else [0, 7],  # "will meet on Monday", said on a Monday: either
            "next": [ahead or 7],
        }.get(e.direction, [-back, ahead or 7])
        return [(reference + dt.timedelta(days=o), reference + dt.timedelta(days=o)) for o in offsets]
    if e.kind == "relative_day":
        day = reference + dt.timedelta(days=e.offset)
        return [(day, day)]
    if e.unit == "week":
        monday = reference - dt.timedelta(days=reference.weekday()) + dt.timedelta(weeks=e.offset)
        return [(monday, monday + dt.timedelta(days=6))]
    if e.unit == "month":
        first = _shift_month(reference, e.offset)
        return [(first, _month_end(first))]
    year = reference.year + e.offset
    return [(dt.date(year, 1, 1), dt.date(year, 12, 31))]


def _covering(start: dt.date, end: dt.date) -> PublishedDate | None:
    """The most precise date that an interval lies within."""
    if start == end:
        return PublishedDate(start, DatePrecision.DAY, "text")
    if (start.year, start.month) == (end.year, end.month):
        return PublishedDate(start.replace(day=1), DatePrecision.MONTH, "text")
    if start.year == end.year:
        return PublishedDate(dt.date(start.year, 1, 1), DatePrecision.YEAR, "text")
    return None


def _resolve(expression: _Expression, references: Sequence[dt.date], unsure: bool) -> tuple[PublishedDate, bool] | None:
    """(date, uncertain) of an expression read against each possible publication day.

    Certain where every reading agrees (and nothing else makes it unsure); otherwise the month,
    or failing that the year, that most readings fall in, marked uncertain.
    """
    readings = Counter(interval for reference in references for interval in _intervals(expression, reference))
    if not readings:
        return None
    if len(readings) == 1 and not unsure and not expression.speculative:
        covering = _covering(*next(iter(readings)))
        return None if covering is None else (covering, False)
    low = min(start for start, _ in readings)
    high = max(end for _, end in readings)
    span = (high - low).days
    if span <= UNCERTAIN_MONTH_SPAN_DAYS:
        months = Counter[tuple[int, int]]()
        for (start, _), count in readings.items():
            months[(start.year, start.month)] += count
        year, month = months.most_common(1)[0][0]
        return PublishedDate(dt.date(year, month, 1), DatePrecision.MONTH, "text"), True
    if span <= UNCERTAIN_YEAR_SPAN_DAYS:
        years = Counter[int]()
        for (start, _), count in readings.items():
            years[start.year] += count
        return PublishedDate(dt.date(years.most_common(1)[0][0], 1, 1), DatePrecision.YEAR, "text"), True
    return None


def _period(published: PublishedDate) -> Interval | None:
    """The days a publication date allows."""
    value = published.value
    if value is None or published.precision is DatePrecision.UNKNOWN:
        return None
    if published.precision is DatePrecision.DAY:
        return value, value
    if published.precision is DatePrecision.MONTH:
        return value, _month_end(value)
    return dt.date(value.year, 1, 1), dt.date(value.year, 12, 31)


def _days(period: Interval) -> list[dt.date]:
    start, end = period
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _readable(expression: _Expression, days: list[dt.date]) -> list[dt.date]:
    """The publication days to read an expression against: any one day where it carries its
    year (its reading does not depend on the day), else the possible publication days."""
    if expression.year is not None and not expression.relative:
        return [dt.date(expression.year, 1, 1)]
    return days


def _anchorable(expression: _Expression) -> bool:
    return expression.kind == "weekday" and expression.direction != "either" and not expression.speculative


def _anchored(expressions: Sequence[_Expression], references: Sequence[dt.date], window: Interval) -> list[dt.date]:
    """The publication days for which every weekday of an article falls inside ``window`` (or
    within ANCHOR_REPORT_DAYS after it) and one at least inside it; empty when none."""
    weekdays = [e for e in expressions if _anchorable(e)]
    if not weekdays:
        return []
    low, high = window
    report_end = high + dt.timedelta(days=ANCHOR_REPORT_DAYS)
    kept = []
    for reference in references:
        readings = [interval for e in weekdays for interval in _intervals(e, reference)]
        if all(low <= start and end <= report_end for start, end in readings) and any(
            start <= high for start, _ in readings
        ):
            kept.append(reference)
    return kept


# --- Events ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An event before merging: one article's sentence with one resolved date."""

    event: TimelineEvent
    order: tuple[int, int]  # position of the article in the story, then of the sentence
    weekday: int | None  # for uncertain weekday events: only the same weekday may merge
    names: frozenset[str]
    words: frozenset[str]
    article_id: str


def _sentence_names(article: Article) -> Callable[[tuple[int, int]], frozenset[str]]:
    """Name units (whole keys, and the last word of multi-word keys) per sentence of an article."""
    mentions = [m for m in find_names(article.body, article.language) if is_distinctive(m.key)]

    def names(span: tuple[int, int]) -> frozenset[str]:
        units: set[str] = set()
        for mention in mentions:
            if span[0] <= mention.start and mention.end <= span[1]:
                last = mention.key.rsplit(" ", 1)[-1]
                units.add(last if " " in mention.key and len(last) >= SURNAME_MIN_LETTERS else mention.key)
        return frozenset(units)

    return names


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", text.casefold()) if len(w) >= MIN_WORD_CHARS and not w.isdigit())


def _story_period(articles: Sequence[Article]) -> Interval | None:
    periods = [p for p in (_period(a.published) for a in articles) if p is not None]
    if not periods:
        return None
    return min(p[0] for p in periods), max(p[1] for p in periods)


def _candidates(articles: Sequence[Article]) -> list[_Candidate]:
    """Resolved events of each article, with the story's evidence for undated articles."""
    story_period = _story_period(articles)
    found = [_expressions(a) for a in articles]
    own = [_period(a.published) for a in articles]
    references: list[list[dt.date]] = []
    for period in own:
        period = period or story_period
        fits = period is not None and (period[1] - period[0]).days < MAX_REFERENCE_DAYS
        references.append(_days(period) if fits and period is not None else [])

    # Ranges written in each article ("10 hingga 13 September"), where certain.
    windows: list[list[Interval]] = []
    for expressions, days in zip(found, references, strict=True):
        article_windows = []
        for e in expressions:
            if e.kind == "date" and e.last_day > e.day and not e.speculative:
                readings = {i for d in _readable(e, days) for i in _intervals(e, d)}
                if len(readings) == 1:
                    article_windows.append(next(iter(readings)))
        windows.append(article_windows)

    out: list[_Candidate] = []
    for index, (article, expressions) in enumerate(zip(articles, found, strict=True)):
        days = references[index]
        anchored = False
        if len(days) > 1:
            narrowed = {
                tuple(kept)
                for other, article_windows in enumerate(windows)
                if other != index
                for window in article_windows
                if (kept := _anchored(expressions, days, window))
            }
            if len(narrowed) == 1:  # one reading of the article's days; several would be a guess
                days, anchored = list(next(iter(narrowed))), True
        borrowed = own[index] is None
        # Names only serve to merge events of different articles: a lone article skips finding them.
        names: Callable[[tuple[int, int]], frozenset[str]] = (
            _sentence_names(article) if len(articles) > 1 else lambda _: frozenset()
        )
        seen: set[tuple[tuple[int, int], str, bool]] = set()
        for e in expressions:
            resolved = _resolve(e, _readable(e, days), unsure=e.relative and borrowed and not anchored)
            if resolved is None:
                continue
            date, uncertain = resolved
            key = (e.sentence, str(date), uncertain)
            if key in seen:
                continue
            seen.add(key)
            start, end = e.sentence
            event = TimelineEvent(
                date=date,
                uncertain=uncertain,
                text=article.body[start:end],
                expression=article.body[e.start : e.end],
                citations=(Citation(article.id, start, end),),
            )
            out.append(
                _Candidate(
                    event=event,
                    order=(index, start),
                    weekday=e.weekday if uncertain and e.kind == "weekday" else None,
                    names=names(e.sentence),
                    words=_content_words(event.text),
                    article_id=article.id,
                )
            )
    return out


def _shared_names(a: frozenset[str], b: frozenset[str]) -> int:
    return sum(1 for x in a if any(key_matches(x, y) for y in b))


def _similar(a: _Candidate, b: _Candidate) -> bool:
    if a.event.uncertain and a.weekday != b.weekday:
        return False
    if _shared_names(a.names, b.names) >= MIN_SHARED_NAMES:
        return True
    union = a.words | b.words
    return bool(union) and len(a.words & b.words) / len(union) >= MIN_WORD_OVERLAP


def _merge(candidates: Sequence[_Candidate]) -> list[TimelineEvent]:
    """One event per group of similar candidates from different articles on the same date."""
    by_date: dict[tuple[str, str, bool], list[list[_Candidate]]] = {}
    for candidate in sorted(candidates, key=lambda c: c.order):
        event = candidate.event
        groups = by_date.setdefault((str(event.date), event.date.precision.value, event.uncertain), [])
        for group in groups:
            if all(m.article_id != candidate.article_id for m in group) and _similar(group[0], candidate):
                group.append(candidate)
                break
        else:
            groups.append([candidate])
    events = [
        replace(group[0].event, citations=tuple(c for member in group for c in member.event.citations))
        for groups in by_date.values()
        for group in groups
    ]
    return sorted(events, key=lambda e: (e.date.value or dt.date.max, _RANK[e.date.precision], e.uncertain))


def extract_events(article: Article) -> list[TimelineEvent]:
    """The dated events of one article, resolved against its own publication date alone.

    Without a publication date only expressions that carry their year are dated.
    """
    return _merge(_candidates([article]))


def build_timeline(articles: Sequence[Article]) -> list[TimelineEvent]:
    """The timeline of a story: every article's events, dated with the story's evidence (its
    publication period for undated articles, its date ranges as anchors), merged across articles
    and sorted by date (day before month before year on the same first day, uncertain last)."""
    return _merge(_candidates(articles))
