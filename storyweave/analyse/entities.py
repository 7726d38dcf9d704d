"""People, organisations and places of a story, merged across languages and scripts.

No package on PyPI ships multilingual named-entity weights, so this stage works from rules and
data that exist for every language, and leaves a plug-in point (:class:`MentionExtractor`) for
users who have a model:

* candidate names come from :func:`storyweave.names.find_names` (capitals in cased scripts;
  titles, CLDR places and the shape of foreign names in uncased ones);
* places are CLDR country and time-zone city names in the article's language and in English,
  plus ``data/gazetteer.tsv`` (aliases such as DPRK, capitals that are no time-zone city,
  well-known organisations). Forms are compared word by word, so that Albanian case endings
  (Rusia, Rusinë, Rusisë), Arabic clitics (لروسيا) and the article contracted after ل (للأمم)
  still match, and by cross-script key (فوستوتشني is Vostochny);
* organisations written as common words, which no name finder sees (مجلس الأمن القومي,
  Ministria e Mbrojtjes), are found from cue words (``data/cues.tsv``: Council, Ministria,
  مجلس, وكالة...);
* the kind of the other names follows from cue words around them: a title before (President,
  Presidenti, الرئيس), a speech verb next to them (tha Kirby, قال كيم), an organisation or place
  word inside or before them. A name of two words or more with no other evidence is a person;
  a single word needs evidence, because capitalised single words are mostly noise.

:func:`merge_entities` then groups the mentions of a story into entities: gazetteer mentions by
what they name, the others by :func:`storyweave.names.key_matches` on their keys, a bare
surname (Putin, كيم) with the full name whose last or first word it is, and an acronym with the
name it abbreviates in parentheses. Each entity gets a canonical name (the English gazetteer
name, else the fullest Latin-script form any article gives) and an id derived from its key.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

from babel.core import get_global

from ..names import NameMention, cldr_locale, find_names, is_distinctive, key_matches, name_key
from ..records import Article, Citation, Entity, Mention

__all__ = ["MentionExtractor", "extract_mentions", "merge_entities"]

PERSON, ORGANISATION, PLACE = "person", "organisation", "place"
# When the mentions of one name disagree on its kind, the most frequent kind wins; ties go to
# the first in this order (a name with no gazetteer entry is most often a person's).
KIND_ORDER = (PERSON, ORGANISATION, PLACE)

# --- Text ---------------------------------------------------------------------------------------
# Marks left out when words are compared: Latin accents (ë, é: writers drop them), and Arabic
# short vowels, hamza marks on alef and tatweel (optional in writing, see names._ar_fold).
_FOLDED_MARKS = frozenset(
    [chr(c) for c in range(0x0300, 0x0370)] + [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640"]
)
# Characters that glue two tokens into one written word: hyphens and apostrophes.
_GLUE = frozenset("-\u2010\u2011'\u2019\u02bc")
# Arabic letters written onto the next word: conjunctions و ف, prepositions ب ل ك. At most
# CLITIC_MAX_LETTERS of them; the second must be a preposition (وب، فل).
_AR_CLITICS = "وفبلك"
_AR_CONJUNCTIONS = "وف"
CLITIC_MAX_LETTERS = 2
# Two tokens of one name have at most this many characters between them (". " of "St. Paul").
ADJACENT_MAX_GAP = 3
# A full stop inside a name follows an initial or an abbreviation of at most this many letters.
ABBREVIATION_MAX_LETTERS = 2
# Languages written in Arabic script with these clitics (Persian and Urdu write them apart).
_CLITIC_LANGUAGES = frozenset({"ar"})
_AR_ARTICLE = "ال"


def _fold(text: str) -> str:
    """A word as compared: case-folded, without Latin accents or Arabic optional marks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if ch not in _FOLDED_MARKS)
    return unicodedata.normalize("NFC", kept).replace("ى", "ي")


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


