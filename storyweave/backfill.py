"""Backfill: an archive ingested at once, its per-article stages spread over workers.

Preparing an article (clean, detect, names) and encoding it depend on that article alone, and
encoding is most of the cost, so an engine runs them over many workers: in this process
(``local``) or as a Ray Data pipeline on a local Ray or a cluster (``ray``). Clustering cannot be
spread: each decision depends on every earlier one. So the driver takes the prepared, encoded
articles in publication-date order (undated last, ties by origin) and hands them to the one
pipeline, which clusters and stores them as a sequential run in that order would: same stories,
same ids, whichever engine and however many workers prepared them.

Ray is an optional extra (``pip install 'storyweave[ray]'``), imported only by its engine.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from typing import Any, Protocol

import numpy as np

from .encode import Encoder, embedding_text
from .pipeline import IngestReport, Pipeline, prepare
from .records import Article, IngestError, RawDoc

__all__ = ["ENGINES", "Engine", "LocalEngine", "RayEngine", "arrival_order", "backfill", "prepare_batch"]

ENGINES = ("local", "ray")
# CPUs a Ray worker asks for: one encoder thread each, so N workers keep N cores busy.
CPUS_PER_WORKER = 1
# RawDoc's text fields, which travel to Ray workers as Arrow string columns (``extra`` as JSON).
_TEXT_FIELDS = tuple(f.name for f in fields(RawDoc) if f.name != "extra")


def prepare_batch(docs: Sequence[RawDoc], encoder: Encoder, embed_chars: int) -> list[Article | IngestError]:
    """The per-article stages for one batch: each document prepared, the batch encoded together;
    one result per document, in order (an IngestError where it could not be prepared)."""
    results: list[Article | IngestError] = []
    articles: list[Article] = []
    for doc in docs:
        try:
            article = prepare(doc)
        except (ValueError, UnicodeError) as exc:  # as Pipeline.run: named, never fatal
            results.append(IngestError(doc.origin, str(exc)))
            continue
        articles.append(article)
        results.append(article)
    vectors = encoder.encode([embedding_text(a, embed_chars) for a in articles])
    for article, vector in zip(articles, vectors):
        article.vector = vector
    return results


def arrival_order(article: Article) -> tuple[bool, dt.date, str, str]:
    """Publication date, undated last, ties by origin: the order the clusterer sees a backfill in.
    The article id settles what is left (two documents under one name), so the order never
    depends on which worker finished first."""
    day = article.published.value
    return (day is None, day or dt.date.min, article.origin, article.id)


class Engine(Protocol):
    """Runs :func:`prepare_batch` over documents, somewhere; results in any order."""

    def run(self, docs: Sequence[RawDoc], batch_size: int, embed_chars: int) -> list[Article | IngestError]: ...


class LocalEngine:
    """The per-article stages in this process, one batch after another."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def run(self, docs: Sequence[RawDoc], batch_size: int, embed_chars: int) -> list[Article | IngestError]:
        results: list[Article | IngestError] = []
        for start in range(0, len(docs), batch_size):
            results.extend(prepare_batch(docs[start : start + batch_size], self.encoder, embed_chars))
        return results


def _to_row(doc: RawDoc) -> dict[str, str]:
    return {**{name: getattr(doc, name) for name in _TEXT_FIELDS}, "extra": json.dumps(doc.extra)}


class _PrepareWorker:
    """A Ray Data actor: loads its encoder once, then prepares and encodes batch after batch."""

    def __init__(self, make_encoder: Callable[[], Encoder], embed_chars: int) -> None:
        self.encoder = make_encoder()
        self.embed_chars = embed_chars

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        docs = [
            RawDoc(**{name: str(batch[name][i]) for name in _TEXT_FIELDS}, extra=json.loads(batch["extra"][i]))
            for i in range(len(batch["extra"]))
        ]
        results = prepare_batch(docs, self.encoder, self.embed_chars)
        out = np.empty(len(results), dtype=object)  # filled one by one: numpy would unpack dataclasses
        out[:] = results
        return {"result": out}


class RayEngine:
    """The per-article stages as a Ray Data pipeline: the documents go to the object store, a
    fixed pool of ``workers`` actors (each with its own encoder) maps them batch by batch, and
    the results stream back to the driver.

    ``address`` names a running cluster (``ray://head:10001``, or ``auto`` on a cluster node);
    empty starts a local Ray for this run. A Ray already initialised by the caller is used as it
    is. ``workers`` defaults to one per CPU of the cluster.
    """

    def __init__(self, make_encoder: Callable[[], Encoder], *, address: str = "", workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError("a Ray backfill needs at least one worker")
        self.make_encoder = make_encoder
        self.address = address
        self.workers = workers

    def run(self, docs: Sequence[RawDoc], batch_size: int, embed_chars: int) -> list[Article | IngestError]:
        if not docs:
            return []  # nothing to start a cluster for
        try:
            import ray
        except ImportError as exc:  # the optional extra is missing
            raise RuntimeError("the Ray engine needs the `ray` extra: pip install 'storyweave[ray]'") from exc
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address or None, include_dashboard=False, log_to_driver=False)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
            workers = self.workers or max(1, cpus // CPUS_PER_WORKER)
            ray.data.DataContext.get_current().enable_progress_bars = False
            dataset = ray.data.from_items([_to_row(doc) for doc in docs]).map_batches(
                _PrepareWorker,
                fn_constructor_kwargs={"make_encoder": self.make_encoder, "embed_chars": embed_chars},
                batch_size=batch_size,
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=CPUS_PER_WORKER,
            )
            results: list[Any] = []
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                results.extend(batch["result"])
            return results
        finally:
            if started_here:
                ray.shutdown()


def backfill(
    items: Iterable[RawDoc | IngestError],
    pipeline: Pipeline,
    engine: Engine,
    *,
    batch_size: int = 16,
    on_item: Callable[[], None] | None = None,
) -> IngestReport:
    """Prepare and encode ``items`` on the engine, then cluster and store them through the
    pipeline in :func:`arrival_order`; bad items are reported, never fatal.

    Every prepared article is held until the last one is ready (the order needs them all): for
    an archive larger than memory, backfill it in date ranges.
    """
    report = IngestReport()
    docs: list[RawDoc] = []
    for item in items:
        if isinstance(item, IngestError):
            report.errors.append(item)
        else:
            docs.append(item)
    articles: list[Article] = []
    started = time.perf_counter()
    results = engine.run(docs, batch_size, pipeline.embed_chars)
    # The parallel phase (prepare + encode on the engine), beside the pipeline's own stages.
    pipeline.seconds["engine"] += time.perf_counter() - started
    for result in results:
        if isinstance(result, IngestError):
            report.errors.append(result)
        else:
            articles.append(result)
    articles.sort(key=arrival_order)
    for start in range(0, len(articles), batch_size):
        batch = articles[start : start + batch_size]
        pipeline.add(batch, report)
        if on_item is not None:
            for _ in batch:
                on_item()
    return report
