"""Timeline-summarisation metrics against hand-computed examples, and the ML-Crisis path end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storyweave.eval.timelines import (
    METRICS,
    agreement_rouge,
    alignment_rouge,
    concat_rouge,
    date_f1,
    evaluate_timelines,
    format_timeline_table,
    rouge_counts,
    score_timeline,
)

D1, D2, D3, D4 = (dt.date(2011, 1, d) for d in (1, 2, 3, 4))


def test_rouge_counts_by_hand() -> None:
    # Unigrams: the, cat match (2 of 3 each side); bigrams: "the cat" matches (1 of 2).
    assert rouge_counts(["The CAT, sat."], ["the cat ran"], 1) == (2, 3, 3)
    assert rouge_counts(["The CAT, sat."], ["the cat ran"], 2) == (1, 2, 2)
    # Clipped counts: "a a a" against "a a" matches twice; bigrams never cross sentences.
    assert rouge_counts(["a a a"], ["a a"], 1) == (2, 3, 2)
    assert rouge_counts(["a b", "c d"], ["b c"], 2) == (0, 2, 1)


def test_date_f1_by_hand() -> None:
    predicted = [(D1, ["x"]), (D2, ["x"]), (D3, ["x"])]
    reference = [(D2, ["x"]), (D3, ["x"]), (D4, ["x"]), (dt.date(2011, 1, 5), ["x"])]
    # Precision 2/3, recall 2/4: F1 = 2 * (1/3) / (7/6) = 4/7.
    assert date_f1(predicted, reference) == pytest.approx(4 / 7)
    assert date_f1([], reference) == 0.0


def test_concat_and_agreement_by_hand() -> None:
    predicted = [(D1, ["a b c"]), (D2, ["d e"])]
    reference = [(D1, ["a b x"]), (D3, ["d e"])]
    # Concat: a b c d e against a b x d e, 4 of 5 either way.
    assert concat_rouge(predicted, reference, 1) == pytest.approx(0.8)
    # Agreement: only D1 is shared and matches a, b: precision 2/5, recall 2/5.
    assert agreement_rouge(predicted, reference, 1) == pytest.approx(0.4)
    # Bigrams: D1 shares "a b" (1 of 2 on each side; D2 and D3 have one each): 1/3 and 1/3.
    assert agreement_rouge(predicted, reference, 2) == pytest.approx(1 / 3)


def test_alignment_by_hand() -> None:
    predicted = [(D1, ["a b"])]
    reference = [(D2, ["a b"]), (dt.date(2011, 1, 10), ["c d"])]
    # Precision: D1 aligns to D2 (cost (1 - 1/2) * (1 - 1) = 0 against 0.9 * 1 for 10 January);
    # both words match, discounted by 1 / (1 + 1): 1 of 2. Recall: both reference dates align
    # to D1; D2 gives 2 * 1/2, 10 January nothing: 1 of 4. F1 = 2 * 0.5 * 0.25 / 0.75 = 1/3.
    assert alignment_rouge(predicted, reference, 1) == pytest.approx(1 / 3)
    # Agreement gives nothing for the one-day miss; concat ignores dates.
    assert agreement_rouge(predicted, reference, 1) == 0.0
    assert concat_rouge(predicted, reference, 1) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert alignment_rouge([], reference, 1) == 0.0


def test_a_perfect_timeline_scores_one() -> None:
    reference = [(D1, ["protests began in Cairo"]), (D3, ["the president resigned", "crowds celebrated"])]
    assert score_timeline(reference, reference) == pytest.approx(dict.fromkeys(METRICS, 1.0))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_evaluate_timelines_on_a_small_tree(tmp_path: Path) -> None:
    root = tmp_path / "ml_crisis"
    topic = root / "es" / "demo"
    # 25 January is mentioned by three documents (published the 26th, 27th and 28th); the busiest
    # publication day is the 27th, which the baseline picks.
    _write(topic / "2011-01-26" / "d1.txt",
           "Miles de personas protestaron ayer en El Cairo contra el presidente Mubarak.\nLa policía respondió.")
    _write(topic / "2011-01-27" / "d2.txt",
           "El 25 de enero miles de personas protestaron en El Cairo contra Mubarak.\nSigue la tensión.")
    _write(topic / "2011-01-27" / "d3.txt", "Las marchas continúan en Alejandría y Suez durante toda la jornada.")
    _write(topic / "2011-01-28" / "d4.txt",
           "Desde el 25 de enero miles de personas protestan contra Mubarak en El Cairo.\nNada más.")
    _write(root / "es" / "reference" / "demo.txt",
           "2011-01-25\nMiles de personas protestan en El Cairo contra Mubarak .\n" + "-" * 32 + "\n")
    _write(root / "en" / "reference" / "demo.txt", "2011-01-25\nProtests in Cairo .\n" + "-" * 32 + "\n")
    calls: list[None] = []
    result = evaluate_timelines(root, on_item=lambda: calls.append(None))
    assert len(calls) == 4
    items = result["items"]
    assert isinstance(items, list) and len(items) == 1  # English has a reference but no documents
    item = items[0]
    assert (item["language"], item["topic"], item["documents"], item["dates"]) == ("es", "demo", 4, 1)
    assert item["storyweave"]["date_f1"] == 1.0
    assert item["baseline"]["date_f1"] == 0.0
    assert item["storyweave"]["agreement_r1"] > 0.5
    assert item["baseline"]["agreement_r1"] == 0.0
    languages = result["languages"]
    assert isinstance(languages, dict)
    assert languages["es"]["storyweave"]["date_f1"] == 1.0
    table = format_timeline_table(result)
    assert "storyweave" in table and "baseline" in table and "(mean)" in table
    assert evaluate_timelines(root, languages=["fr"])["items"] == []
