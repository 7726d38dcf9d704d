"""Benchmarks for ``storyweave eval``: loaders for the public formats, metrics and baselines.

Loaders return :class:`LabelledDoc` (a :class:`~storyweave.records.RawDoc` with its gold story)
or :class:`Pair`; metrics and baselines work on plain label and score sequences, so any
clusterer's output can be scored the same way.
"""

from storyweave.eval.baselines import (
    BaselineResult,
    char_tfidf_pair_scores,
    dense_agglomerative,
    dense_pair_scores,
    embed_texts,
    tfidf_agglomerative,
)
from storyweave.eval.ecbplus import LabelledDoc, detokenize, load_ecbplus
from storyweave.eval.metrics import adjusted_rand_index, bcubed, format_table, pearson, roc_auc
from storyweave.eval.miranda import load_miranda
from storyweave.eval.mlcrisis import Timeline, load_mlcrisis, load_mlcrisis_references
from storyweave.eval.pairs import BenchmarkDataWarning, Pair, fix_mojibake, load_pairs

__all__ = [
    "BaselineResult",
    "BenchmarkDataWarning",
    "LabelledDoc",
    "Pair",
    "Timeline",
    "adjusted_rand_index",
    "bcubed",
    "char_tfidf_pair_scores",
    "dense_agglomerative",
    "dense_pair_scores",
    "detokenize",
    "embed_texts",
    "fix_mojibake",
    "format_table",
    "load_ecbplus",
    "load_miranda",
    "load_mlcrisis",
    "load_mlcrisis_references",
    "load_pairs",
    "pearson",
    "roc_auc",
    "tfidf_agglomerative",
]
