"""``storyweave eval timelines``: timeline summarisation on ML-Crisis, scored as the tilse toolkit does.

For each (language, topic) all documents of the topic are one story. A timeline of ``k`` dates
(``k`` = the reference's number of dates) with ``n`` sentences per date (``n`` = the reference's
average, rounded) is built two ways and scored against the reference:

* storyweave: dates mentioned in the texts (resolved by :mod:`storyweave.analyse.timeline`), each
  scored by the number of distinct documents that mention it within LOOKBACK_DAYS before their
  publication, plus the documents published on it; for each chosen date, the sentences most
  central (word-overlap cosine) among those that mention it.
* baseline: the busiest publication days and the first sentences of their documents.

Metrics (Martschat & Markert 2017, 2018; re-implemented from their definitions in tilse, a single
reference timeline): date-selection F1; concat, agreement and align+ m:1 ROUGE-1/2 F1. ROUGE-N
here tokenises with a Unicode word pattern, lower-cased, with no stemming and no stop-word
removal (tilse runs ROUGE-1.5.5 with the English Porter stemmer and stop-word list, which fit no
other language), and counts n-grams inside sentences.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from storyweave.analyse.sentences import sentence_spans
from storyweave.analyse.timeline import extract_events
from storyweave.eval.metrics import format_table
from storyweave.eval.mlcrisis import Timeline, load_mlcrisis, load_mlcrisis_references
from storyweave.pipeline import prepare
from storyweave.records import Article, DatePrecision

__all__ = [
    "METRICS",
    "agreement_rouge",
    "alignment_rouge",
    "baseline_timeline",
    "concat_rouge",
    "date_f1",
    "evaluate_timelines",
    "format_timeline_table",
    "rouge_counts",
    "score_timeline",
    "storyweave_timeline",
]

# A document's mention of a date counts towards choosing it only if the date lies at most this
# many days before the document's publication (and not after it): news recounts the last weeks
# and months, while older dates are background (anniversaries, "since 2001") and later ones are
# schedules or a page's furniture. 60, 90 and 180 days give close figures on the development
# topics; 90 days, a quarter, sits in the middle.
LOOKBACK_DAYS = 90

# Sentences shorter than this many words are headings, captions and credits, not summaries of a
# day; longer than the upper bound they are run-on text without punctuation (tweets, lists).
MIN_SENTENCE_WORDS = 6
MAX_SENTENCE_WORDS = 60

# The metric names, in table order.
METRICS = ("date_f1", "concat_r1", "concat_r2", "agreement_r1", "agreement_r2", "align_r1", "align_r2")

_WORD = re.compile(r"\w+")


# --- ROUGE and date F1 ----------------------------------------------------------------------------


def _tokens(sentence: str) -> list[str]:
    return _WORD.findall(sentence.casefold())


def _ngrams(sentences: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for sentence in sentences:
        tokens = _tokens(sentence)
        counts.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return counts


def rouge_counts(candidate: Sequence[str], reference: Sequence[str], n: int) -> tuple[int, int, int]:
    """(matched n-grams, candidate n-grams, reference n-grams): the counts ROUGE-N is made of.

    A matched n-gram counts as often as it occurs in both (the clipped count of ROUGE-1.5.5 with
    one reference).
    """
    cand, ref = _ngrams(candidate, n), _ngrams(reference, n)
    return sum((cand & ref).values()), sum(cand.values()), sum(ref.values())


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def date_f1(predicted: Timeline, reference: Timeline) -> float:
    """F1 of the predicted dates against the reference dates, as sets."""
    pred, ref = {d for d, _ in predicted}, {d for d, _ in reference}
    both = len(pred & ref)
    return _f1(_ratio(both, len(pred)), _ratio(both, len(ref)))


def concat_rouge(predicted: Timeline, reference: Timeline, n: int) -> float:
    """ROUGE-N F1 of all predicted sentences against all reference sentences, dates ignored."""
    matched, cand, ref = rouge_counts(
        [s for _, sents in predicted for s in sents], [s for _, sents in reference for s in sents], n
    )
    return _f1(_ratio(matched, cand), _ratio(matched, ref))


def agreement_rouge(predicted: Timeline, reference: Timeline, n: int) -> float:
    """ROUGE-N F1 counting only n-grams that match on the same date.

    Precision sums the matches over the predicted dates and divides by all predicted n-grams;
    recall divides the same matches by all reference n-grams.
    """
    ref_by_date = dict(reference)
    matched = sum(rouge_counts(sents, ref_by_date.get(d, []), n)[0] for d, sents in predicted)
    cand = sum(rouge_counts(sents, [], n)[1] for _, sents in predicted)
    ref = sum(rouge_counts([], sents, n)[2] for _, sents in reference)
    return _f1(_ratio(matched, cand), _ratio(matched, ref))


def _approximate_rouge1(candidate: Sequence[str], reference: Sequence[str]) -> float:
    matched, cand, ref = rouge_counts(candidate, reference, 1)
    return _f1(_ratio(matched, cand), _ratio(matched, ref))


def _aligned(source: Timeline, target: Timeline, source_is_predicted: bool) -> list[tuple[int, int]]:
    """For each date of ``source``, the index of the ``target`` date it is aligned to (m:1).

    The cost of a pair is (1 - 1 / (days apart + 1)) * (1 - approximate ROUGE-1 F1 of the two
    summaries): the same date costs nothing, a near date with similar content little. Each source
    date takes its cheapest target, the earliest on ties.
    """
    pairs = []
    for i, (day, sents) in enumerate(source):
        costs = []
        for other_day, other_sents in target:
            date_cost = 1 - 1 / (abs((day - other_day).days) + 1)
            pred, ref = (sents, other_sents) if source_is_predicted else (other_sents, sents)
            costs.append(date_cost * (1 - _approximate_rouge1(pred, ref)))
        pairs.append((i, min(range(len(costs)), key=costs.__getitem__)))
    return pairs


def alignment_rouge(predicted: Timeline, reference: Timeline, n: int) -> float:
    """align+ m:1 ROUGE-N F1: each date's summary compared with its aligned date's, matches
    discounted by 1 / (days apart + 1).

    Precision aligns every predicted date to a reference date; recall every reference date to a
    predicted date; each divides the discounted matches by its own side's n-grams.
    """
    if not predicted or not reference:
        return 0.0
    matched_p = 0.0
    for i, j in _aligned(predicted, reference, source_is_predicted=True):
        (day, sents), (ref_day, ref_sents) = predicted[i], reference[j]
        matched_p += rouge_counts(sents, ref_sents, n)[0] / (abs((day - ref_day).days) + 1)
    matched_r = 0.0
    for i, j in _aligned(reference, predicted, source_is_predicted=False):
        (ref_day, ref_sents), (day, sents) = reference[i], predicted[j]
        matched_r += rouge_counts(sents, ref_sents, n)[0] / (abs((day - ref_day).days) + 1)
    cand = sum(rouge_counts(sents, [], n)[1] for _, sents in predicted)
    ref = sum(rouge_counts([], sents, n)[2] for _, sents in reference)
    return _f1(_ratio(matched_p, cand), _ratio(matched_r, ref))


def score_timeline(predicted: Timeline, reference: Timeline) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one predicted timeline."""
    return {
        "date_f1": date_f1(predicted, reference),
        "concat_r1": concat_rouge(predicted, reference, 1),
        "concat_r2": concat_rouge(predicted, reference, 2),
        "agreement_r1": agreement_rouge(predicted, reference, 1),
        "agreement_r2": agreement_rouge(predicted, reference, 2),
        "align_r1": alignment_rouge(predicted, reference, 1),
        "align_r2": alignment_rouge(predicted, reference, 2),
    }


