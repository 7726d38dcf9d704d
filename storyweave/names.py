"""Names found in any script, and keys that match them across scripts.

Two articles that share rare names (people, places, organisations) are likely about the same
story, whatever their language. This module finds candidate names in a text and gives each a
*key* that is equal for the same name written in different scripts, so the clusterer can
intersect key sets, and the entity stage can start from the mentions.

The key is a consonant skeleton of the romanised name (:func:`name_key`): ``Kim Jong Un`` and
``كيم جونغ أون`` both give ``km jng n``. Vowels are dropped because Arabic, Hebrew and Persian
write few of them and transliterations disagree on the rest; a few consonant classes are merged
where scripts or spelling traditions disagree (p/b, v/f, c/k/q, z/s, the sh/ch/tsh family).

Finding names differs by script. Cased scripts (Latin, Cyrillic, Greek, Armenian...) mark names
with capitals; the work is to reject capitals that mark a sentence start, a title, or a shouted
headline, using evidence from the same text rather than per-language dictionaries wherever
possible. Uncased scripts (Arabic, Hebrew, Devanagari, CJK, Thai...) have no such mark, so the
finder uses other evidence: CLDR country and city names (from Babel, for every language), title
words (``الرئيس``, ``وزير``...), and for Arabic the shape of transliterated foreign names and
recurring word pairs. Precision matters more than recall there: the clusterer only needs a few
rare keys per article, and the entity stage refines.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from anyascii import anyascii
from babel import Locale, UnknownLocaleError
from babel.core import get_global

__all__ = ["NameMention", "find_names", "is_distinctive", "key_matches", "name_key", "name_keys"]


@dataclass(frozen=True, slots=True)
class NameMention:
    """A candidate name as written in the text, its span, and its cross-script key.

    ``text == source[start:end]`` always holds, and ``key == name_key(text)``. Arabic
    conjunctions and prepositions written onto a name (``و``, ``ب``, ``ل``...) lie outside the
    span; the definite article ``ال`` stays in it, and :func:`name_key` drops it.
    """

    text: str
    start: int
    end: int
    key: str


# --- Key constants -----------------------------------------------------------------------------
# Letter groups rewritten before vowels are dropped, longest first so that "tsh" wins over "sh".
# Chosen from anyascii's output on the sample names and common exonyms: Arabic writes the
# Russian "ch" of Vostochny as تش (tsh) or ش (sh), so the whole sh/ch/tsh/tch family is one sound;
# "chr"/"chl" are the Greek-derived k of Christopher and Chloe; Russian "dzh" (Джон) is j;
# "ts"/"tz" (Fitzpatrick, Scholz, Russian ц) are written تس/تز in Arabic, so they join s.
_DIGRAPHS: dict[str, str] = {
    "tsch": "s",
    "dzh": "j",
    "sch": "s",
    "tch": "s",
    "tsh": "s",
    "chr": "kr",
    "chl": "kl",
    "ch": "s",
    "sh": "s",
    "zh": "j",
    "ts": "s",
    "tz": "s",
    "ph": "f",
    "gh": "g",
    "ck": "k",
}
_DIGRAPH_RE = re.compile("|".join(sorted(_DIGRAPHS, key=len, reverse=True)))
# c is s before a front vowel (Cindy, Vincent) and k elsewhere (Carlos, Macron).
_SOFT_C_RE = re.compile(r"c(?=[eiy])")
# Single-letter merges: Arabic has no p or v (پ/ڤ are rare), so Latin p/v meet Arabic b/f; ق is
# romanised q; ز and the emphatic ظ give z where Latin often writes s.
_LETTER_MAP = str.maketrans({"p": "b", "v": "f", "c": "k", "q": "k", "z": "s"})
# Dropped: vowels, and the letters Arabic-script romanisation uses for long vowels (w, y) and
# for emphatic or breathy variants (h in kh, th, dh; Arabic ح/ه).
_DROPPED_LETTERS = str.maketrans("", "", "aeiouwyh")
_DOUBLED_RE = re.compile(r"(.)\1+")
_NON_LETTERS_RE = re.compile(r"[^a-z]+")
# Separators between the words of a name, for the key: spaces, hyphens (Kim Jong-un), dots of
# initials (H.J.), the Japanese name dot (キム・ジョンウン).
_KEY_SPLIT_RE = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014.\u00b7\u30fb]+")
# Lower-case linking words inside a name that other scripts do not write: Albanian articles
# (Këshillit të Sigurisë), English "of", the Latin spelling of the Arabic article (al-Assad,
# whose Arabic الأسد loses its article in the key too).
_KEY_SKIPPED_WORDS = frozenset({"të", "së", "of", "al", "el"})
# The Arabic article, and ل+ال contracted to لل, are dropped from the key of each word when at
# least this many letters remain (so that short words such as الا are left alone).
_ARABIC_ARTICLES = ("ال", "لل")
_ARTICLE_MIN_REST = 2
# Acronyms keep their letters (upper-case, so they cannot equal a skeleton): their vowels carry
# the information (UN, EU, OKB). Up to this length an all-capitals word is an acronym; longer
# ones are shouted words (MENJALANKAN in an all-caps headline).
ACRONYM_MAX_LEN = 6

# --- Distinctiveness and matching --------------------------------------------------------------
# A key is distinctive when it has at least this many skeleton letters. Measured on the
# samples: three-letter skeletons are what native Arabic words give (a root of three consonants),
# so a single three-letter key (btn: Putin, but also بطن) matches too much by chance; four
# letters keep Vladivostok (fldfstk), Lavrov (lfrf), Kim Jong Un (km jng n), Sergei Shoigu.
MIN_KEY_LETTERS = 4
# Acronyms need three letters: two-letter ones (UN, AS, EU) recur in unrelated articles.
MIN_ACRONYM_LETTERS = 3
# Parts of a distinctive multi-word name with at least this many letters are keys of their own
# when the text also writes them alone: the article vouches that they are a name, and other
# articles often write only the surname. Three letters keeps Putin (btn) and Kirby (krb).
MIN_PART_LETTERS = 3
# A multi-word name also gets its key without spaces when one of its words is this short:
# syllable-sized words are those of Korean and Chinese names, whose spacing varies between
# writers (Pyongyang / بيونغ يانغ, Kim Jong-un / Kim Jongun).
SYLLABLE_MAX_LETTERS = 2
# Inflection on the last word (key_matches): the two words share a stem of at least
# INFLECTION_STEM_MIN letters and each adds at most INFLECTION_SUFFIX_MAX letters drawn from
# INFLECTION_LETTERS. With a two-letter stem only one added letter is allowed (Rusia/Rusinë, rs
# and rsn; Korenë/Koreja, krn and krj). The letters are the consonants of case endings in the
# languages with inflected names (Albanian -n/-s/-t/-j, Slavic -m, Finnish -n/-s/-t); r, l, k,
# b are left out so that Kim/Kimura (km/kmr) and Mark/Merkel (mrk/mrkl) stay apart.
INFLECTION_STEM_MIN = 2
INFLECTION_LONG_STEM = 3
INFLECTION_SUFFIX_MAX = 2
INFLECTION_LETTERS = frozenset("jmnst")


def name_key(surface: str) -> str:
    """The cross-script key of a name: a consonant skeleton of its romanisation, word by word.

    Each word is romanised with anyascii, lower-cased, and reduced: letter groups that spell one
    sound are rewritten (sh/ch/tsh→s, ph→f, gh→g...), p→b, v→f, c/q→k, z→s, vowels and w/y/h are
    dropped, and doubled letters collapse. Words that reduce to nothing are left out, so
    ``"Kim Jong Un"``, ``"Kim Jong-un"`` and ``"كيم جونغ أون"`` all give ``"km jng n"``. An
    acronym (an all-capitals word of two to six letters, dots allowed) keeps its letters in
    capitals instead: ``"KCNA"``, ``"D.P.R.K."`` → ``"DPRK"``.
    """
    return _name_key(unicodedata.normalize("NFC", surface.strip()))


@functools.lru_cache(maxsize=65536)
def _name_key(surface: str) -> str:
    acronym = _acronym_letters(surface)
    if acronym:
        return acronym
    words = []
    for word in _KEY_SPLIT_RE.split(surface):
        if word in _KEY_SKIPPED_WORDS:
            continue
        skeleton = _skeleton(_romanise(word))
        if skeleton:
            words.append(skeleton)
    return " ".join(words)


def _acronym_letters(surface: str) -> str:
    """The letters of an acronym (``KCNA``, ``D.P.R.K.``), or ``""`` if the surface is not one."""
    if any(ch.isspace() for ch in surface):
        return ""
    letters = surface.replace(".", "")
    if not 2 <= len(letters) <= ACRONYM_MAX_LEN or not all(ch.isalpha() and ch.isupper() for ch in letters):
        return ""
    return _NON_LETTERS_RE.sub("", anyascii(letters).lower()).upper()


def _romanise(word: str) -> str:
    """anyascii, after fixing what it cannot know: Arabic articles and Hebrew vav/pe."""
    if any(_is_arabic(ch) for ch in word):
        for article in _ARABIC_ARTICLES:
            if word.startswith(article) and len(word) - len(article) >= _ARTICLE_MIN_REST:
                word = word[len(article) :]
                break
    elif any("\u05d0" <= ch <= "\u05ea" for ch in word):
        # anyascii reads every vav as v and every pe as f; in a name, vav inside a word is the
        # vowel o/u (פוטין is Putin) and pe at the start is p.
        out = []
        for i, ch in enumerate(word):
            if ch == "ו" and i > 0 and word[i - 1] != "ו":
                out.append("" if i + 1 < len(word) and word[i + 1] == "ו" else "w")
            elif ch == "פ" and i == 0:
                out.append("p")
            else:
                out.append(ch)
        word = "".join(out)
    return anyascii(word).lower()


def _skeleton(romanised: str) -> str:
    letters = _NON_LETTERS_RE.sub("", romanised)
    if letters.startswith("x"):  # initial x is s (Xi, Xinjiang), elsewhere ks (Alexander)
        letters = "s" + letters[1:]
    letters = letters.replace("x", "ks")
    letters = _DIGRAPH_RE.sub(lambda m: _DIGRAPHS[m.group()], letters)
    letters = _SOFT_C_RE.sub("s", letters).translate(_LETTER_MAP).translate(_DROPPED_LETTERS)
    return _DOUBLED_RE.sub(r"\1", letters)


def is_distinctive(key: str) -> bool:
    """Whether a key is rare enough to count as evidence that two articles share a name.

    Short skeletons match by chance (``km`` is Kim, but also قم; ``btn`` is Putin, but also بطن),
    so a skeleton key needs MIN_KEY_LETTERS letters in all, and an acronym key three letters.
    """
    if key.isupper():
        return len(key) >= MIN_ACRONYM_LETTERS
    return len(key.replace(" ", "")) >= MIN_KEY_LETTERS


def key_matches(a: str, b: str) -> bool:
    """Whether two keys name the same thing, allowing an inflected ending on the last word.

    Names inflect in many languages (Albanian Putin/Putinit, Rusia/Rusinë, Korenë/Koreja;
    Russian Путина). The rule: same number of words, all but the last equal, and the last words
    share a stem to which each adds at most INFLECTION_SUFFIX_MAX letters from
    INFLECTION_LETTERS (one letter when the stem has only two). Acronym keys match only exactly.
    """
    if a == b:
        return True
    if a.isupper() or b.isupper():
        return False
    words_a, words_b = a.split(" "), b.split(" ")
    if len(words_a) != len(words_b) or words_a[:-1] != words_b[:-1]:
        return False
    last_a, last_b = words_a[-1], words_b[-1]
    stem = 0
    while stem < min(len(last_a), len(last_b)) and last_a[stem] == last_b[stem]:
        stem += 1
    rest_a, rest_b = last_a[stem:], last_b[stem:]
    if not set(rest_a + rest_b) <= INFLECTION_LETTERS:
        return False
    longest = max(len(rest_a), len(rest_b))
    if stem >= INFLECTION_LONG_STEM:
        return longest <= INFLECTION_SUFFIX_MAX
    return stem >= INFLECTION_STEM_MIN and longest <= 1


def name_keys(text: str, language: str) -> tuple[str, ...]:
    """The distinctive keys of the names in a text, deduplicated and sorted.

    For each name: its key if distinctive; for a distinctive multi-word name, also the keys of
    its words of MIN_PART_LETTERS letters or more that the text also writes alone (Putin after
    Vladimir Putin: other articles may write only the surname; الشمالية of كوريا الشمالية is
    never alone, so it stays out), and its key without spaces when it has a syllable-sized word
    (see SYLLABLE_MAX_LETTERS).
    """
    mentions = find_names(text, language)
    alone = {m.key for m in mentions if " " not in m.key}
    keys: set[str] = set()
    for mention in mentions:
        key = mention.key
        if not is_distinctive(key):
            continue
        keys.add(key)
        words = key.split(" ")
        if len(words) > 1:
            keys.update(word for word in words if len(word) >= MIN_PART_LETTERS and word in alone)
            if min(len(word) for word in words) <= SYLLABLE_MAX_LETTERS:
                keys.add("".join(words))
    return tuple(sorted(keys))


# --- Tokens ------------------------------------------------------------------------------------
# Characters that join letters inside one word: apostrophes (O'Brien, Putin's, t'i), hyphens
# (Jong-un, OKB-së), and the zero-width non-joiner of Persian.
_APOSTROPHES = "'\u2019\u02bc"
_HYPHENS = "-\u2010\u2011"
_JOINERS = frozenset(_APOSTROPHES + _HYPHENS + "\u200c")


@dataclass(slots=True)  # not frozen: a frozen dataclass is 3x slower to create, and every word is one
class _Token:
    text: str
    start: int
    end: int


def _is_letter(ch: str) -> bool:
    return ch.isalpha() or unicodedata.category(ch).startswith("M")


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufefc"


def _letter_class() -> str:
    """A regular-expression class of letters and combining marks, as :func:`_is_letter` judges
    them (``re`` has no \\p{L} or \\p{M}): ``[^\\W\\d_]`` less the numerals it also matches
    (², ½, Ⅻ), or a mark of the Basic Multilingual Plane."""
    word = re.compile(r"[^\W\d_]")
    marks: list[tuple[int, int]] = []
    numerals: list[tuple[int, int]] = []
    for code in range(0x80, 0x10000):
        ch = chr(code)
        kind = marks if unicodedata.category(ch).startswith("M") else numerals if word.match(ch) and not ch.isalpha() else None
        if kind is None:
            continue
        if kind and kind[-1][1] == code - 1:
            kind[-1] = (kind[-1][0], code)
        else:
            kind.append((code, code))

    def ranges(spans: list[tuple[int, int]]) -> str:
        return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in spans)

    return f"(?:(?![{ranges(numerals)}])[^\\W\\d_]|[{ranges(marks)}])"


_LETTER = _letter_class()
# A word: letters and marks, with single joiners between letters (one pass of the C regex engine
# instead of a Python loop per character: the tokeniser was a fifth of the cost of preparing).
_WORD = re.compile(f"{_LETTER}+(?:[{re.escape(''.join(sorted(_JOINERS)))}]{_LETTER}+)*")


def _tokens(text: str) -> list[_Token]:
    """Words: runs of letters and combining marks, with single joiners between letters."""
    return [_Token(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _is_cased(token: _Token) -> bool:
    first = token.text[0]
    if not first.isalpha():  # a word may open with a combining mark
        first = next((ch for ch in token.text if ch.isalpha()), "")
    return first.isupper() or first.islower() or first.istitle()


def find_names(text: str, language: str) -> list[NameMention]:
    """Candidate proper names in a text, in order, each with its span and key.

    ``language`` is the article's ISO 639-1 code (``""`` when unknown); it selects the small
    per-language lists (titles, particles, CLDR month and place names). The script of each word
    decides how it is judged, so a Latin acronym in an Arabic article is still found.
    """
    cased: list[_Token] = []
    uncased: list[_Token] = []
    for token in _tokens(text):
        (cased if _is_cased(token) else uncased).append(token)
    mentions = _cased_names(text, cased, language) + _uncased_names(text, uncased, language)
    return sorted(mentions, key=lambda m: m.start)


def _mention(text: str, start: int, end: int) -> NameMention | None:
    surface = text[start:end]
    key = name_key(surface)
    return NameMention(surface, start, end, key) if key else None


# --- Per-language lists ------------------------------------------------------------------------
# Title words that precede names and are capitalised in some languages (Albanian "Presidenti
# Putin", Malay "Presiden Vladimir Putin"). They are cut from the front of a capitalised run so
# that the run's key is the name's. An entry of TITLE_STEM_MIN letters or more also matches
# when followed by up to TITLE_SUFFIX_MAX letters (Presidenti, Presidentin, Presidentit). Only
# needed where the generic evidence (the word written lower-case elsewhere in the text) fails.
TITLE_STEM_MIN = 5
TITLE_SUFFIX_MAX = 3
_TITLES: dict[str, frozenset[str]] = {
    "en": frozenset(
        "mr mrs ms dr sir lord lady dame king queen prince princess pope president minister secretary"
        " spokesman spokeswoman spokesperson leader chairman chancellor senator governor mayor"
        " ambassador envoy dictator premier comrade foreign defence defense deputy vice former chief"
        " supreme prime coordinator adviser advisor general admiral colonel captain sheikh emir"
        " commander".split()
    ),
    "sq": frozenset(
        "president kryetar kryeministr ministr sekretar zëdhënës shoku shokun zoti zotit zonja"
        " udhëheqës diktator gjeneral ambasador drejtor jashtëm brendshëm përgjithshëm mbret"
        " kancelar senator guvernator koordinator këshilltar".split()
    ),
    "ms": frozenset(
        "ahli presiden menteri perdana setiausaha jurucakap penyelaras diktator pemimpin ketua timbalan"
        " naib raja sultan datuk seri encik tuan puan jeneral duta gabenor canselor".split()
    ),
    "fr": frozenset("président présidente ministre premier secrétaire général chancelier roi reine".split()),
    "es": frozenset("presidente presidenta ministro ministra secretario portavoz líder rey reina".split()),
    "pt": frozenset("presidente presidenta ministro ministra secretário líder rei rainha".split()),
    "it": frozenset("presidente ministro premier segretario portavoce leader re regina".split()),
    "de": frozenset("präsident minister kanzler kanzlerin sprecher herr frau staatschef machthaber".split()),
}
_TITLES["id"] = _TITLES["ms"]

# Lower-case words allowed inside a capitalised run, between two capitalised words: name
# particles (bin, al-, van, von, de...) and Albanian linking articles (Koreja e Veriut,
# Këshillit të Sigurisë). Per language, because a particle elsewhere is a common word there
# (Malay "di" is "in"); conjunctions are left out everywhere: "Kim and Putin" is two names.
_DEFAULT_PARTICLES = frozenset("bin ibn al el van von der den de del della di da dos das du la le ter ten zu".split())
_PARTICLES: dict[str, frozenset[str]] = {
    "en": frozenset("bin ibn al el van von der de da du la le of".split()),
    "sq": frozenset("i e të së bin ibn al el van von de".split()),
    "ms": frozenset("bin binti al".split()),
}
_PARTICLES["id"] = _PARTICLES["ms"]

# Function words that open sentences ("When Putin arrived", "Pas takimit"). A sentence-initial
# capital is taken as part of a name only with evidence (see _cased_names); these lists serve
# the one case the evidence leaves open: an unconfirmed first word followed by a name, as in
# "Sali Berisha deklaroi" (kept) and "After Putin spoke" (cut). Other languages rely on the
# function word being written in lower case elsewhere in the same text.
_OPENERS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an this that these those it its in on at of for from by with as after before when while"
        " if but and or so yet since during although though because however meanwhile also then there"
        " here he she they we i you his her their our my your what who which where why how not no both"
        " all some many most more other such each every one two three today yesterday tomorrow later"
        " earlier under over about against between among according despite amid until unless nor than".split()
    ),
    "sq": frozenset(
        "një dhe në nga për me pa pas që se si ku kur por edhe ai ajo ata ato ky kjo këto këta nëse"
        " sipas gjatë ndërsa megjithatë megjithëse prandaj kështu tani sot dje nesër duke mes te tek"
        " u do ka kanë është janë".split()
    ),
    "ms": frozenset(
        "dan di ke dari pada untuk dengan yang ini itu ia dia mereka kami kita saya selepas sebelum"
        " semasa ketika apabila jika tetapi namun bagaimanapun sementara selain menurut dalam oleh"
        " kerana sejak manakala sebagai antara bagi semalam esok kini".split()
    ),
}
_OPENERS["id"] = _OPENERS["ms"]

# Abbreviations whose full stop does not end a sentence (Mr. Putin, Gen. Milley); initials
# (H.J.) are recognised by being a single letter.
_ABBREVIATIONS = frozenset("mr mrs ms dr prof gen sen rep gov lt col capt sgt jr sr st mt ft no nr".split())
# A line is a title-case headline when it has at least HEADLINE_MIN_WORDS words, this share of
# them are capitalised ("Kim Jong Un Arrives In Russia"), and it does not end like a sentence;
# its capitals prove nothing.
HEADLINE_MIN_WORDS = 4
HEADLINE_CAPITALISED_SHARE = 0.8
# A run of more capitalised words than this is no name but a list or a title-case sentence (the
# longest name in the samples, "Këshillit të Sigurimit të Kombeve të Bashkuara", has seven).
MAX_RUN_WORDS = 8
# This many all-capitals words in a row (on one line) are a shouted headline, not acronyms.
SHOUT_MIN_RUN = 3
# Languages that capitalise every noun (German, Luxembourgish): there a capital proves nothing
# about a single word (Steuern, Unternehmen, Wirtschaft), so a one-word name needs other
# evidence (:func:`_noun_capitalising_filter`), and a title may end a compound
# (Bundeskanzlerin, Außenminister, Regierungssprecher).
NOUN_CAPITALISING = frozenset({"de", "lb"})
# Two spellings of a capitalised word are taken as one word (for the evidence that a word is
# used as a name elsewhere in the text) when they share a prefix of STEM_PREFIX_MIN letters, or
# of all but STEM_SLACK letters of the shorter one, whichever is longer, and their lengths
# differ by at most STEM_SLACK: Rusinë/Rusisë/Rusia, but not Ndërsa/Ndërkombëtar.
STEM_PREFIX_MIN = 4
STEM_SLACK = 2


@functools.cache
def cldr_locale(language: str) -> Locale | None:
    """Babel's CLDR locale for a language code, or None where CLDR has none (shared with entities)."""
    try:
        return Locale.parse(language) if language else None
    except (UnknownLocaleError, ValueError):
        return None


