"""Live sources: feeds, OPML lists, sitemaps and pages, polled on their own schedules, as a stream.

One loop on one thread does everything, which keeps the store on the thread that opened it and
makes "one request at a time per host" true by construction. The loop repeatedly takes the first
runnable piece of work whose host is free (its ``host_delay`` has passed):

1. an item page still to fetch, from a poll under way (oldest first), else
2. a source whose next poll is due (longest overdue first);

and when nothing is runnable it hands what it fetched to the :class:`~storyweave.pipeline.Pipeline`
and sleeps until the soonest host or source is ready. A slow host only delays its own items, and a
failing source is polled less and less often (``interval × 2^failures``, capped), so neither holds
up the others.

Everything needed to resume lives in the store (its `sources` and `seen_items` tables, reached
through the store's methods, so the watcher runs on SQLite and PostgreSQL alike): each source's
schedule, failures, status and conditional-GET validators, and each item URL already handled. A poll's validators and
next poll time are written only once all its items are stored, so a process stopped mid-poll
polls that source again on restart, gets the whole feed (not a 304) and skips what it had already
stored: nothing lost, nothing twice.

Duplicates are caught three ways: an item whose normalised URL (or the original of an AMP-shaped
URL) is already stored or handled is not fetched; a fetched page whose canonical URL is already
stored is dropped; and a copy with the same text on another site is linked by the pipeline's
fingerprint (``duplicate_of``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .feeds import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    FeedError,
    FeedItem,
    amp_original,
    article_url,
    normalise_url,
    parse_feed,
    parse_page,
)
from .fetch import Fetcher, FetchError, Stopped, redact
from .ingest.html import html_to_text
from .records import IngestError, RawDoc
from .store import SOURCE_COLUMNS, SeenItem

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .store import Store

__all__ = [
    "DEFAULT_INTERVAL_SECONDS",
    "Source",
    "WatchReport",
    "Watcher",
    "add_source",
    "backoff_seconds",
    "list_sources",
    "remove_source",
]

LOGGER = logging.getLogger(__name__)

# Polling. Fifteen minutes is what news aggregators use for a feed; under a minute is impolite.
# A failing source waits interval × 2^failures, at most a day (or its interval, if longer), so a
# source dead for days costs one request a day.
DEFAULT_INTERVAL_SECONDS = 900.0
MIN_INTERVAL_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 24 * 3600.0

# Items. A feed's first poll may list a whole archive (a sitemap lists up to 50,000 URLs): at most
# this many new pages are fetched per poll, newest first, the rest on the next polls. An item page
# that fails for a passing reason (timeout, 5xx) is tried again on this many polls in all.
MAX_NEW_ITEMS_PER_POLL = 100
MAX_ITEM_ATTEMPTS = 3

# The longest the loop sleeps when idle: sources added meanwhile by `storyweave sources add` (another
# process) are noticed within this time. And the shortest, so a wait never spins.
MAX_IDLE_SECONDS = 30.0
MIN_IDLE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Source:
    """A stored source with its schedule and status."""

    url: str
    parent: str | None
    interval: float
    added_at: str
    kind: str
    etag: str
    last_modified: str
    failures: int
    next_poll: str | None
    last_poll: str | None
    last_success: str | None
    last_error: str
    last_error_at: str | None
    articles: int

    def to_dict(self) -> dict[str, Any]:
        """The status shown by ``storyweave sources list --json`` (credentials removed)."""
        return {
            "url": redact(self.url),
            "parent": None if self.parent is None else redact(self.parent),
            "kind": self.kind,
            "interval": self.interval,
            "added_at": self.added_at,
            "articles": self.articles,
            "last_poll": self.last_poll,
            "last_success": self.last_success,
            "last_error": self.last_error or None,
            "last_error_at": self.last_error_at,
            "failures": self.failures,
            "next_poll": self.next_poll,
        }


@dataclass(slots=True)
class WatchReport:
    """What one run of the watcher did."""

    polls: int = 0
    unchanged: int = 0  # polls answered 304 Not Modified
    failed_polls: int = 0
    pages: int = 0  # item pages fetched
    added: int = 0  # articles stored (linked syndicated copies included)
    duplicates: int = 0  # of which syndicated copies linked to an earlier article
    already_stored: int = 0  # pages whose article (or canonical URL) was already stored
    errors: list[str] = field(default_factory=list)  # items that could not be stored, named

    def to_dict(self) -> dict[str, Any]:
        return {
            "polls": self.polls,
            "unchanged": self.unchanged,
            "failed_polls": self.failed_polls,
            "pages": self.pages,
            "added": self.added,
            "duplicates": self.duplicates,
            "already_stored": self.already_stored,
            "errors": list(self.errors),
        }


@dataclass(slots=True)
class _Poll:
    """A poll under way: its items are being fetched, its validators wait for them."""

    source: Source
    started: float  # time.time()
    etag: str
    last_modified: str
    language: str  # the feed's language, for items and pages that declare none
    complete: bool = True  # False when items were left for a later poll or may be retried
    pending: int = 0  # item pages still to fetch
    docs: list[tuple[str, RawDoc]] = field(default_factory=list)  # (item URL, article) not yet stored


@dataclass(frozen=True, slots=True)
class _ItemTask:
    poll: _Poll
    item: FeedItem
    url: str  # normalised


def backoff_seconds(interval: float, failures: int) -> float:
    """When a source is polled next after ``failures`` consecutive failures (0: all is well)."""
    return min(interval * 2.0**failures, max(interval, MAX_BACKOFF_SECONDS))


def add_source(store: Store, url: str, interval: float | None = None) -> Source:
    """Add a top-level source (or make a listed one top-level); its status is kept if it exists.

    ``interval`` changes a stored source's interval; None keeps it (new sources get the default).
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact(url)}: not an http or https URL")
    if interval is not None and interval < MIN_INTERVAL_SECONDS:
        raise ValueError(f"interval {interval:g} s is under the {MIN_INTERVAL_SECONDS:g} s minimum")
    row = store.add_source(
        normalise_url(url), interval, default_interval=DEFAULT_INTERVAL_SECONDS, added_at=_iso(time.time())
    )
    return _row_source(row)