def _is_latin(text: str) -> bool:
    """Whether every letter of a text is Latin script (the preferred script of canonical names)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


@dataclass(frozen=True, slots=True)
class Token:
    """A run of letters, marks and digits, with the characters between it and the previous one.

    Hyphens and apostrophes split words into tokens (OKB-së, Kim-Putin, l'ONU), which are then
    compared part by part; ``glued`` says the gap is one such character.
    """

    text: str
    start: int
    end: int
    fold: str
    gap: str

    @property
    def glued(self) -> bool:
        return len(self.gap) == 1 and self.gap in _GLUE

    @property
    def capital(self) -> bool:
        return self.text[:1].isupper()

    @property
    def cased(self) -> bool:
        first = self.text[:1]
        return first.upper() != first.lower()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n, end_of_last = 0, len(text), 0
    while i < n:
        if not _is_word_char(text[i]):
            i += 1
            continue
        start = i
        while i < n and _is_word_char(text[i]):
            i += 1
        tokens.append(Token(text[start:i], start, i, _fold(text[start:i]), text[end_of_last:start]))
        end_of_last = i
    return tokens


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _variants(word: str, language: str) -> list[tuple[int, str]]:
    """A folded word, and in Arabic the words under its clitics: (letters cut, rest). The
    article contracted after ل (للأمم = ل + الأمم) gives back the article: (0, الأمم)."""
    out = [(0, word)]
    if language not in _CLITIC_LANGUAGES or not _is_arabic(word):
        return out
    for cut in range(1, CLITIC_MAX_LETTERS + 1):
        head, rest = word[:cut], word[cut:]
        if len(rest) < 2 or any(ch not in _AR_CLITICS for ch in head):
            break
        if cut > 1 and head[0] not in _AR_CONJUNCTIONS:
            break
        out.append((cut, rest))
    for lead in ("", *_AR_CONJUNCTIONS):
        if word.startswith(lead + "لل") and len(word) > len(lead) + 3:
            out.append((len(lead), _AR_ARTICLE + word[len(lead) + 2 :]))
    return out


def _letters_offset(token: Token, letters: int) -> int:
    """The text offset after the first ``letters`` base letters of a token (marks skipped)."""
    seen = 0
    for k, ch in enumerate(token.text):
        if unicodedata.category(ch)[0] != "M":
            if seen == letters:
                return token.start + k
            seen += 1
    return token.end


def token_index(tokens: Sequence[Token], offset: int) -> int:
    """The index of the first token that ends after ``offset``."""
    return bisect.bisect_right([t.end for t in tokens], offset)


# --- Cue words (data/cues.tsv) -------------------------------------------------------------------
PREFIX_MARK = "*"


def _data_lines(name: str) -> Iterable[list[str]]:
    text = resources.files(__package__ or "storyweave.analyse").joinpath("data", name).read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


@dataclass(frozen=True, slots=True)
class _Cues:
    """The cues of one role in one language, indexed by their first and last words."""

    by_first: dict[str, tuple[tuple[str, ...], ...]]
    by_last: dict[str, tuple[tuple[str, ...], ...]]
    prefixed: tuple[tuple[str, ...], ...]  # cues with a prefix word (president*): tried everywhere


@functools.cache
def _cue_table() -> dict[tuple[str, str], _Cues]:
    table: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for language, role, words in _data_lines("cues.tsv"):
        for written in words.split():
            parts = [t.fold for t in tokenize(written.replace("+", " "))]
            if written.endswith(PREFIX_MARK):
                parts[-1] += PREFIX_MARK
            table[language, role].add(tuple(parts))
    out: dict[tuple[str, str], _Cues] = {}
    for key, found in table.items():
        first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        last: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        prefixed: list[tuple[str, ...]] = []
        for cue in sorted(found, key=len, reverse=True):
            if any(w.endswith(PREFIX_MARK) for w in cue):
                prefixed.append(cue)
            else:
                first[cue[0]].append(cue)
                last[cue[-1]].append(cue)
        out[key] = _Cues(
            {w: tuple(c) for w, c in first.items()}, {w: tuple(c) for w, c in last.items()}, tuple(prefixed)
        )
    return out


def cues(language: str, role: str) -> Iterable[tuple[str, ...]]:
    """The cue words of a role in a language (see data/cues.tsv)."""
    index = _cue_table().get((language, role))
    if index is None:
        return ()
    return [*dict.fromkeys(c for group in index.by_first.values() for c in group), *index.prefixed]


def _is_word(word: str, cue_word: str) -> bool:
    return word == cue_word or (cue_word.endswith(PREFIX_MARK) and word.startswith(cue_word[:-1]))


def _cue_fits(tokens: Sequence[Token], i: int, cue: tuple[str, ...], language: str) -> int | None:
    """The clitic letters before a cue that starts at token ``i`` (None when it does not): the
    first word may carry Arabic clitics (وقال); the words follow each other on one line."""
    if i < 0 or i + len(cue) > len(tokens):
        return None
    cut = next((c for c, w in _variants(tokens[i].fold, language) if _is_word(w, cue[0])), None)
    if cut is None:
        return None
    for k in range(1, len(cue)):
        if not _adjacent(tokens[i + k - 1], tokens[i + k]) or not _is_word(tokens[i + k].fold, cue[k]):
            return None
    return cut


def _candidates(index: _Cues, words: Iterable[str], by_first: bool) -> list[tuple[str, ...]]:
    table = index.by_first if by_first else index.by_last
    found = [c for w in dict.fromkeys(words) for c in table.get(w, ())]
    return sorted([*found, *index.prefixed], key=len, reverse=True)


def cue_at(tokens: Sequence[Token], i: int, language: str, role: str) -> int:
    """How many tokens a cue of ``role`` covers from token ``i`` (0 when there is none)."""
    index = _cue_table().get((language, role))
    if index is None:
        return 0
    for cue in _candidates(index, (w for _, w in _variants(tokens[i].fold, language)), True):
        if _cue_fits(tokens, i, cue, language) is not None:
            return len(cue)
    return 0


def cue_ending_at(tokens: Sequence[Token], last: int, language: str, role: str) -> int:
    """How many tokens a cue of ``role`` covers up to token ``last`` (0 when there is none)."""
    index = _cue_table().get((language, role))
    if index is None or last < 0:
        return 0
    for cue in _candidates(index, (w for _, w in _variants(tokens[last].fold, language)), False):
        if _cue_fits(tokens, last - len(cue) + 1, cue, language) is not None:
            return len(cue)
    return 0


def _cue_cut(token: Token, language: str, role: str) -> int:
    """The clitic letters written before a one-word cue (و of وقال), 0 when none."""
    index = _cue_table().get((language, role))
    if index is None:
        return 0
    for cue in _candidates(index, (w for _, w in _variants(token.fold, language)), True):
        cut = _cue_fits([token], 0, cue, language)
        if cut is not None:
            return cut
    return 0


def clitic_conjunction(token: Token, language: str, role: str) -> bool:
    """Whether a one-word cue carries an Arabic "and" (وقال): it opens a new clause, so the
    name before it is not its subject."""
    return _cue_cut(token, language, role) > 0 and token.fold[:1] in _AR_CONJUNCTIONS


def _adjacent(left: Token, right: Token) -> bool:
    """Next to each other in one name or phrase: spaces only, glued, or the full stop of an
    initial or a short abbreviation (D.P.R.K., St. Petersburg)."""
    gap = right.gap
    if right.glued:
        return True
    if "\n" in gap or len(gap) > ADJACENT_MAX_GAP:
        return False
    rest = gap.strip(" \u00a0")
    return rest == "" or (rest == "." and len(left.text) <= ABBREVIATION_MAX_LETTERS)


# --- Gazetteer: CLDR and data/gazetteer.tsv -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Known:
    """A place or organisation the gazetteer names, by its English name."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class _Form:
    words: tuple[str, ...]  # folded tokens
    shout: tuple[bool, ...]  # written in capitals only (an acronym): the text must be too
    capital: tuple[bool, ...]  # written with a capital: the text must be too (Rusi, not ruse)
    known: _Known


# CLDR territory codes that are not places (the EU and UN are organisations here; ZZ, XA, XB
# are "unknown" and pseudo-locales), and the numeric region "World".
_NOT_PLACES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "001"})
# Time zones whose city is no news place: Etc/*, research stations, and the three-part zones of
# US counties (America/Indiana/Knox, America/North_Dakota/Center).
_SKIPPED_ZONES = ("Etc/", "Antarctica/")
# Time-zone cities whose English name is more often a word or a person's name in the news.
_AMBIGUOUS_CITIES = frozenset(
    "Oral Resolute Regina Stanley Darwin Midway Chatham Dawson Lindeman Wallis Sark Canary Creston Menominee".split()
)
# Languages whose names inflect at the end (Albanian Rusinë, Russian Путина, Finnish Moskovassa):
# there, a capitalised form also matches a word that keeps all its letters but the last one,
# and at least INFLECTION_STEM_MIN, and adds at most INFLECTION_SUFFIX_MAX (Kore → Koresë,
# Moskë → Moska, Shtetet → Shteteve). Measured on the Albanian samples: a looser rule (three
# shared letters) takes Sergei for Serbia, Mark for Maroko and Gazeta for Gaza.
INFLECTING = frozenset(
    "sq ru uk be pl cs sk sl hr sr bs mk bg lt lv et fi hu tr az el ro de is hy ka la".split()
)
INFLECTION_STEM_MIN = 4
INFLECTION_SUFFIX_MAX = 3
# Forms and mentions are compared on the first letters of their first word (index buckets).
BUCKET_LETTERS = 2
# A one-word skeleton key needs this many letters to match a gazetteer form in another script.
KEY_MATCH_MIN_LETTERS = 5