@functools.cache
def _calendar_words(language: str) -> frozenset[str]:
    """CLDR month and weekday names of a language, case-folded: capitalised, but not names."""
    locale = cldr_locale(language)
    if locale is None:
        return frozenset()
    words: set[str] = set()
    for table in (locale.months, locale.days):
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for name in table.get(context, {}).get(width, {}).values():
                    words.update(_ar_fold(w.casefold()) for w in name.replace(".", " ").split() if len(w) > 2)
    return frozenset(words)


# --- Cased scripts -----------------------------------------------------------------------------
@dataclass(slots=True)
class _Word:
    """A cased token trimmed to its name part, with what the finder knows about it."""

    text: str
    start: int
    end: int
    kind: str  # "cap", "acronym", "lower", "shout"
    initial: bool  # at a sentence start: the capital proves nothing
    headline: bool  # in a title-case headline: no capital there proves anything
    fold: str


def _trim_cased(token: _Token) -> tuple[int, int]:
    """The name part of a cased token: drop inflection written after an acronym (OKB-së),
    lower-case prefixes (ish-Presidentin, l'Europe) and short apostrophe suffixes (Putin's,
    Turkish Rusya'ya)."""
    text = token.text
    words = [m.span() for m in re.finditer(f"[^{_HYPHENS}]+", text)]
    while len(words) > 1 and text[words[0][0]].islower() and text[words[0][0] : words[0][1]] not in _DEFAULT_PARTICLES:
        words.pop(0)
    while len(words) > 1 and text[words[-1][0]].islower() and text[words[-2][0] : words[-2][1]].isupper():
        words.pop()
    start, end = words[0][0], words[-1][1]
    piece = text[start:end]
    for mark in _APOSTROPHES:
        head, sep, tail = piece.partition(mark)
        if not sep:
            continue
        if head.islower() and len(head) <= 3 and tail[:1].isupper():
            start += len(head) + 1
        elif tail.islower() and len(tail) <= 4 and head[:1].isupper():
            end = start + len(head)
        break
    return token.start + start, token.start + end