def remove_source(store: Store, url: str) -> bool:
    """Remove a source and the sources it listed; True if it was there."""
    return store.remove_source(normalise_url(url))


def list_sources(store: Store) -> list[Source]:
    """Every source, listed ones right after the list that holds them."""
    return [_row_source(r) for r in store.sources()]


def _row_source(row: dict[str, Any]) -> Source:
    return Source(**{name: row[name] for name in SOURCE_COLUMNS})


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _timestamp(iso: str | None) -> float:
    return 0.0 if iso is None else dt.datetime.fromisoformat(iso).timestamp()


class Watcher:
    """Polls the stored sources and feeds what they bring through the pipeline.

    ``make_pipeline`` is called when the first article is ready, so that a run with nothing new
    never loads the encoder; a poll's articles are stored when it ends, when the loop is idle
    (waiting for a host is time the encoder can use), or every ``batch_size`` articles. Setting
    ``stop`` (a signal handler does) ends the run after the piece of work under way; what was
    fetched is stored before :meth:`run` returns.
    """

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        make_pipeline: Callable[[], Pipeline],
        stop: threading.Event,
        *,
        batch_size: int = 16,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.batch_size = batch_size
        self.report = WatchReport()
        self._make_pipeline = make_pipeline
        self._pipeline: Pipeline | None = None
        self._stop = stop
        self._polls: dict[str, _Poll] = {}  # source URL -> its poll under way
        self._tasks: list[_ItemTask] = []  # item pages to fetch, oldest first
        self._buffered: set[str] = set()  # URLs of articles fetched but not yet stored

    def run(self, *, once: bool = False) -> WatchReport:
        """Poll until stopped; with ``once``, poll every source once (those listed meanwhile too)."""
        polled: set[str] = set()
        try:
            while not self._stop.is_set():
                if self._step(once, polled):
                    continue
                self._flush_all()
                if once and not self._tasks and not self._due(once, polled):
                    break
                self._stop.wait(self._idle_seconds(once, polled))
        except Stopped:
            pass  # the fetch that was waiting for its host is abandoned; its poll resumes next run
        self._flush_all()
        return self.report

    # -- choosing the next piece of work ---------------------------------------------------------
    def _step(self, once: bool, polled: set[str]) -> bool:
        now = time.monotonic()
        for index, task in enumerate(self._tasks):
            if self.fetcher.host_ready_at(task.url) <= now:
                del self._tasks[index]
                self._fetch_item(task)
                return True
        for source in self._due(once, polled):
            if self.fetcher.host_ready_at(source.url) <= now:
                polled.add(source.url)
                self._poll(source)
                return True
        return False

    def _due(self, once: bool, polled: set[str]) -> list[Source]:
        rows = self.store.due_sources(_iso(time.time()), every=once)
        return [s for s in map(_row_source, rows) if s.url not in self._polls and not (once and s.url in polled)]

    def _idle_seconds(self, once: bool, polled: set[str]) -> float:
        now = time.monotonic()
        waits = [self.fetcher.host_ready_at(t.url) - now for t in self._tasks]
        waits += [self.fetcher.host_ready_at(s.url) - now for s in self._due(once, polled)]
        if not once:
            soonest = self.store.next_poll_after(_iso(time.time()))
            if soonest is not None:
                waits.append(_timestamp(soonest) - time.time())
        return min(max(min(waits, default=MAX_IDLE_SECONDS), MIN_IDLE_SECONDS), MAX_IDLE_SECONDS)

    # -- sources ---------------------------------------------------------------------------------
    def _poll(self, source: Source) -> None:
        started = time.time()
        self.report.polls += 1
        try:
            response = self.fetcher.get(source.url, accept=FEED_ACCEPT, etag=source.etag, last_modified=source.last_modified)
            if response.not_modified:
                LOGGER.info("%s: unchanged", redact(source.url))
                self.report.unchanged += 1
                self._polled(source, source.kind)
                self._complete(_Poll(source, started, source.etag, source.last_modified, ""))
                return
            feed = parse_feed(response.body, response.url, charset=response.charset, max_bytes=self.fetcher.max_bytes)
            page: RawDoc | None = None
            if feed.kind == "page":  # a single article: the source itself, already fetched
                parsed = parse_page(response.body, response.url, content_type=response.content_type, charset=response.charset)
                if isinstance(parsed, IngestError):
                    raise FeedError(source.url, parsed.message)
                page = parsed
        except (FetchError, FeedError) as exc:
            self._failed(source, exc)
            return
        self._polled(source, feed.kind)
        poll = self._polls[source.url] = _Poll(
            source, started, response.headers.get("etag", ""), response.headers.get("last-modified", ""), feed.language
        )
        if feed.sources:
            self._list_sources(source, feed.sources)
        if page is not None and not self._known(normalise_url(response.url)):
            self._take(poll, normalise_url(response.url), page, FeedItem(url=response.url), response.url)
        new = self._new_items(feed.items)
        if len(new) > MAX_NEW_ITEMS_PER_POLL:
            poll.complete = False  # no validators: the next poll must see the full list again
            new = new[:MAX_NEW_ITEMS_PER_POLL]
        LOGGER.info("%s: %s, %d items, %d new", redact(source.url), feed.kind, len(feed.items), len(new))
        self._tasks.extend(_ItemTask(poll, item, url) for url, item in new)
        poll.pending = len(new)
        if poll.pending == 0:
            self._complete(poll)

    def _new_items(self, items: tuple[FeedItem, ...]) -> list[tuple[str, FeedItem]]:
        queued = {t.url for t in self._tasks}
        new: dict[str, FeedItem] = {}
        for item in items:
            url = normalise_url(item.url)
            if url not in new and url not in queued and not self._known(url):
                new[url] = item
        return list(new.items())

    def _list_sources(self, parent: Source, listed: tuple[str, ...]) -> None:
        """Keep the sources an OPML list or sitemap index holds in step with it (one level deep)."""
        if parent.parent is not None:
            LOGGER.warning("%s: lists sources but was itself listed; not followed further", redact(parent.url))
            return
        urls = list(dict.fromkeys(normalise_url(u) for u in listed if normalise_url(u) != parent.url))
        self.store.sync_listed_sources(parent.url, urls, parent.interval, _iso(time.time()))

    def _polled(self, source: Source, kind: str) -> None:
        now = _iso(time.time())
        self.store.update_source(source.url, kind=kind, failures=0, last_poll=now, last_success=now)

    def _failed(self, source: Source, error: FetchError | FeedError) -> None:
        self.report.failed_polls += 1
        failures = source.failures + 1
        now = time.time()
        delay = backoff_seconds(source.interval, failures)
        if isinstance(error, FetchError) and error.retry_after:
            delay = max(delay, min(error.retry_after, MAX_BACKOFF_SECONDS))
        LOGGER.warning("%s (failure %d; next poll in %.0f s)", error, failures, delay)
        self.store.update_source(
            source.url, failures=failures, last_poll=_iso(now), last_error=str(error), last_error_at=_iso(now),
            next_poll=_iso(now + delay),
        )

    def _complete(self, poll: _Poll) -> None:
        """All of a poll's items are stored: its validators and next poll time can be written."""
        self._flush(poll)
        self._polls.pop(poll.source.url, None)
        etag, modified = (poll.etag, poll.last_modified) if poll.complete else ("", "")
        self.store.update_source(
            poll.source.url, etag=etag, last_modified=modified, next_poll=_iso(poll.started + poll.source.interval)
        )

    # -- items -----------------------------------------------------------------------------------
    def _known(self, url: str) -> bool:
        """Already stored or handled: the URL itself or the original of an AMP-shaped URL."""
        urls = [u for u in (url, amp_original(url)) if u]
        if any(u in self._buffered for u in urls):
            return True
        return self.store.url_handled(urls, MAX_ITEM_ATTEMPTS)

    def _fetch_item(self, task: _ItemTask) -> None:
        if self._known(task.url):  # brought by another source since it was queued
            self._item_done(task.poll)
            return
        try:
            response = self.fetcher.get(task.url, accept=PAGE_ACCEPT)
        except FetchError as exc:
            self._page_failed(task, str(exc), permanent=not exc.transient)
        else:
            self.report.pages += 1
            page = parse_page(response.body, response.url, content_type=response.content_type, charset=response.charset)
            if isinstance(page, IngestError):
                self._page_failed(task, str(page), permanent=True)
            else:
                self._take(task.poll, task.url, page, task.item, response.url)
        self._item_done(task.poll)

    def _page_failed(self, task: _ItemTask, error: str, *, permanent: bool) -> None:
        """A page that gave no article: its feed's own text stands in once retrying is over."""
        attempts = self.store.item_attempts(task.url) + 1
        text = html_to_text(task.item.summary) if task.item.summary else ""
        if (permanent or attempts >= MAX_ITEM_ATTEMPTS) and text:
            LOGGER.info("%s; the feed's text is used instead", error)
            doc = RawDoc(origin=redact(task.url), text=text, url=redact(task.url))
            self._take(task.poll, task.url, doc, task.item, task.url)
            return
        LOGGER.warning("%s", error)
        self.report.errors.append(error)
        if not permanent:
            task.poll.complete = False  # keep the feed's validators unsaved so the item comes back
        self._mark(task.url, "failed", MAX_ITEM_ATTEMPTS if permanent else attempts, error)

    def _take(self, poll: _Poll, item_url: str, page: RawDoc, item: FeedItem, fetched: str) -> None:
        """An article fetched for ``item_url``: dropped if its canonical URL is stored, else buffered."""
        url = article_url(fetched, page.url)
        if url != item_url and self._known(url):
            self.report.already_stored += 1
            self._mark(item_url, "done", 0, f"copy of {url}")
            return
        doc = replace(
            page,
            url=url,
            title=page.title or item.title,
            published=page.published or item.published,
            language=page.language or item.language or poll.language,
        )
        poll.docs.append((item_url, doc))
        self._buffered.update((item_url, url))
        if len(poll.docs) >= self.batch_size:
            self._flush(poll)

    def _item_done(self, poll: _Poll) -> None:
        poll.pending -= 1
        if poll.pending <= 0:
            self._complete(poll)

    def _mark(self, url: str, status: str, attempts: int, error: str) -> None:
        self.store.mark_items([SeenItem(url, status, attempts, error)], _iso(time.time()))

    # -- storing ---------------------------------------------------------------------------------
    def _flush_all(self) -> None:
        for poll in list(self._polls.values()):
            self._flush(poll)

    def _flush(self, poll: _Poll) -> None:
        """Store a poll's fetched articles through the pipeline, then mark their item URLs handled."""
        if not poll.docs:
            return
        batch, poll.docs = poll.docs, []
        if self._pipeline is None:
            self._pipeline = self._make_pipeline()
        result = self._pipeline.run([doc for _, doc in batch])
        errors = {e.origin: e.message for e in result.errors}
        for error in result.errors:
            self.report.errors.append(str(error))
        self.report.added += result.added
        self.report.duplicates += result.duplicates
        self.report.already_stored += result.already_stored
        self.store.mark_items(
            [
                SeenItem(item_url, "failed", MAX_ITEM_ATTEMPTS, errors[doc.origin])
                if doc.origin in errors
                else SeenItem(item_url, "done", 0, "")
                for item_url, doc in batch
            ],
            _iso(time.time()),
            source=poll.source.url,
            added=result.added,
        )
        for item_url, doc in batch:
            self._buffered.difference_update((item_url, doc.url))
        if result.added:
            LOGGER.info("%s: %d articles stored", redact(poll.source.url), result.added)