def _cldr_places(language: str) -> list[tuple[str, str]]:
    """(form, English name) of CLDR countries, regions and time-zone cities in a language."""
    english, locale = cldr_locale("en"), cldr_locale(language)
    if english is None or locale is None:
        return []
    out = [
        (name, english.territories[code])
        for code, name in locale.territories.items()
        if code not in _NOT_PLACES and code in english.territories
    ]
    for zone in get_global("zone_territories"):
        if zone.count("/") != 1 or zone.startswith(_SKIPPED_ZONES):
            continue
        english_city = english.time_zones.get(zone, {}).get("city") or zone.split("/")[1].replace("_", " ")
        city = english_city if language == "en" else locale.time_zones.get(zone, {}).get("city")
        if city and english_city not in _AMBIGUOUS_CITIES:
            out.append((city, english_city))
    return out


@functools.cache
def _gazetteer_rows() -> tuple[tuple[str, str, str, str], ...]:
    """(kind, English name, language, form) of data/gazetteer.tsv."""
    return tuple(
        (kind, name, language, form)
        for kind, name, language, forms in _data_lines("gazetteer.tsv")
        for form in forms.split("|")
    )


def _make_form(form: str, known: _Known) -> _Form | None:
    tokens = tokenize(form)
    if not tokens:
        return None
    return _Form(
        tuple(t.fold for t in tokens),
        tuple(len(t.text) > 1 and t.text.isupper() for t in tokens),
        tuple(t.capital for t in tokens),
        known,
    )


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    buckets: dict[str, tuple[_Form, ...]]  # first letters of the first word -> forms, longest first
    keys: dict[str, tuple[tuple[str, _Known], ...]]  # skeleton key -> (script of the form, what it names)
    key_buckets: dict[str, tuple[str, ...]]  # _key_bucket -> skeleton keys that may match there
    acronyms: dict[str, _Known]  # acronym key -> what it names


def _script(text: str) -> str:
    """The Unicode script of a text's first letter (LATIN, ARABIC, CYRILLIC...)."""
    first = next((ch for ch in text if ch.isalpha()), "")
    return unicodedata.name(first, "").split(" ")[0]


