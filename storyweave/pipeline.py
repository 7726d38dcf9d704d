"""The pipeline, as one explicit sequence of stages.

    ingest ─▶ clean ─▶ detect ─▶ names ─▶ encode ─▶ cluster ─▶ store

:func:`prepare` runs the per-article stages (pure: a RawDoc in, an Article out); :class:`Pipeline`
batches prepared articles through the encoder, then hands them *in arrival order* to the online
clusterer and stores each one with its story in a single transaction. The CLI, the evaluation
commands, the benchmarks and the backfill (whose workers prepare and encode) all call this one
pipeline. Several pipelines may write to one store at once: each article is clustered under the
store's clustering lock, after catching up with the stories the others stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import PurePath
from urllib.parse import urlsplit

from .clean import clean
from .detect import detect_language, detect_published
from .encode import EMBED_CHARS, Encoder, embedding_text
from .names import name_keys
from .records import Article, Assignment, IngestError, RawDoc
from .store import Store

__all__ = ["IngestReport", "Pipeline", "prepare"]


@dataclass(slots=True)
class IngestReport:
    added: int = 0  # new articles stored (duplicates included)
    duplicates: int = 0  # syndicated copies linked to an earlier article
    already_stored: int = 0  # re-ingested articles: nothing added
    errors: list[IngestError] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    story_ids: list[str] = field(default_factory=list)  # every story the stream touched, in order

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "already_stored": self.already_stored,
            "errors": [{"origin": e.origin, "message": e.message} for e in self.errors],
        }


def _normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _source(doc: RawDoc) -> str:
    if doc.source:
        return doc.source
    if doc.url:
        host = urlsplit(doc.url).hostname or ""
        return host.removeprefix("www.")
    return PurePath(doc.origin.split(":", 1)[0]).name if doc.origin else ""


def prepare(raw: RawDoc, ingested_at: dt.datetime | None = None) -> Article:
    """clean ─▶ detect ─▶ names: one RawDoc to one Article (not yet encoded or clustered)."""
    doc = clean(raw)
    if not doc.text.strip():
        if not doc.title.strip():
            raise ValueError("no article text left after removing page furniture")
        doc = replace(doc, text=doc.title)  # a headline-only item is still news: its headline is its text
    language = detect_language(f"{doc.title}\n{doc.text}", doc.language)
    ingested_at = ingested_at or dt.datetime.now(dt.timezone.utc)
    fingerprint = hashlib.sha256(_normalised(doc.text).encode()).hexdigest()
    article_id = hashlib.sha256(f"{fingerprint}\n{doc.url}".encode()).hexdigest()[:20]
    return Article(
        id=article_id,
        fingerprint=fingerprint,
        origin=doc.origin,
        source=_source(doc),
        url=doc.url,
        title=doc.title,
        body=doc.text,
        language=language,
        published=detect_published(doc, read_on=ingested_at.date()),
        ingested_at=ingested_at,
        name_keys=name_keys(f"{doc.title}\n{doc.text}", language),
    )


def _batches(items: Iterable[RawDoc | IngestError], size: int) -> Iterator[list[RawDoc | IngestError]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Pipeline:
    """One store, one encoder, one clusterer: articles in, stories out."""

    def __init__(self, store: Store, encoder: Encoder, *, embed_chars: int = EMBED_CHARS, batch_size: int = 16) -> None:
        self.store = store
        self.encoder = encoder
        self.embed_chars = embed_chars
        self.batch_size = batch_size
        self.clusterer = store.load_clusterer()
        # Wall-clock seconds spent in each stage, for `storyweave bench`.
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def run(
        self, items: Iterable[RawDoc | IngestError], on_item: Callable[[], None] | None = None
    ) -> IngestReport:
        """Ingest a stream; bad items are reported, never fatal; each article commits on its own.

        Three batches are in flight at once: the next-but-one is read and prepared on one
        thread, the next one is encoded on another, and this one is clustered and stored. The
        encoder's C engine releases the GIL and keeps two cores only partly busy (1.6x the speed
        of one thread, not 2x); the pure-Python preparation, clustering and storing fill the
        gap: see ``docs/benchmarks.md`` (benchmarks/mix.py) for the articles per second end to
        end (9.5-9.7 with only the preparation overlapping the encoder, 10.3-10.4 with the
        clustering and storing of the batch before overlapping it too). Clustering and storing
        wait for the preparation to end: both are pure Python or release the GIL for every
        SQLite call, so beside a busy preparing thread they queue for the GIL on each call (a
        100k replayed stream, encoder a cache read: 33 articles/s with preparation overlapping
        them, 38 without; cluster 9.0 -> 6.0 and store 18.9 -> 11.1 ms per article).
        """
        report = IngestReport()
        batches = _batches(items, self.batch_size)
        encoded: tuple[int, list[Article], Future[None]] | None = None  # the batch being encoded
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyweave-prepare") as preparer,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyweave-encode") as encoder,
        ):
            pending = preparer.submit(self._prepare_next, batches)
            while True:
                try:
                    prepared = pending.result()
                except Exception:
                    # Reading the stream failed (a feed connection lost): what was read before is kept.
                    if encoded is not None:
                        self._store_encoded(*encoded, report, on_item)
                    raise
                if prepared is not None:
                    pending = preparer.submit(self._prepare_next, batches)
                    items_read, articles, errors = prepared
                    report.errors.extend(errors)
                    fresh, to_encode = self._unstored(articles, report)
                    following = (items_read, fresh, encoder.submit(self._encode, to_encode))
                if encoded is not None:
                    wait([pending])
                    self._store_encoded(*encoded, report, on_item)
                if prepared is None:
                    return report
                encoded = following

    def _store_encoded(
        self,
        items_read: int,
        fresh: list[Article],
        encoding: Future[None],
        report: IngestReport,
        on_item: Callable[[], None] | None,
    ) -> None:
        """Wait for a batch's vectors, then cluster and store it and count its items as done."""
        encoding.result()
        self._assign_and_store(fresh, report)
        if on_item is not None:
            for _ in range(items_read):
                on_item()

    def _prepare_next(
        self, batches: Iterator[list[RawDoc | IngestError]]
    ) -> tuple[int, list[Article], list[IngestError]] | None:
        """Read and prepare the next batch (on the preparing thread); None at the end."""
        started = time.thread_time()  # CPU time: this thread overlaps the others
        batch = next(batches, None)
        if batch is None:
            return None
        articles: list[Article] = []
        errors: list[IngestError] = []
        for item in batch:
            if isinstance(item, IngestError):
                errors.append(item)
                continue
            try:
                articles.append(prepare(item))
            except (ValueError, UnicodeError) as exc:
                errors.append(IngestError(item.origin, str(exc)))
        self.seconds["prepare"] += time.thread_time() - started
        return len(batch), articles, errors

    def add(self, articles: list[Article], report: IngestReport) -> None:
        """Encode (unless already encoded), cluster and store prepared articles, in the order given."""
        fresh, to_encode = self._unstored(articles, report)
        self._encode(to_encode)
        self._assign_and_store(fresh, report)

    def _unstored(self, articles: list[Article], report: IngestReport) -> tuple[list[Article], list[Article]]:
        """The articles not stored yet, and those of them that need a vector (neither encoded
        already nor a copy of a stored article). Both are checked again under the clustering
        lock: an article of the batch being stored meanwhile is only encoded for nothing."""
        started = time.perf_counter()
        known = self.store.known_ids(a.id for a in articles)
        fresh: list[Article] = []
        for article in articles:
            if article.id in known:
                report.already_stored += 1
                story_id = self.store.story_of(article.id)
                if story_id is not None:
                    report.story_ids.append(story_id)
            else:
                known.add(article.id)  # the same article twice in one batch is stored once
                fresh.append(article)
        to_encode = [a for a in fresh if a.vector is None and self.store.find_fingerprint(a.fingerprint) is None]
        self.seconds["store"] += time.perf_counter() - started
        return fresh, to_encode

    def _encode(self, articles: list[Article]) -> None:
        """Give each article its vector (on the encoding thread when the stream runs)."""
        started = time.perf_counter()
        vectors = self.encoder.encode([embedding_text(a, self.embed_chars) for a in articles])
        for article, vector in zip(articles, vectors):
            article.vector = vector
        self.seconds["encode"] += time.perf_counter() - started

    def _assign_and_store(self, fresh: list[Article], report: IngestReport) -> None:
        """Cluster and store encoded articles one by one, each under the clustering lock."""
        clock = time.perf_counter
        for article in fresh:
            started = clock()
            with self.store.clustering_lock():
                # Another writer (the watcher, the API, a backfill) may have stored stories, or
                # this very article, since the batch began: catch up under the lock, then decide.
                self.store.refresh(self.clusterer)
                if self.store.known_ids([article.id]):
                    report.already_stored += 1
                    story_id = self.store.story_of(article.id)
                    if story_id is not None:
                        report.story_ids.append(story_id)
                    self.seconds["store"] += clock() - started
                    continue
                original = self.store.find_fingerprint(article.fingerprint)
                if original is not None:
                    # A syndicated copy: linked to the original and its story, not a new source.
                    article.duplicate_of = original[0]
                    assignment = Assignment(article.id, original[1], "duplicate", 1.0)
                    self.store.save(article, assignment, self.clusterer, None)
                    report.duplicates += 1
                    self.seconds["store"] += clock() - started
                else:
                    assignment, state = self.clusterer.assign(article)
                    self.seconds["cluster"] += clock() - started
                    started = clock()
                    self.store.save(article, assignment, self.clusterer, state)
                    self.seconds["store"] += clock() - started
            report.added += 1
            report.assignments.append(assignment)
            report.story_ids.append(assignment.story_id)
