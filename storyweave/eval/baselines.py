"""Reference methods that ``storyweave eval`` scores beside storyweave, on the same data.

The clustering baselines cut an average-link dendrogram at the threshold that scores best
against the gold itself (an oracle), so they are upper bounds for their family: a method that
must choose its threshold blind can only do worse. The pair baselines score each pair by one
cosine, with nothing learnt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from storyweave.encode import Encoder
from storyweave.eval.metrics import adjusted_rand_index, bcubed
from storyweave.eval.pairs import Pair

__all__ = [
    "BaselineResult",
    "char_tfidf_pair_scores",
    "dense_agglomerative",
    "dense_pair_scores",
    "embed_texts",
    "tfidf_agglomerative",
]

# scipy's clustering and scikit-learn's TF-IDF are imported by the functions that use them: every
# CLI command imports this package (through ``storyweave eval``'s commands), and scikit-learn's
# import alone took 0.9 of the CLI's 1.4 s start-up here.

# Most cuts tried for the oracle threshold. The partition only changes at merge heights, so with
# up to this many distinct heights each is tried and the oracle is exact; past it, evenly spaced
# quantiles of them (a fixed grid of 0.01 in similarity already lost 0.003 BCubed F1 on ECB+).
MAX_CUTS = 1000

# Word TF-IDF with sublinear term frequency (1 + log tf): standard for document similarity, and
# the stronger baseline here (BCubed F1 0.876 against 0.850 with raw counts on the ECB+ topics).
WORD_TFIDF = {"sublinear_tf": True}

# Characters embedded per text: about 128 XLM-R subword tokens of Latin-script news prose (the
# median for 128 tokens over SemEval's de, en, es, fr, it, tr texts was 500-535 characters;
# Chinese needs only about 200). The encoder costs about 1 ms a token on two cores and news puts
# the story in the lead, so longer inputs cost time and add little.
EMBED_MAX_CHARS = 512

# Character n-grams of the pair baseline: 2-4 characters within word boundaries cover morphemes
# and short words in every script, so it needs no tokeniser; with sublinear term frequency it
# gives the bench README's Pearson 0.408 on the SemEval pairs (0.33 with raw counts).
CHAR_TFIDF = {"analyzer": "char_wb", "ngram_range": (2, 4), "sublinear_tf": True}


@dataclass(frozen=True, slots=True)
class BaselineResult:
    """A baseline clustering at its best (oracle) threshold, scored against the gold."""

    name: str
    threshold: float  # cosine similarity: clusters merge while their average similarity is at least this
    precision: float  # BCubed
    recall: float  # BCubed
    f1: float  # BCubed
    ari: float
    clusters: int


def _best_cut(name: str, distances: NDArray[np.float64], gold: Sequence[str]) -> BaselineResult:
    """Average-link clustering of a square cosine-distance matrix, cut at each merge height (see
    :data:`MAX_CUTS`); the cut with the best BCubed F1 wins, the most merged one on ties.

    The reported threshold is the similarity of the last merge kept: clusters whose average
    cosine is at least that are joined.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = len(gold)
    if distances.shape != (n, n):
        raise ValueError(f"{n} gold labels for a {distances.shape} distance matrix")
    singletons = [str(i) for i in range(n)]
    p, r, f = bcubed(singletons, gold)
    best = BaselineResult(name, 1.0, p, r, f, adjusted_rand_index(singletons, gold), n)
    if n < 2:
        return best
    square = np.clip(distances, 0.0, 2.0)
    np.fill_diagonal(square, 0.0)
    tree = linkage(squareform(square, checks=False), method="average")
    heights = np.unique(tree[:, 2])
    if heights.size > MAX_CUTS:
        heights = np.unique(np.quantile(heights, np.linspace(0.0, 1.0, MAX_CUTS)))
    for height in heights:
        labels = [str(c) for c in fcluster(tree, t=height, criterion="distance")]
        p, r, f = bcubed(labels, gold)
        if f >= best.f1:
            best = BaselineResult(name, 1.0 - float(height), p, r, f, adjusted_rand_index(labels, gold), len(set(labels)))
    return best


def _cosine_distances(vectors: NDArray[np.floating]) -> NDArray[np.float64]:
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norms == 0, 1.0, norms)
    return 1.0 - v @ v.T


def tfidf_agglomerative(texts: Sequence[str], gold: Sequence[str]) -> BaselineResult:
    """Word TF-IDF (fitted on ``texts``, sublinear term frequency) cosine with average-link
    clustering at its oracle threshold."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(**WORD_TFIDF).fit_transform(list(texts))
    similarities = (matrix @ matrix.T).toarray()  # rows are L2-normalised: this is the cosine
    return _best_cut("tfidf", 1.0 - similarities, gold)


def dense_agglomerative(vectors: NDArray[np.floating], gold: Sequence[str], name: str = "dense") -> BaselineResult:
    """Cosine over the given embeddings with average-link clustering at its oracle threshold."""
    return _best_cut(name, _cosine_distances(vectors), gold)


def char_tfidf_pair_scores(pairs: Sequence[Pair]) -> NDArray[np.float64]:
    """Cosine of character 2-4-gram TF-IDF vectors (n-grams within word boundaries, fitted on
    both sides of all pairs) for each pair: higher means more similar."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [p.text1 for p in pairs] + [p.text2 for p in pairs]
    matrix = TfidfVectorizer(**CHAR_TFIDF).fit_transform(texts)
    left, right = matrix[: len(pairs)], matrix[len(pairs) :]
    return np.asarray(left.multiply(right).sum(axis=1), dtype=np.float64).reshape(-1)


def dense_pair_scores(vectors1: NDArray[np.floating], vectors2: NDArray[np.floating]) -> NDArray[np.float64]:
    """Row-wise cosine of two equally long stacks of embeddings."""
    a = np.asarray(vectors1, dtype=np.float64)
    b = np.asarray(vectors2, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"vectors1 has shape {a.shape}, vectors2 has shape {b.shape}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots: NDArray[np.float64] = (a * b).sum(axis=1)
    return dots / np.where(norms == 0, 1.0, norms)


def embed_texts(texts: Sequence[str], encoder: Encoder, *, max_chars: int = EMBED_MAX_CHARS) -> NDArray[np.float32]:
    """Embeddings of the first ``max_chars`` characters of each text (wrap the encoder in a
    :class:`~storyweave.encode.CachedEncoder` so a benchmark is embedded once)."""
    return np.asarray(encoder.encode([t[:max_chars] for t in texts]), dtype=np.float32)