@functools.cache
def _gazetteer(language: str) -> _Gazetteer:
    """Forms for a language: CLDR in it and in English, and the gazetteer.tsv rows for it, for
    any language and for English. Skeleton keys also come from the rows of every other language,
    so that a name written in another script is still recognised (Вашингтон in a Malay text)."""
    entries: list[tuple[str, _Known]] = []
    for lang in dict.fromkeys((language, "en")):
        entries.extend((form, _Known(PLACE, name)) for form, name in _cldr_places(lang))
    rows = _gazetteer_rows()
    entries.extend((form, _Known(kind, name)) for kind, name, lang, form in rows if lang in (language, "en", "*"))
    # The English name itself is a form everywhere (Vostochny, Kremlin in a Malay text).
    entries.extend((name, _Known(kind, name)) for kind, name, _, _ in rows)
    buckets: dict[str, list[_Form]] = defaultdict(list)
    acronyms: dict[str, _Known] = {}
    for form, known in entries:
        for written in _spellings(form):
            made = _make_form(written, known)
            if made is not None:
                buckets[made.words[0][:BUCKET_LETTERS]].append(made)
        key = name_key(form)
        if key.isupper() and is_distinctive(key):
            acronyms.setdefault(key, known)
    keys: dict[str, dict[tuple[str, _Known], None]] = defaultdict(dict)
    for form, known in [*entries, *((form, _Known(kind, name)) for kind, name, _, form in rows)]:
        key = name_key(form)
        if not key.isupper() and _key_usable(key):
            keys[key][_script(form), known] = None
    key_buckets: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        key_buckets[_key_bucket(key)].append(key)
    return _Gazetteer(
        {k: tuple(sorted(v, key=lambda f: -len(f.words))) for k, v in buckets.items()},
        {k: tuple(v) for k, v in keys.items()},
        {k: tuple(v) for k, v in key_buckets.items()},
        acronyms,
    )


def _key_bucket(key: str) -> str:
    """Keys that key_matches may join share all words but the last, and two letters of that."""
    head, _, last = key.rpartition(" ")
    return f"{head}|{last[:2]}"


def _spellings(form: str) -> tuple[str, ...]:
    """A form, and in an uncased script also without its spaces: transliterations of syllabic
    names are written both ways (بيونغ يانغ / بيونغيانغ)."""
    words = form.split()
    if len(words) > 1 and form[:1].upper() == form[:1].lower():
        return form, "".join(words)
    return (form,)


def _key_usable(key: str) -> bool:
    """Skeleton keys used across scripts: distinctive, and a single word needs more letters,
    since a one-word skeleton of four letters is often some other word's (brtn: Britain, but
    also Malay Pertahanan)."""
    return is_distinctive(key) and (" " in key or len(key) >= KEY_MATCH_MIN_LETTERS)


def _words_match(token: Token, form: _Form, k: int, language: str, inflects: bool) -> tuple[int, bool] | None:
    """Whether a token matches word ``k`` of a form: (clitic letters cut, exact) or None.

    Clitics are allowed on the first word only, the contracted article (للأمم) anywhere; link
    words stand for each other (Koresë së Veriut, Kore e Veriut); in inflecting languages a
    capitalised word may change its ending."""
    word = form.words[k]
    if form.shout[k] and not token.text.isupper():
        return None
    if form.capital[k] and token.cased and not token.capital:
        return None
    found = _variants(token.fold, language)
    if k > 0:
        found = [(cut, w) for cut, w in found if cut == 0]
    for cut, folded in found:
        if folded == word:
            return cut, True
    if not token.cased:
        return None
    if word in _links(language) and token.fold in _links(language):
        return 0, True
    if inflects and form.capital[k] and not form.shout[k] and _inflected(token.fold, word):
        return 0, False
    return None


@functools.cache
def _links(language: str) -> frozenset[str]:
    return frozenset(cue[0] for cue in cues(language, "link") if len(cue) == 1)


def _inflected(word: str, form_word: str) -> bool:
    shared = 0
    while shared < min(len(word), len(form_word)) and word[shared] == form_word[shared]:
        shared += 1
    return shared >= max(INFLECTION_STEM_MIN, len(form_word) - 1) and len(word) - shared <= INFLECTION_SUFFIX_MAX


def _match_known(tokens: Sequence[Token], i: int, language: str) -> tuple[int, int, _Known] | None:
    """The longest gazetteer form that starts at token ``i``: (end token, clitic letters cut
    from token i, what it names); an exact match wins over an inflected one of the same length."""
    gazetteer = _gazetteer(language)
    inflects = language in INFLECTING
    best: tuple[int, bool, int, _Known] | None = None
    for bucket in dict.fromkeys(w[:BUCKET_LETTERS] for _, w in _variants(tokens[i].fold, language)):
        for form in gazetteer.buckets.get(bucket, ()):
            size = len(form.words)
            if (best is not None and size < best[0]) or i + size > len(tokens):
                continue
            cut, exact = 0, True
            for k in range(size):
                token = tokens[i + k]
                if k and not _adjacent(tokens[i + k - 1], token):
                    break
                found = _words_match(token, form, k, language, inflects)
                if found is None:
                    break
                cut = found[0] if k == 0 else cut
                exact = exact and found[1]
            else:
                if best is None or (size, exact) > (best[0], best[1]):
                    best = (size, exact, cut, form.known)
    return None if best is None else (i + best[0], best[2], best[3])