def _is_sentence_start(text: str, start: int) -> bool:
    """Whether a word opens a sentence: after start of text, a line break, or . ! ? : …,
    skipping opening quotes and brackets; a full stop after an initial or abbreviation does not
    count."""
    i = start - 1
    while i >= 0 and (text[i] in " \t\u00a0" or unicodedata.category(text[i]) in ("Pi", "Ps") or text[i] in "\"'«“‘"):
        i -= 1
    if i < 0 or text[i] in "\n\r!?:…":
        return True
    if text[i] != ".":
        return False
    j = i
    while j > 0 and _is_letter(text[j - 1]):
        j -= 1
    before = text[j:i]
    return not (len(before) == 1 and before.isupper()) and before.casefold() not in _ABBREVIATIONS


# A word with no hyphen or apostrophe in it: nothing for _trim_cased to cut.
_PLAIN_WORD = re.compile(f"[^{re.escape(''.join(sorted(_JOINERS)))}]+")


_NEWLINE = re.compile("\n")


def _cased_words(text: str, tokens: Sequence[_Token]) -> list[_Word]:
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    lines = [bisect.bisect(newlines, t.start) for t in tokens]
    headline_lines = _title_case_lines(text, tokens, lines)
    words: list[_Word] = []
    for token, line in zip(tokens, lines, strict=True):
        if token.text.islower() and _PLAIN_WORD.fullmatch(token.text):
            # Most words: lower case, nothing to trim, and whether they open a sentence
            # matters only for capitalised words.
            words.append(_Word(token.text, token.start, token.end, "lower", False, line in headline_lines, token.text.casefold()))
            continue
        start, end = _trim_cased(token)
        piece = text[start:end]
        letters = [ch for ch in piece if ch.isalpha()]
        if not letters or not piece[0].isupper():
            kind = "lower"
        elif len(letters) >= 2 and all(ch.isupper() for ch in letters):
            kind = "acronym" if len(letters) <= ACRONYM_MAX_LEN else "shout"
        else:
            kind = "cap"
        initial = _is_sentence_start(text, start)
        words.append(_Word(piece, start, end, kind, initial, line in headline_lines, piece.casefold()))
    _mark_shouting(text, words)
    return words


