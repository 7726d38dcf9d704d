"""Scores for document clusterings and pair similarities, and a plain-text table for the CLI.

Written on numpy and scipy alone so that the figures ``storyweave eval`` prints do not depend on
which scikit-learn is installed; the tests check them against hand-computed examples (and ARI
against scikit-learn where it is there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["adjusted_rand_index", "bcubed", "format_table", "pearson", "roc_auc"]

# Digits shown for float cells in CLI tables: three is enough to tell 0.885 from 0.901.
TABLE_FLOAT_DIGITS = 3


def _codes(labels: Sequence[str]) -> NDArray[np.intp]:
    """Labels as dense integer codes 0..k-1 (equal labels, equal codes)."""
    _, inverse = np.unique(np.asarray(list(labels), dtype=np.str_), return_inverse=True)
    return inverse.astype(np.intp).reshape(-1)


def _contingency(pred: Sequence[str], gold: Sequence[str]) -> NDArray[np.int64]:
    """Counts of items for each (predicted cluster, gold class) cell."""
    if len(pred) != len(gold):
        raise ValueError(f"pred has {len(pred)} labels, gold has {len(gold)}")
    p, g = _codes(pred), _codes(gold)
    table = np.zeros((int(p.max(initial=-1)) + 1, int(g.max(initial=-1)) + 1), dtype=np.int64)
    np.add.at(table, (p, g), 1)
    return table


def bcubed(pred: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 of a clustering (Bagga & Baldwin 1998; Amigó et al. 2009).

    Each item scores the share of its predicted cluster that shares its gold class (precision)
    and the share of its gold class that shares its predicted cluster (recall); both are averaged
    over items, so a large story counts by its articles, not once. F1 is the harmonic mean of the
    two averages. Empty input scores (0, 0, 0).
    """
    table = _contingency(pred, gold)
    n = int(table.sum())
    if n == 0:
        return 0.0, 0.0, 0.0
    # An item in cell (c, g) has precision table[c, g] / |c| and recall table[c, g] / |g|; the
    # cell holds table[c, g] such items, hence the squares.
    squares = table.astype(np.float64) ** 2
    precision = float((squares / table.sum(axis=1, keepdims=True)).sum() / n)
    recall = float((squares / table.sum(axis=0, keepdims=True)).sum() / n)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _pairs(counts: NDArray[np.int64]) -> float:
    """Sum of n-choose-2 over the counts."""
    c = counts.astype(np.float64)
    return float((c * (c - 1) / 2).sum())


def adjusted_rand_index(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Rand index corrected for chance (Hubert & Arabie 1985): 1 for identical partitions, about 0
    for a random one, negative when worse than chance.

    Two trivial partitions that agree (everything in one cluster, or every item alone, on both
    sides) score 1, as scikit-learn does.
    """
    table = _contingency(pred, gold)
    n = int(table.sum())
    total = n * (n - 1) / 2
    both = _pairs(table)
    rows = _pairs(table.sum(axis=1))
    cols = _pairs(table.sum(axis=0))
    if total == 0:
        return 1.0
    expected = rows * cols / total
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (both - expected) / (maximum - expected)


def pearson(x: Sequence[float] | NDArray[np.floating], y: Sequence[float] | NDArray[np.floating]) -> float:
    """Pearson correlation of two equal-length series; NaN when either is constant or shorter than 2."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"x has shape {a.shape}, y has shape {b.shape}")
    if a.size < 2:
        return math.nan
    a = a - a.mean()
    b = b - b.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denominator if denominator else math.nan


def roc_auc(scores: Sequence[float] | NDArray[np.floating], labels: Sequence[bool] | NDArray[np.bool_]) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative,
    ties counting one half (the Mann-Whitney U statistic over both class sizes).

    NaN when either class is empty.
    """
    s = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(labels, dtype=bool)
    if s.shape != positive.shape:
        raise ValueError(f"scores has shape {s.shape}, labels has shape {positive.shape}")
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    from scipy.stats import rankdata  # here, not at the top: scipy.stats takes 0.45 s to import

    ranks = rankdata(s)  # average ranks, so ties count one half
    u = float(ranks[positive].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{TABLE_FLOAT_DIGITS}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render rows as an aligned plain-text table: text columns flush left, numeric ones flush
    right, floats to :data:`TABLE_FLOAT_DIGITS` places, a dashed rule under the header.

    Plain text (no box characters) so the output pastes into issues and diffs cleanly.
    """
    if any(len(row) != len(headers) for row in rows):
        raise ValueError("every row needs one cell per header")
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)