def _known_by_key(surface: str, key: str, language: str) -> _Known | None:
    """What a name names in the gazetteer by its key: an acronym by its letters; a skeleton key
    (inflection allowed) only across scripts, or within an uncased script, whose spellings of
    foreign names vary (فوستوتشني / فوستوشني). Within a cased script, words are compared as
    written (_match_known): two Latin words with one skeleton are usually two words."""
    gazetteer = _gazetteer(language)
    if key.isupper():
        return gazetteer.acronyms.get(key)
    if not _key_usable(key):
        return None
    own = _script(surface)
    cased = surface[:1].upper() != surface[:1].lower()
    for other in gazetteer.key_buckets.get(_key_bucket(key), ()):
        if key_matches(key, other):
            for form_script, known in gazetteer.keys[other]:
                if form_script != own or not cased:
                    return known
    return None


def _resolve_known(text: str, language: str) -> _Known | None:
    """What a mention names in the gazetteer: the whole mention is one form, or its key is."""
    tokens = tokenize(text)
    if tokens:
        found = _match_known(tokens, 0, language)
        if found is not None and found[0] == len(tokens):
            return found[2]
    return _known_by_key(text, name_key(text), language)


# --- Extraction ----------------------------------------------------------------------------------
class MentionExtractor(Protocol):
    """Anything that finds the mentions of an article: :func:`extract_mentions`, or a model."""

    def __call__(self, article: Article) -> list[Mention]: ...


# Organisation names in uncased scripts: a cue word (مجلس, وكالة) and up to this many words
# with the article after it (مجلس الأمن القومي، وكالة الأنباء المركزية الكورية الشمالية).
ORG_RUN_MAX_WORDS = 5
# Cue words before a name count when at most this many words stand between: lower-case or
# article-bearing modifiers (Presidentin rus Vladimir Putin, الرئيس الكوري الجنوبي يون سوك يول).
CUE_MAX_GAP = 3
# A surname found after a speech verb or title in an uncased script needs this many skeleton
# letters: shorter skeletons are those of particles (عن and إن give n, the last word of Kim
# Jong Un).
SURNAME_MIN_LETTERS = 3
# A single word with a title before it is a person only if the article writes it at least this
# often: a one-off capitalised word after a title is as often a portfolio (Menteri Pertahanan).
TITLED_WORD_MIN_COUNT = 2


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    kind: str


def extract_mentions(article: Article) -> list[Mention]:
    """The people, organisations and places an article names, with exact spans of its body.

    Gazetteer forms first (longest first), then organisation runs of uncased scripts, then the
    remaining candidate names of :func:`storyweave.names.find_names`, classified by cue words.
    Names that no rule vouches for are left out.
    """
    text, language = article.body, article.language
    tokens = tokenize(text)
    names = _trim_titles(tokens, language, _split_compounds(find_names(text, language)))
    spans = _known_spans(text, tokens, language, names)
    spans += _organisation_runs(tokens, language, spans)
    spans += _classified_names(text, tokens, language, names, spans)
    spans.sort(key=lambda s: (s.start, -s.end))
    mentions: list[Mention] = []
    end_of_last = -1
    for span in spans:
        surface = text[span.start : span.end]
        key = name_key(surface)
        if span.start >= end_of_last and key:
            mentions.append(Mention(surface, span.kind, key, Citation(article.id, span.start, span.end)))
            end_of_last = span.end
    return mentions


def _split_compounds(names: list[NameMention]) -> list[NameMention]:
    """Split hyphenated names whose parts the text writes alone (a "Kim-Putin" meeting), but not
    those whose parts it does not (Kim Jong-un)."""
    alone = {n.text for n in names}
    out: list[NameMention] = []
    for name in names:
        parts = name.text.replace("\u2010", "-").split("-")
        if len(parts) > 1 and all(p in alone for p in parts):
            at = name.start
            for part in parts:
                out.append(NameMention(part, at, at + len(part), name_key(part)))
                at += len(part) + 1
        else:
            out.append(name)
    return out


def _trim_titles(tokens: Sequence[Token], language: str, names: list[NameMention]) -> list[NameMention]:
    """Cut title words the name finder left at the front of a name (Bundeskanzler Scholz)."""
    out: list[NameMention] = []
    for name in names:
        first, last = token_index(tokens, name.start), token_index(tokens, name.end - 1)
        size = cue_at(tokens, first, language, "title") if tokens[first].capital else 0
        if 0 < size <= last - first:
            start = tokens[first + size].start
            rest = name.text[start - name.start :]
            name = NameMention(rest, start, name.end, name_key(rest))
        out.append(name)
    return out