def _title_case_lines(text: str, tokens: Sequence[_Token], lines: Sequence[int]) -> set[int]:
    per_line: dict[int, list[bool]] = {}
    last: dict[int, _Token] = {}
    for token, line in zip(tokens, lines, strict=True):
        per_line.setdefault(line, []).append(token.text[0].isupper())
        last[line] = token
    return {
        line
        for line, caps in per_line.items()
        if len(caps) >= HEADLINE_MIN_WORDS
        and sum(caps) >= HEADLINE_CAPITALISED_SHARE * len(caps)
        and not _ends_sentence(text, last[line].end)
    }


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the line goes on after ``end`` with sentence-final punctuation only."""
    rest = text[end:].split("\n", 1)[0].strip(" \t\"'”’»)")
    return rest[:1] in (".", "!", "?", "…")


def _mark_shouting(text: str, words: list[_Word]) -> None:
    """All-capitals words in a row of SHOUT_MIN_RUN or more on one line are a shouted headline."""
    i = 0
    while i < len(words):
        j = i
        while (
            j < len(words)
            and words[j].kind in ("acronym", "shout")
            and (j == i or "\n" not in text[words[j - 1].end : words[j].start])
        ):
            j += 1
        if j - i >= SHOUT_MIN_RUN:
            for w in words[i:j]:
                w.kind = "shout"
        i = max(j, i + 1)


def _same_stem(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if max(len(a), len(b)) - shorter > STEM_SLACK:
        return False
    shared = 0
    while shared < shorter and a[shared] == b[shared]:
        shared += 1
    return shared >= max(STEM_PREFIX_MIN, shorter - STEM_SLACK)


def _is_title(fold: str, language: str) -> bool:
    titles = _TITLES.get(language, frozenset())
    if fold in titles:
        return True
    compound = language in NOUN_CAPITALISING
    return any(
        len(t) >= TITLE_STEM_MIN
        and ((fold.startswith(t) and len(fold) - len(t) <= TITLE_SUFFIX_MAX) or (compound and fold.endswith(t)))
        for t in titles
    )


@functools.cache
def _folded_places(language: str) -> frozenset[str]:
    """The CLDR country and city names of a language, case-folded, for cased scripts, with the
    cities of the time-zone database as they are written in its ids (Europe/Berlin): CLDR
    lists a city under a language only where the language spells it otherwise."""
    zone_cities = {zone.rsplit("/", 1)[-1].replace("_", " ") for zone in get_global("zone_territories")}
    return frozenset(name.casefold() for name in _gazetteer(language) | zone_cities)


def _noun_capitalising_filter(
    runs: list[list[_Word]], after_title: set[str], language: str
) -> list[list[_Word]]:
    """Where every noun is capitalised, keep a one-word run only when it is a place CLDR names
    (Russland, Moskau), a word that follows a title somewhere in the text (Scholz after
    Bundeskanzler Scholz), or a word of a longer name in the same text (Merkel after Angela
    Merkel, Merkels too): what is left is most often a common noun."""
    evidence = [w.fold for run in runs if len(run) > 1 for w in run] + [*after_title]
    places = _folded_places(language)
    return [
        run
        for run in runs
        if len(run) > 1 or run[0].fold in places or any(_same_stem(run[0].fold, other) for other in evidence)
    ]


def _cased_names(text: str, tokens: Sequence[_Token], language: str) -> list[NameMention]:
    words = _cased_words(text, tokens)
    lower = {w.fold for w in words if w.kind == "lower"}
    used_as_name = {w.fold for w in words if w.kind == "cap" and not (w.initial or w.headline)}
    # _same_stem needs a shared prefix of STEM_PREFIX_MIN letters: compare within those buckets
    # only (articles with hundreds of capitalised words made this quadratic).
    by_prefix: dict[str, list[str]] = {}
    for fold in used_as_name:
        by_prefix.setdefault(fold[:STEM_PREFIX_MIN], []).append(fold)
    particles = _PARTICLES.get(language, _DEFAULT_PARTICLES)
    calendar = _calendar_words(language)
    openers = _OPENERS.get(language, frozenset())
    compound_titles = language in NOUN_CAPITALISING

    def confirmed(word: _Word) -> bool:
        """A sentence-initial capital is a name only if the word is also capitalised mid-sentence
        (in some inflection) and never written in lower case."""
        if word.fold in lower:
            return False
        return word.fold in used_as_name or any(
            _same_stem(word.fold, other) for other in by_prefix.get(word.fold[:STEM_PREFIX_MIN], ())
        )

    def is_cap(word: _Word) -> bool:
        """A capitalised word that may be a name: in a title-case headline, only with evidence."""
        return word.kind == "cap" and (not word.headline or confirmed(word))

    def droppable_head(run: list[_Word]) -> bool:
        """Whether the first word of a run is not part of the name: a particle, a title, a word
        also written in lower case, or an unconfirmed sentence-initial word that stands alone
        or is a function word."""
        head = run[0]
        if head.fold in particles or head.fold in lower or _is_title(head.fold, language):
            return True
        if head.initial and not confirmed(head):
            return len(run) == 1 or head.fold in openers
        return False

    runs: list[list[_Word]] = []
    after_title: set[str] = set()  # the first word of each name that a title preceded
    mentions: list[NameMention] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.kind == "acronym":
            found = _mention(text, word.start, word.end)
            if found:
                mentions.append(found)
            i += 1
            continue
        if not is_cap(word):
            i += 1
            continue
        run = [word]
        j = i + 1
        while j < len(words) and _joins(text, run[-1], words[j]):
            nxt = words[j]
            particle = nxt.kind == "lower" and nxt.fold in particles and j + 1 < len(words) and is_cap(words[j + 1])
            if not (is_cap(nxt) or particle):
                break
            run.append(nxt)
            j += 1
        i = j
        titled = False
        while run and droppable_head(run):
            titled = _is_title(run.pop(0).fold, language) or titled
        if titled and run:
            after_title.add(run[0].fold)
        # A title may also follow a name where nouns are capitalised (Merkels Sprecher).
        while run and (run[-1].fold in particles or (compound_titles and _is_title(run[-1].fold, language))):
            run.pop()
        if len(run) == 1 and run[0].fold in calendar:
            continue
        if len(run) > MAX_RUN_WORDS:  # a list or a title-case sentence: each word on its own
            runs.extend([w] for w in run if w.fold not in particles)
        elif run:
            runs.append(run)
    if language in NOUN_CAPITALISING:
        runs = _noun_capitalising_filter(runs, after_title, language)
    standalone = {tuple(w.fold for w in run) for run in runs}
    for run in runs:
        for a, b in _split_known([w.fold for w in run], standalone):
            found = _mention(text, run[a].start, run[b - 1].end)
            if found:
                mentions.append(found)
    return mentions


def _joins(text: str, left: _Word, right: _Word) -> bool:
    """Whether two words are close enough to belong to one name: spaces only, or the full stop
    of an initial (Timothy H.J. Nerozzi)."""
    gap = text[left.end : right.start]
    if not gap.strip(" \u00a0"):
        return len(gap) <= 2
    return gap.strip() == "." and len(left.text) == 1


def _split_known(words: list[str], standalone: set[tuple[str, ...]], offset: int = 0) -> list[tuple[int, int]]:
    """Split a run of words where it contains a name written alone elsewhere in the text, as
    (start, end) index ranges. Malay "Korea Utara Kim Jong Un" is two names because "Korea
    Utara" occurs alone; Arabic "كيم جونغ أون بوتين" too. A single word splits only from the
    middle, so that "Kim" written alone does not cut "Kim Jong Un" in two."""
    for size in range(len(words) - 1, 0, -1):
        for at in range(len(words) - size + 1):
            if size == 1 and (at == 0 or at == len(words) - 1):
                continue
            if tuple(words[at : at + size]) in standalone:
                return (
                    _split_known(words[:at], standalone, offset)
                    + [(offset + at, offset + at + size)]
                    + _split_known(words[at + size :], standalone, offset + at + size)
                )
    return [(offset, offset + len(words))] if words else []


# --- Uncased scripts ---------------------------------------------------------------------------
_AR_DIACRITICS_RE = re.compile("[\u064b-\u065f\u0670\u0640]")  # short vowels, shadda, tatweel
_AR_HAMZA_ALEFS = str.maketrans("أإآ", "ااا")


def _ar_fold(word: str) -> str:
    """Arabic spelling variants that do not make another word: short vowels and tatweel
    dropped, hamza on alef and alef maqsura unified. Other scripts pass unchanged."""
    return _AR_DIACRITICS_RE.sub("", word).translate(_AR_HAMZA_ALEFS).replace("ى", "ي")


def _folded(words: str) -> frozenset[str]:
    return frozenset(_ar_fold(w) for w in words.split())


# Title and place-type words after which a name follows (matched on the word with clitics and
# a suffixed pronoun removed: والرئيس، للسيد، زعيمها). Per language, because they are words.
_MARKERS: dict[str, frozenset[str]] = {
    "ar": _folded(
        "رئيس رئيسة زعيم زعيمة وزير وزيرة متحدث متحدثة ناطق سيد سيدة ملك ملكة أمير أميرة شيخ"
        " جنرال مستشار مستشارة سفير سفيرة نائب مدير مديرة قائد دكتور أمين مبعوث مرشد رفيق"
        " مدينة عاصمة قاعدة جزيرة ولاية منطقة مطار ميناء إقليم محافظة بلدة قرية صحيفة وكالة"
        " شركة جامعة حزب ملعب نادي مدرب لاعب مهاجم"
    ),
    "fa": _folded("رئیس\u200cجمهور رئیس وزیر سخنگوی آقای خانم رهبر سفیر شهر"),
    "ur": _folded("صدر وزیر ترجمان رہنما سفیر شہر"),
    "he": _folded("נשיא שר דובר מר גברת מנהיג שגריר עיר"),
    "hi": _folded("राष्ट्रपति प्रधानमंत्री मंत्री प्रवक्ता श्री नेता राजदूत"),
}
# Words that are never part of a name: prepositions, particles, pronouns, frequent reporting
# verbs, adverbs and time words. Written for this module from common usage; they end a name
# found after a title ("الرئيس فلاديمير بوتين على", "राष्ट्रपति पुतिन ने").
_STOPWORDS: dict[str, frozenset[str]] = {
    "ar": _folded(
        "في من إلى على عن مع بين بعد قبل منذ حتى أن إن أنه إنه أنها إنها أننا إنهم لم لن لا ما ماذا"
        " هذا هذه ذلك تلك التي الذي الذين هو هي هم هما نحن أنا كان كانت يكون تكون قد كل أي أيضا ثم"
        " أو أم بل لكن إذا كما حيث عند عندما حول خلال نحو رغم ضد دون غير بسبب وفق وفقا لدى لها له"
        " لهم عليه عليها فيه فيها منه منها إليه إليها به بها يوم أمس عام شهر سنة ساعة قال قالت"
        " أكد أعلن أضاف ذكر ذكرت أشار بينما أمام وراء فوق تحت كيف لماذا متى أين هناك هنا الآن جدا"
        " فقط بعض أكثر أقل أول آخر نفس نفسه سوف مرة مرتين إثر عبر وسط باسم بشكل مجددا دائما"
    ),
    "he": _folded("של את על עם אמר אמרה כי לא גם הוא היא זה זו אשר אל מן כל יותר היום אתמול"),
    "hi": _folded(
        "ने का की के को से में पर और है हैं था थी थे कहा कि यह वह इस उस एक भी तो ही लिए साथ बाद पहले"
        " तक द्वारा गया गई किया करने"
    ),
}
# Prepositions, conjunctions and (Hebrew) the article written onto the next word. Up to
# MAX_CLITIC_LETTERS are cut from a word when the rest is a word known otherwise (it occurs
# alone in the text, or is a place, title or stopword): ببوتين → بوتين, הנשיא → נשיא, but
# فلاديمير stays whole. Arabic has two more rules, see _clitic_letters.
_CLITICS: dict[str, str] = {"ar": "وفبلك", "he": "והבלמשכ"}
MAX_CLITIC_LETTERS = 2
# Suffixed pronouns removed to recognise a title (زعيمها: its leader).
_AR_PRONOUNS = ("هما", "هم", "ها", "كم", "نا", "ه")
# Link words after a title that introduce an organisation to skip (المتحدث باسم مجلس الأمن ...).
_AR_LINKS = _folded("باسم")
# Long vowels, hamza carriers and ta marbuta: not consonants of a root.
_AR_WEAK = frozenset("اأإآوؤيىئءة")
# The shape of a transliterated foreign name (see _looks_foreign): after the pattern letters of
# native morphology are removed, at least AR_FOREIGN_CONSONANTS consonants and AR_FOREIGN_VOWELS
# long vowels inside the word remain. Native words are built on three-consonant roots and
# write short vowels not at all; transliterations spell every vowel (فلاديفوستوك: 7 and 4).
# Measured on the Arabic samples and a football report: it finds فلاديمير، فوستوشني، بايكونور،
# لافروف، مانتوروف، ليفاندوفسكي، هيرنانديز and, wrongly, only loanwords (كيلومتر، تكنولوجيا).
AR_FOREIGN_CONSONANTS = 4
AR_FOREIGN_VOWELS = 2
# Multi-letter pattern prefixes of derived verbs and nouns (استخدام، انخرط، اتفاق، يتعلق، متطور).
_AR_PATTERN_PREFIXES = ("است", "يست", "تست", "نست", "مست", "ان", "ات", "يت", "تت", "نت", "مت")
# Plural, nisba and pronoun suffixes.
_AR_PATTERN_SUFFIXES = ("ات", "ون", "ين", "ية", "هما", "هم", "ها", "كم", "نا")
# A feminine noun with a pronoun (زيارته، مساعدتها): ة written as ت before the suffix.
_AR_FEMININE_PRONOUN = ("تهما", "تهم", "تها", "ته", "تنا", "تكم")
# Imperfect verbs: a person prefix and a dual or plural ending (يناقشان، يحاولون), at least
# AR_VERB_MIN letters (a prefix, a three-letter root, a two-letter ending less one weak letter),
# so that short names such as يون (Yoon) are not taken for verbs.
AR_VERB_MIN = 5
_AR_VERB_PREFIXES = "يتن"
_AR_VERB_SUFFIXES = ("ان", "ون", "ين")
# Derived nouns of the forms that start with a plain alef (اهتمام، انتهاك، استخدام) have at least
# this many letters; shorter alef-initial words are left alone.
AR_ALEF_NOUN_MIN = 5
_AR_TANWEEN = ("\u064b", "\u064c", "\u064d")
# Words skipped after a title before the name: adjectives and genitives (الرئيس الكوري
# الجنوبي يون سوك يول), a place, a link with its noun.
MARKER_MAX_SKIP = 5
# Words a name found next to a title may have.
NAME_MAX_WORDS = 4
# A pair of adjacent bare Arabic words occurring this often in one text is a name (كيم جونغ،
# بيونغ يانغ): a phrase of two content words usually carries the article on the second.
PAIR_MIN_COUNT = 2
# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, CJK): there,
# names are found by searching the text for places, and katakana names.
_UNSPACED_RE = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# Katakana names of foreign people are written with a middle dot between the parts (キム・ジョンウン).
_KATAKANA_NAME_RE = re.compile("[\u30a0-\u30fa\u30fc]{2,}(?:\u30fb[\u30a0-\u30fa\u30fc]{2,})+")


@functools.cache
def _gazetteer(language: str) -> frozenset[str]:
    """CLDR country and city names in a language, folded, each also without its spaces
    (بيونغ يانغ / بيونغيانغ)."""
    locale = cldr_locale(language)
    if locale is None:
        return frozenset()
    names = {name for code, name in locale.territories.items() if code.isalpha() and code not in ("ZZ", "XA", "XB")}
    names.update(zone["city"] for zone in locale.time_zones.values() if "city" in zone)
    table: set[str] = set()
    for name in names:
        words = [_ar_fold(w) for w in name.split()]
        table.update((" ".join(words), "".join(words)))
    return frozenset(table)


@dataclass(frozen=True, slots=True)
class _UWord:
    """An uncased word, with its clitics (Arabic, Hebrew) and article (Arabic) analysed."""

    token: _Token
    start: int  # where the word proper starts, after any clitic
    raw: str  # the word proper as written (marks kept)
    core: str  # folded, clitics cut, article kept
    bare: str  # core without the article
    stop: bool
    marker: bool

    @property
    def article(self) -> bool:
        return self.bare != self.core

    @property
    def clitic(self) -> bool:
        return self.start != self.token.start

    @property
    def name_like(self) -> bool:
        """Could be (part of) a name: no article, not a stopword or title, two letters or more."""
        return not (self.article or self.stop or self.marker) and len(self.bare) >= 2

    @property
    def native(self) -> bool:
        """Has the shape of a native Arabic word rather than a name (see _native_shape)."""
        return _native_shape(self.raw, self.bare)


def _uncased_names(text: str, tokens: Sequence[_Token], language: str) -> list[NameMention]:
    if not tokens:
        return []
    unspaced = sum(len(_UNSPACED_RE.findall(t.text)) for t in tokens)
    if 2 * unspaced > sum(len(t.text) for t in tokens):
        return _unspaced_names(text, language)
    words = _analyse(tokens, language)
    places = _flag_gazetteer(words, language)
    flags = list(places)
    _flag_after_markers(text, words, flags, places)
    if language == "ar":
        _flag_appositions(text, words, flags)
        for k, word in enumerate(words):
            flags[k] = flags[k] or _looks_foreign(word)
        _flag_recurring_pairs(text, words, flags)
    known = {w.bare for w, f in zip(words, flags, strict=True) if f and not w.article}
    flags = [f or (w.name_like and w.bare in known) for w, f in zip(words, flags, strict=True)]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not flags[i]:
            i += 1
            continue
        j = i + 1
        while j < len(words) and flags[j] and not words[j].clitic and _near(text, words[j - 1], words[j]):
            j += 1
        runs.append((i, j))
        i = j
    standalone = {tuple(w.bare for w in words[i:j]) for i, j in runs}
    mentions: list[NameMention] = []
    for i, j in runs:
        for a, b in _split_known([w.bare for w in words[i:j]], standalone):
            found = _mention(text, words[i + a].start, words[i + b - 1].token.end)
            if found:
                mentions.append(found)
    return mentions


def _analyse(tokens: Sequence[_Token], language: str) -> list[_UWord]:
    arabic = language == "ar"
    folded = [_ar_fold(t.text) for t in tokens]
    markers = _MARKERS.get(language, frozenset())
    stopwords = _STOPWORDS.get(language, frozenset()) | _calendar_words(language)
    known = set(folded) | _gazetteer(language) | markers | stopwords
    clitics = _CLITICS.get(language, "")
    out: list[_UWord] = []
    for token, word in zip(tokens, folded, strict=True):
        cut = _clitic_letters(_AR_DIACRITICS_RE.sub("", token.text), word, clitics, known, arabic)
        core = word[cut:]
        bare = core
        if arabic:
            for article in _ARABIC_ARTICLES:
                if core.startswith(article) and len(core) - len(article) >= _ARTICLE_MIN_REST:
                    bare = core[len(article) :]
                    break
        stem = next((bare[: -len(p)] for p in _AR_PRONOUNS if arabic and bare.endswith(p) and bare[: -len(p)] in markers), bare)
        start = _letter_offset(token, cut)
        out.append(
            _UWord(
                token=token,
                start=start,
                raw=token.text[start - token.start :],
                core=core,
                bare=bare,
                stop=word in stopwords or core in stopwords,
                marker=stem in markers,
            )
        )
    return out


def _clitic_letters(written: str, word: str, clitics: str, known: set[str], arabic: bool) -> int:
    """How many clitic letters start a word (``written`` as in the text, ``word`` folded): as
    many as leave a word known otherwise; in Arabic also one before the article (بالرئيس), and
    و before a letter other than ا، و، ي (those begin names such as واشنطن، ويليام، ووهان, while
    وأعرب، وتزايد are "and" + a word)."""
    for cut in range(1, MAX_CLITIC_LETTERS + 1):
        if len(word) - cut < 2 or word[cut - 1] not in clitics:
            break
        if word[cut:] in known:
            return cut
    if arabic and len(word) >= 3 and word[0] in clitics:
        if word[1:].startswith("ال") and len(word) >= 5:
            return 1
        if written[0] == "و" and written[1] not in "اوي":
            return 1
    return 0


def _letter_offset(token: _Token, letters: int) -> int:
    """The text offset after the first ``letters`` letters of a token (its marks skipped)."""
    seen = 0
    for k, ch in enumerate(token.text):
        if not _AR_DIACRITICS_RE.match(ch):
            if seen == letters:
                return token.start + k
            seen += 1
    return token.end


def _near(text: str, left: _UWord, right: _UWord, comma_ok: bool = False) -> bool:
    """Adjacent on one line, or (when ``comma_ok``) separated by one comma only."""
    gap = text[left.token.end : right.token.start].strip(" \u00a0\u200e\u200f")
    return gap == "" or (comma_ok and gap in ("،", ","))


def _flag_gazetteer(words: list[_UWord], language: str) -> list[bool]:
    """Words that are (part of) a CLDR country or city name, longest match first."""
    table = _gazetteer(language)
    flags = [False] * len(words)
    for i in range(len(words)):
        for size in (3, 2, 1):
            chunk = words[i : i + size]
            if len(chunk) < size or any(w.clitic for w in chunk[1:]):
                continue
            if " ".join(w.core if k == 0 else _ar_fold(w.token.text) for k, w in enumerate(chunk)) in table:
                flags[i : i + size] = [True] * size
                break
    return flags


def _flag_after_markers(text: str, words: list[_UWord], flags: list[bool], places: list[bool]) -> None:
    """Names after titles and place types: skip the adjectives and genitives (words with the
    article), places, and a link with its noun, then take the clitic-free bare words that follow."""
    for i, word in enumerate(words):
        if not word.marker:
            continue
        j, skipped = i + 1, 0
        while j < len(words) and skipped < MARKER_MAX_SKIP and _near(text, words[j - 1], words[j], skipped > 0):
            if words[j].core in _AR_LINKS:
                j += 2
            elif words[j].article or places[j]:
                j += 1
            else:
                break
            skipped += 1
        taken = 0
        while (
            j < len(words)
            and taken < NAME_MAX_WORDS
            and words[j].name_like
            and not words[j].clitic
            and not words[j].native
            and _near(text, words[j - 1], words[j])
        ):
            flags[j] = True
            taken += 1
            j += 1


def _flag_appositions(text: str, words: list[_UWord], flags: list[bool]) -> None:
    """A name just before "، <title>": ماثيو ميللر، المتحدث باسم وزارة الخارجية."""
    for i in range(1, len(words)):
        if not words[i].marker or text[words[i - 1].token.end : words[i].token.start].strip() not in ("،", ","):
            continue
        j = i - 1
        while j >= 0 and i - j <= NAME_MAX_WORDS and words[j].name_like and not words[j].clitic and not words[j].native:
            flags[j] = True
            if j == 0 or not _near(text, words[j - 1], words[j]):
                break
            j -= 1


def _native_shape(raw: str, bare: str) -> bool:
    """Whether an Arabic word has a shape that native words have and names do not: a feminine
    ending (ة, or ت + pronoun as in زيارته), an imperfect verb (يناقشان), a derived noun with a
    plain alef (اهتمام: a name would be written with hamza, أ or إ), or a tanween ending."""
    return (
        bare.endswith("ة")
        or bare.endswith(_AR_FEMININE_PRONOUN)
        or (len(bare) >= AR_VERB_MIN and bare[0] in _AR_VERB_PREFIXES and bare.endswith(_AR_VERB_SUFFIXES))
        or (raw.startswith("ا") and len(bare) >= AR_ALEF_NOUN_MIN)
        or raw.rstrip("ا").endswith(_AR_TANWEEN)
    )


def _looks_foreign(word: _UWord) -> bool:
    """Whether a bare Arabic word has the shape of a transliterated foreign name.

    After native shapes are ruled out (see _native_shape) and one pattern prefix and one
    suffix are removed (after a clitic too: باتفاق is ب + اتفاق), the word must keep
    AR_FOREIGN_CONSONANTS consonants and AR_FOREIGN_VOWELS long vowels inside it, and not be
    a broken plural CCاCيC (تقاليد، صواريخ).
    """
    if not word.name_like or word.native:
        return False
    bare = word.bare
    if bare[0] in _CLITICS["ar"] and bare[1:].startswith(_AR_PATTERN_PREFIXES):
        bare = bare[1:]
    for prefix in _AR_PATTERN_PREFIXES:
        if bare.startswith(prefix) and len(bare) - len(prefix) >= 3:
            bare = bare[len(prefix) :]
            break
    for suffix in _AR_PATTERN_SUFFIXES:
        if bare.endswith(suffix) and len(bare) - len(suffix) >= 3:
            bare = bare[: -len(suffix)]
            break
    if len(bare) == 6 and bare[2] == "ا" and bare[4] == "ي":
        return False
    consonants = sum(ch not in _AR_WEAK for ch in bare)
    vowels = sum(ch in "اوي" for ch in bare[1:-1])
    return consonants >= AR_FOREIGN_CONSONANTS and vowels >= AR_FOREIGN_VOWELS


def _pairable(word: _UWord) -> bool:
    return word.name_like and not word.native


def _flag_recurring_pairs(text: str, words: list[_UWord], flags: list[bool]) -> None:
    """Pairs of adjacent bare words that recur in the text are names (كيم جونغ، بيونغ يانغ)."""
    pairs = [
        (k, (a.bare, b.bare))
        for k, (a, b) in enumerate(itertools.pairwise(words))
        if _pairable(a) and _pairable(b) and not b.clitic and _near(text, a, b)
    ]
    counts = Counter(pair for _, pair in pairs)
    for k, pair in pairs:
        if counts[pair] >= PAIR_MIN_COUNT:
            flags[k] = flags[k + 1] = True


def _unspaced_names(text: str, language: str) -> list[NameMention]:
    """Scripts without spaces (CJK, Thai...): CLDR places found by search, and katakana names."""
    spans: list[tuple[int, int]] = []
    for place in _gazetteer(language):
        if " " in place or len(place) < 2:
            continue
        at = text.find(place)
        while at >= 0:
            spans.append((at, at + len(place)))
            at = text.find(place, at + len(place))
    spans.extend(m.span() for m in _KATAKANA_NAME_RE.finditer(text))
    mentions: list[NameMention] = []
    end_of_last = -1
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        found = _mention(text, start, end) if start >= end_of_last else None
        if found:
            mentions.append(found)
            end_of_last = end
    return mentions
