"""`storyweave watch` and `storyweave sources add | import | list | remove`.

Registered on the main group by :mod:`storyweave.cli` (``main.add_command(watch)``,
``main.add_command(sources)``); both take the CLI's context object, which carries the settings and
opens the store and the pipeline.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from .feeds import FeedError, parse_feed
from .fetch import Fetcher, redact
from .watch import DEFAULT_INTERVAL_SECONDS, Source, Watcher, add_source, list_sources, remove_source

if TYPE_CHECKING:
    from .cli import Context
    from .store import Store

__all__ = ["sources", "watch"]

# The signals that stop `watch` cleanly: Ctrl-C in a terminal, SIGTERM from systemd or docker stop.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_interval_option = click.option(
    "--interval", type=float, default=None, metavar="SECONDS",
    help=f"Seconds between polls (default {DEFAULT_INTERVAL_SECONDS:g}; a stored source keeps its own unless given).",
)


class _EchoHandler(logging.Handler):
    """Log records to stderr through click, so that they reach whatever stderr is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextmanager
def _log_to_stderr(level: int) -> Iterator[None]:
    logger = logging.getLogger("storyweave")
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM: finish the piece of work under way, store what was fetched, exit.
    A second one: abandon it at once (every article is committed on its own, so nothing is torn)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        logging.getLogger("storyweave.watch").warning(
            "%s: stopping after the work under way (again to stop at once)", signal.Signals(signum).name
        )
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled on the main thread; the caller stops us through `stop`
        return
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _add(store: Store, urls: tuple[str, ...], interval: float | None) -> list[Source]:
    try:
        return [add_source(store, url, interval) for url in urls]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("urls", nargs=-1, metavar="[SOURCES]...")
@click.option("--once", is_flag=True, help="Poll every source once, store what is new, and exit.")
@_interval_option
@click.option("--quiet", "-q", is_flag=True, help="Log only warnings and errors (default: every poll).")
@click.option("--json", "as_json", is_flag=True, help="Print what the run did as JSON when it ends.")
@click.pass_obj
def watch(ctx: Context, urls: tuple[str, ...], once: bool, interval: float | None, quiet: bool, as_json: bool) -> None:
    """Poll feeds, OPML lists, sitemaps and pages, and store new articles as they come.

    SOURCES (URLs) are added to the stored sources (`storyweave sources`) and polled with them,
    each on its own schedule: RSS and Atom feeds, OPML lists of feeds, sitemaps (Google News ones
    included), and single article pages. Each new item's page is fetched, its main text extracted,
    and the article goes through the pipeline into its story. Already-stored URLs are not fetched
    again; unchanged feeds answer 304.

    Stops cleanly on Ctrl-C or SIGTERM (a second one stops at once); a restart resumes where it
    stopped. With --once, exits with status 1 if any source failed.
    """
    store = ctx.store()
    _add(store, urls, interval)
    if not list_sources(store):
        raise click.UsageError("no sources: give URLs, or add them with `storyweave sources add URL`")
    stop = threading.Event()
    watcher = Watcher(
        store, Fetcher.from_settings(ctx.settings, stop), lambda: ctx.pipeline(store), stop,
        batch_size=ctx.settings.batch_size,
    )
    with _log_to_stderr(logging.WARNING if quiet else logging.INFO), _stop_on_signals(stop):
        report = watcher.run(once=once)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{report.polls} polls ({report.unchanged} unchanged, {report.failed_polls} failed), "
            f"{report.pages} pages fetched, {report.added} articles added "
            f"({report.duplicates} duplicates linked), {report.already_stored} already stored, "
            f"{len(report.errors)} items failed",
            err=True,
        )
    sys.exit(1 if once and report.failed_polls else 0)


@click.group()
def sources() -> None:
    """The sources `storyweave watch` polls: add, import (OPML file), list (with status), remove."""


@sources.command(name="add")
@click.argument("urls", nargs=-1, required=True)
@_interval_option
@click.pass_obj
def sources_add(ctx: Context, urls: tuple[str, ...], interval: float | None) -> None:
    """Add feed, OPML, sitemap or page URLS (or change their --interval)."""
    for source in _add(ctx.store(), urls, interval):
        click.echo(f"{redact(source.url)}  every {source.interval:g} s")


@sources.command(name="import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_interval_option
@click.pass_obj
def sources_import(ctx: Context, opml_file: Path, interval: float | None) -> None:
    """Add every feed listed in OPML_FILE (a feed reader's export) as a source of its own.

    Unlike an OPML list added by URL, the file is read once: later changes to it are not followed.
    """
    limit = ctx.settings.max_response_bytes
    with opml_file.open("rb") as fh:
        body = fh.read(limit + 1)
    if len(body) > limit:
        raise click.ClickException(f"{opml_file}: over the {limit}-byte limit (max_response_bytes)")
    try:
        listing = parse_feed(body, opml_file.resolve().as_uri(), max_bytes=limit)
    except FeedError as exc:
        raise click.ClickException(str(exc)) from None
    if listing.kind != "opml":
        raise click.ClickException(f"{opml_file}: not an OPML file but {listing.kind}")
    added = _add(ctx.store(), listing.sources, interval)
    click.echo(f"{len(added)} sources added from {opml_file}")


@sources.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print every source with its full status as JSON.")
@click.pass_obj
def sources_list(ctx: Context, as_json: bool) -> None:
    """Each source with its kind, articles stored, last success, next poll and last error.

    Sources that an OPML list or a sitemap index lists are shown indented under it.
    """
    found = list_sources(ctx.store())
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2))
        return
    click.echo(f"{'source':<60} {'kind':<12} {'articles':>8}  {'last success':<25} {'next poll':<25} last error")
    for source in found:
        name = ("  " if source.parent else "") + redact(source.url)
        error = source.last_error.removeprefix(redact(source.url) + ": ")  # the row names the source already
        error = f"{source.last_error_at}: {error}" if error else ""
        click.echo(
            f"{name[:60]:<60} {source.kind or '?':<12} {source.articles:>8}  {source.last_success or 'never':<25} "
            f"{source.next_poll or 'now':<25} {error[:120]}"
        )


@sources.command(name="remove")
@click.argument("urls", nargs=-1, required=True)
@click.pass_obj
def sources_remove(ctx: Context, urls: tuple[str, ...]) -> None:
    """Stop polling URLS (and the sources they list); stored articles stay."""
    store = ctx.store()
    missing = [url for url in urls if not remove_source(store, url)]
    if missing:
        raise click.ClickException(f"not a stored source: {', '.join(redact(u) for u in missing)}")