def _overlaps(start: int, end: int, spans: Iterable[_Span]) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _known_spans(text: str, tokens: Sequence[Token], language: str, names: Sequence[NameMention]) -> list[_Span]:
    """Gazetteer forms in the text, except, in a cased script, where a longer name says
    otherwise: a form inside it but not at its start (Jordan of Michael Jordan), a form anywhere
    in an organisation's name (Washington of Washington Post), and a one-word form that is the
    first or last word of a personal name of the article (Darwin, after Charles Darwin)."""
    found: list[tuple[int, int, int, _Known]] = []  # start, end, tokens, what it names
    i = 0
    while i < len(tokens):
        match = _match_known(tokens, i, language)
        if match is None:
            i += 1
            continue
        end_token, cut, known = match
        found.append((_letters_offset(tokens[i], cut), tokens[end_token - 1].end, end_token - i, known))
        i = end_token
    starts = {start for start, _, _, _ in found}
    longer = [n for n in names if token_index(tokens, n.end - 1) > token_index(tokens, n.start)]
    organisations = [n for n in longer if cue_ending_at(tokens, token_index(tokens, n.end - 1), language, "org_tail")]
    personal = {
        word.casefold()
        for n in longer
        if n.start not in starts
        and n not in organisations
        and not cue_at(tokens, token_index(tokens, n.start), language, "org_head")
        for word in (n.text.split()[0], n.text.split()[-1])
    }
    spans: list[_Span] = []
    for start, end, size, known in found:
        if not tokens[token_index(tokens, start)].cased:
            spans.append(_Span(start, end, known.kind))
            continue
        inside = any(n.start < start < n.end for n in names)
        in_organisation = any(
            n.start <= start and end <= n.end and (n.start, n.end) != (start, end) for n in organisations
        )
        a_name = size == 1 and text[start:end].casefold() in personal
        if not (inside or in_organisation or a_name or _code_name(text, end)):
            spans.append(_Span(start, end, known.kind))
    return spans


def _code_name(text: str, end: int) -> bool:
    """An acronym followed by a hyphen and a number is a code name (COVID-19, MH-17), not a name."""
    return text[end : end + 1] in ("-", "\u2010") and text[end + 1 : end + 2].isdigit()


def _organisation_runs(tokens: Sequence[Token], language: str, taken: list[_Span]) -> list[_Span]:
    """Organisations of uncased scripts: an organisation word (without the article) and the
    article-bearing words that follow it (وزارة الخارجية الأمريكية)."""
    spans: list[_Span] = []
    for i, token in enumerate(tokens):
        if token.cased or not cue_at(tokens, i, language, "org_head"):
            continue
        j = i + 1
        while (
            j < len(tokens)
            and j - i <= ORG_RUN_MAX_WORDS
            and _adjacent(tokens[j - 1], tokens[j])
            and any(cut == 0 and w.startswith(_AR_ARTICLE) for cut, w in _variants(tokens[j].fold, language))
        ):
            j += 1
        start = _letters_offset(token, _cue_cut(token, language, "org_head"))
        if j > i + 1 and not _overlaps(start, tokens[j - 1].end, [*taken, *spans]):
            spans.append(_Span(start, tokens[j - 1].end, ORGANISATION))
    return spans


def _classified_names(
    text: str, tokens: Sequence[Token], language: str, names: Sequence[NameMention], taken: list[_Span]
) -> list[_Span]:
    """Candidate names not covered by the gazetteer, each given a kind or left out."""
    free = [n for n in names if not _overlaps(n.start, n.end, taken)]
    counts = Counter(n.key for n in free)
    judged = [(name, _kind_of(text, tokens, language, name)) for name in free]
    persons = [n.key.split(" ") for n, kind in judged if kind == PERSON and " " in n.key]
    spans: list[_Span] = []
    for name, kind in judged:
        if " " not in name.key and kind in (None, PERSON):
            kind = _single_word_kind(tokens, language, name, persons, titled=kind == PERSON, count=counts[name.key])
        if kind is None:
            continue
        start = _organisation_start(tokens, language, name) if kind == ORGANISATION else name.start
        if not _overlaps(start, name.end, [*taken, *spans]):
            spans.append(_Span(start, name.end, kind))
    spans += _surnames_by_cues(tokens, language, persons, [*taken, *spans])
    return _join_organisations(tokens, language, spans)


def _kind_of(text: str, tokens: Sequence[Token], language: str, name: NameMention) -> str | None:
    """The kind of a candidate name from its own evidence; None for a single word without any.

    Organisation and place words count at the edges of names of two words or more (a word
    such as Forum alone is no name), or as a common noun just before the name."""
    first, last = token_index(tokens, name.start), token_index(tokens, name.end - 1)
    if name.key.isupper():
        if _code_name(text, name.end):
            return None
        known = _known_by_key(name.text, name.key, language)
        return known.kind if known else ORGANISATION
    several = last > first
    if (
        (several and (cue_at(tokens, first, language, "org_head") or cue_ending_at(tokens, last, language, "org_tail")))
        or _cue_before(tokens, first, language, "org_type")
        or _organisation_start(tokens, language, name) < name.start
    ):
        return ORGANISATION
    if (several and cue_at(tokens, first, language, "place_head")) or _cue_before(
        tokens, first, language, "place_type"
    ):
        return PLACE
    if " " in name.key:
        known = _known_by_key(name.text, name.key, language)
        return known.kind if known else PERSON
    return PERSON if _cue_before(tokens, first, language, "title") else None


def _single_word_kind(
    tokens: Sequence[Token], language: str, name: NameMention, persons: list[list[str]], *, titled: bool, count: int
) -> str | None:
    """A single word is a person when it is the last or first word of a full name in the same
    article (Putin, Kim); else a place or organisation when the gazetteer knows its key (places
    speak too: وأشارت بيونغيانغ); else a person when it stands next to a speech verb (tha
    Kirby) or has a title before it and recurs; else noise."""
    key = name.key
    if _is_surname(key, persons):
        return PERSON
    known = _known_by_key(name.text, key, language)
    if known is not None:
        return known.kind
    first, last = token_index(tokens, name.start), token_index(tokens, name.end - 1)
    if _speech_next_to(tokens, first, last, language) or (titled and count >= TITLED_WORD_MIN_COUNT):
        return PERSON
    return None