# --- Timelines from documents ---------------------------------------------------------------------


def _distinct(articles: Sequence[Article]) -> list[Article]:
    """Articles with a publication day, syndicated copies (same fingerprint) counted once."""
    seen: set[str] = set()
    out = []
    for article in articles:
        if article.fingerprint in seen or article.published.precision is not DatePrecision.DAY:
            continue
        seen.add(article.fingerprint)
        out.append(article)
    return out


def _sentences(article: Article) -> list[str]:
    return [article.body[s:e] for s, e in sentence_spans(article.body)]


def _summary_sized(sentence: str) -> bool:
    return MIN_SENTENCE_WORDS <= len(_tokens(sentence)) <= MAX_SENTENCE_WORDS


def _top_dates(scores: Counter[dt.date], k: int) -> list[dt.date]:
    # Highest score first, the earlier date on ties.
    return sorted(sorted(scores), key=lambda d: -scores[d])[:k]


def baseline_timeline(articles: Sequence[Article], k: int, per_date: int) -> Timeline:
    """The ``k`` days with the most publications, each with the first sentences of that day's
    documents (the first sentence of each, in order, then the second ones...)."""
    by_day: dict[dt.date, list[Article]] = defaultdict(list)
    for article in _distinct(articles):
        assert article.published.value is not None
        by_day[article.published.value].append(article)
    days = _top_dates(Counter({day: len(docs) for day, docs in by_day.items()}), k)
    timeline: Timeline = []
    for day in sorted(days):
        lists = [_sentences(a) for a in by_day[day]]
        ordered = [s[i] for i in range(max(map(len, lists), default=0)) for s in lists if i < len(s)]
        timeline.append((day, ordered[:per_date]))
    return timeline