def _is_surname(key: str, persons: Sequence[Sequence[str]]) -> bool:
    return any(key_matches(key, words[-1]) or key_matches(key, words[0]) for words in persons)


def _surnames_by_cues(
    tokens: Sequence[Token], language: str, persons: Sequence[Sequence[str]], taken: list[_Span]
) -> list[_Span]:
    """In an uncased script, a word just after a speech verb or a title that is the surname of a
    full name of the article (وحذر ميلر after ماثيو ميللر): the name finder has no capital to
    go by there, and a surname alone has no foreign shape to recognise."""
    spans: list[_Span] = []
    for i in range(1, len(tokens)):
        token = tokens[i]
        if token.cased or not _adjacent(tokens[i - 1], token) or _overlaps(token.start, token.end, [*taken, *spans]):
            continue
        if not any(cue_ending_at(tokens, i - 1, language, role) for role in (*_SPEECH_ROLES, "title")):
            continue
        for cut, word in _variants(token.fold, language):
            key = name_key(word)
            if len(key) >= SURNAME_MIN_LETTERS and _is_surname(key, persons):
                spans.append(_Span(_letters_offset(token, cut), token.end, PERSON))
                break
    return spans


# Cue roles whose verb stands next to its speaker's name: evidence that the name is a person's.
_SPEECH_ROLES = ("speech", "tell", "according")


def _speech_next_to(tokens: Sequence[Token], first: int, last: int, language: str) -> bool:
    """A speech verb just after the name (Kirby said) or just before it, titles allowed between
    (tha Kirby, قال كيم, sagte Bundeskanzler Scholz)."""
    if last + 1 < len(tokens) and _adjacent(tokens[last], tokens[last + 1]):
        if any(cue_at(tokens, last + 1, language, role) for role in _SPEECH_ROLES):
            return True
    j = first - 1
    while j >= 0 and _adjacent(tokens[j], tokens[j + 1]):
        if any(cue_ending_at(tokens, j, language, role) for role in _SPEECH_ROLES):
            return True
        size = cue_ending_at(tokens, j, language, "title")
        if not size:
            return False
        j -= size
    return False


def _cue_before(tokens: Sequence[Token], first: int, language: str, role: str) -> bool:
    """A cue word ends at most CUE_MAX_GAP modifier words before token ``first``, on the same
    line: lower-case words in a cased script, words with the Arabic article in an uncased one
    (quotation marks between are not tokens: Gazeta koreanojugore “Chosun Ilbo”)."""
    j = first - 1
    for _ in range(CUE_MAX_GAP + 1):
        if j < 0 or "\n" in tokens[j + 1].gap:
            return False
        if cue_ending_at(tokens, j, language, role):
            return True
        token = tokens[j]
        if not ((token.cased and not token.capital) or (not token.cased and token.fold.startswith(_AR_ARTICLE))):
            return False
        j -= 1
    return False


def _organisation_start(tokens: Sequence[Token], language: str, name: NameMention) -> int:
    """Where an organisation name starts when an organisation word that the name finder took
    for a title stands before it, with link words between (Ministria e Mbrojtjes)."""
    first = token_index(tokens, name.start)
    j = first - 1
    while j >= 0 and tokens[j].cased and not tokens[j].capital and cue_at(tokens, j, language, "link"):
        j -= 1
    if j < 0 or not tokens[j].capital or not cue_at(tokens, j, language, "org_head"):
        return name.start
    if not all(_adjacent(tokens[k], tokens[k + 1]) for k in range(j, first)):
        return name.start
    return tokens[j].start


def _join_organisations(tokens: Sequence[Token], language: str, spans: list[_Span]) -> list[_Span]:
    """Join an organisation and a name after it across one link word (Instituti Ndërkombëtar
    për Studime Strategjik): organisation names run on where personal names do not."""
    spans.sort(key=lambda s: s.start)
    out: list[_Span] = []
    for span in spans:
        if out and out[-1].kind == ORGANISATION:
            k = token_index(tokens, out[-1].end)
            if (
                k + 1 < len(tokens)
                and tokens[k + 1].start == span.start
                and _adjacent(tokens[k - 1], tokens[k])
                and _adjacent(tokens[k], tokens[k + 1])
                and not tokens[k].capital
                and cue_at(tokens, k, language, "link")
            ):
                out[-1] = _Span(out[-1].start, span.end, ORGANISATION)
                continue
        out.append(span)
    return out


# --- Merging -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Item:
    mention: Mention
    language: str
    article: int  # index in the story
    known: _Known | None


def merge_entities(articles: Sequence[Article], extractor: MentionExtractor = extract_mentions) -> list[Entity]:
    """One entity per person, organisation and place of a story, whatever the languages.

    Mentions are grouped: gazetteer mentions by what they name; other names by equal or
    inflected keys (:func:`storyweave.names.key_matches`, same number of words); an acronym
    with the name written just before it in parentheses (Agjencia e Lajmeve Qendrore Koreane
    (KCNA)); a bare word with the full name whose last (else first) word it is, preferring a
    name of the same article. In a story of several articles, a group from one article whose
    key is short (not :func:`~storyweave.names.is_distinctive`) and that the gazetteer does not
    know is dropped: short skeletons match by chance. Entities come most-mentioned first.
    """
    items = [
        _Item(mention, article.language, index, _known_of(mention, article.language))
        for index, article in enumerate(articles)
        for mention in extractor(article)
    ]
    groups = _group(items, articles)
    entities: list[Entity] = []
    for members in groups:
        known = next((it.known for it in members if it.known), None)
        if len(articles) > 1 and known is None and len({it.article for it in members}) == 1:
            if not is_distinctive(name_key(_canonical_name(members))):
                continue
        entities.append(_entity(members, known))
    entities.sort(key=lambda e: (-len({m.citation.article_id for m in e.mentions}), -len(e.mentions), e.name))
    _unique_ids(entities)
    return entities


def _known_of(mention: Mention, language: str) -> _Known | None:
    """The gazetteer entry of a mention, when it is of the kind the extractor gave (a model may
    know that this Georgia is a person)."""
    known = _resolve_known(mention.text, language)
    return known if known is not None and known.kind == mention.kind else None


def _group(items: Sequence[_Item], articles: Sequence[Article]) -> list[list[_Item]]:
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    by_known: dict[_Known, int] = {}
    by_key: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.known is not None:
            union(i, by_known.setdefault(item.known, i))
        else:
            union(i, by_key.setdefault(item.mention.key, i))
    # Full names whose keys differ by an inflection (single words such as Putinit join below).
    buckets: dict[str, list[str]] = defaultdict(list)
    for key in by_key:
        if " " in key and not key.isupper():
            buckets[_key_bucket(key)].append(key)
    for keys in buckets.values():
        for a, key_a in enumerate(keys):
            for key_b in keys[a + 1 :]:
                if key_matches(key_a, key_b):
                    union(by_key[key_a], by_key[key_b])
    _join_acronyms(items, articles, union)
    _attach_bare_words(items, find, union)
    grouped: dict[int, list[_Item]] = defaultdict(list)
    for i, item in enumerate(items):
        grouped[find(i)].append(item)
    return list(grouped.values())


def _join_acronyms(items: Sequence[_Item], articles: Sequence[Article], union: Callable[[int, int], None]) -> None:
    """An acronym in parentheses right after a name abbreviates it: Name (ACR)."""
    order = sorted(range(len(items)), key=lambda i: (items[i].article, items[i].mention.citation.start))
    for before, i in itertools.pairwise(order):
        item = items[i]
        if item.article != items[before].article or not item.mention.key.isupper():
            continue
        body, citation = articles[item.article].body, item.mention.citation
        between = body[items[before].mention.citation.end : citation.start]
        if body[citation.end : citation.end + 1] == ")" and between.strip(" \u00a0") == "(":
            union(i, before)


def _attach_bare_words(items: Sequence[_Item], find: Callable[[int], int], union: Callable[[int, int], None]) -> None:
    """Join single-word person names to the full name that ends (or, for names written family
    name first, starts) with them; among several, the one in the same articles, then the most
    mentioned."""
    full: dict[int, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        if item.known is None and item.mention.kind == PERSON and " " in item.mention.key:
            full[find(i)].append(i)
    bare: dict[int, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        key = item.mention.key
        if item.known is None and item.mention.kind == PERSON and " " not in key and not key.isupper():
            bare[find(i)].append(i)
    for root, members in bare.items():
        key = items[members[0]].mention.key
        articles = {items[i].article for i in members}
        for position in (-1, 0):
            candidates = [
                r for r, names in full.items()
                if any(key_matches(key, items[n].mention.key.split(" ")[position]) for n in names)
            ]
            if candidates:
                best = max(
                    candidates, key=lambda r: (len(articles & {items[n].article for n in full[r]}), len(full[r]))
                )
                union(root, best)
                break


def _canonical_name(members: Sequence[_Item]) -> str:
    """The fullest form: most words, then most frequent, then longest; Latin script preferred."""
    forms = [it.mention.text for it in members]
    latin = [f for f in forms if _is_latin(f)] or forms
    counts = Counter(latin)
    return max(dict.fromkeys(latin), key=lambda f: (len(name_key(f).split(" ")), counts[f], len(f)))


def _entity(members: Sequence[_Item], known: _Known | None) -> Entity:
    ordered = sorted(members, key=lambda it: (it.article, it.mention.citation.start))
    if known is not None:
        name, kind = known.name, known.kind
    else:
        name = _canonical_name(ordered)
        votes = Counter(it.mention.kind for it in ordered)
        kind = max(KIND_ORDER, key=lambda k: (votes[k], -KIND_ORDER.index(k)))
    forms: dict[str, list[str]] = {}
    for it in ordered:
        same = forms.setdefault(it.language, [])
        if it.mention.text not in same:
            same.append(it.mention.text)
    key = name_key(name) or _fold(name)
    return Entity("e_" + key.replace(" ", "_"), name, kind, forms, [it.mention for it in ordered])


def _unique_ids(entities: list[Entity]) -> None:
    """Two entities of one story with one key (rare: a person and a place) get numbered ids."""
    seen: Counter[str] = Counter()
    for entity in entities:
        seen[entity.id] += 1
        if seen[entity.id] > 1:
            entity.id = f"{entity.id}_{seen[entity.id]}"