def _central(candidates: Sequence[str], count: int) -> list[str]:
    """The ``count`` candidates closest (cosine of word counts) to the sum of all of them: the
    sentences that say what most of the others say."""
    vectors = [Counter(_tokens(s)) for s in candidates]
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    total_norm = math.sqrt(sum(v * v for v in total.values()))

    def centrality(i: int) -> float:
        vector = vectors[i]
        norm = math.sqrt(sum(v * v for v in vector.values()))
        dot = sum(v * total[w] for w, v in vector.items())
        return dot / (norm * total_norm) if norm and total_norm else 0.0

    chosen: list[str] = []
    for i in sorted(range(len(candidates)), key=lambda i: -centrality(i)):
        if candidates[i] not in chosen:
            chosen.append(candidates[i])
        if len(chosen) == count:
            break
    return chosen


def storyweave_timeline(articles: Sequence[Article], k: int, per_date: int) -> Timeline:
    """``k`` dates chosen by how many documents mention them (and were published on them), each
    with the ``per_date`` most central sentences that mention it.

    A date chosen for its publications alone is summarised from its documents' first sentences.
    """
    scores: Counter[dt.date] = Counter()
    mentions: dict[dt.date, list[str]] = defaultdict(list)
    leads: dict[dt.date, list[str]] = defaultdict(list)
    for article in _distinct(articles):
        published = article.published.value
        assert published is not None
        scores[published] += 1
        leads[published].extend(_sentences(article)[:per_date])
        mentioned: set[dt.date] = set()
        for event in extract_events(article):
            day = event.date.value
            if event.uncertain or event.date.precision is not DatePrecision.DAY or day is None:
                continue
            if 0 <= (published - day).days <= LOOKBACK_DAYS:
                mentioned.add(day)
                mentions[day].append(event.text)
        scores.update(mentioned)
    timeline: Timeline = []
    for day in sorted(_top_dates(scores, k)):
        candidates = [s for s in mentions[day] if _summary_sized(s)] or mentions[day] or leads[day]
        timeline.append((day, _central(candidates, per_date)))
    return timeline


# --- The benchmark --------------------------------------------------------------------------------


def _mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {m: sum(r[m] for r in rows) / len(rows) for m in METRICS}


def evaluate_timelines(
    path: str | Path,
    languages: Sequence[str] | None = None,
    topics: Sequence[str] | None = None,
    on_item: Callable[[], None] | None = None,
) -> dict[str, object]:
    """Score storyweave's timelines and the baseline's on every (language, topic) of ML-Crisis
    under ``path`` that has documents and a reference; ``on_item`` is called once per document.

    Returns ``{"items": [...], "languages": {...}}``: per item its language, topic, document
    count, timeline size and both systems' scores; per language both systems' scores averaged
    over its topics.
    """
    references = load_mlcrisis_references(path)
    by_story: dict[tuple[str, str], list[Article]] = defaultdict(list)
    for labelled in load_mlcrisis(path):
        language, topic = labelled.group.split("/", 1)
        if (languages and language not in languages) or (topics and topic not in topics):
            continue
        if (language, topic) in references:
            by_story[(language, topic)].append(prepare(labelled.doc))
        if on_item is not None:
            on_item()
    items: list[dict[str, object]] = []
    per_language: dict[str, dict[str, list[dict[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for (language, topic), articles in sorted(by_story.items()):
        reference = references[(language, topic)]
        k = len(reference)
        per_date = max(1, round(sum(len(s) for _, s in reference) / k))
        scores = {
            "storyweave": score_timeline(storyweave_timeline(articles, k, per_date), reference),
            "baseline": score_timeline(baseline_timeline(articles, k, per_date), reference),
        }
        for system, values in scores.items():
            per_language[language][system].append(values)
        items.append(
            {"language": language, "topic": topic, "documents": len(articles), "dates": k,
             "sentences_per_date": per_date, **scores}
        )  # fmt: skip
    summary = {
        language: {system: _mean(rows) for system, rows in systems.items()}
        for language, systems in sorted(per_language.items())
    }
    return {"items": items, "languages": summary}


def format_timeline_table(result: dict[str, object]) -> str:
    """The scores as a plain-text table: each topic, then each language's mean, baseline under
    storyweave."""
    headers = ["language", "topic", "system", "docs", "dates", *METRICS]
    rows: list[list[object]] = []
    items = result["items"]
    assert isinstance(items, list)
    for item in items:
        for system in ("storyweave", "baseline"):
            rows.append(
                [item["language"], item["topic"], system, item["documents"], item["dates"],
                 *(item[system][m] for m in METRICS)]
            )  # fmt: skip
    languages = result["languages"]
    assert isinstance(languages, dict)
    for language, systems in languages.items():
        for system in ("storyweave", "baseline"):
            rows.append([language, "(mean)", system, "", "", *(systems[system][m] for m in METRICS)])
    return format_table(headers, rows)
