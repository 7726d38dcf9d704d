"""The commands for running beyond one process: `storyweave backfill` and `storyweave migrate`.

Registered on the main group by ``main.add_command``; each gets the CLI's context object
(settings, the store, the pipeline) through click, as the other commands do.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from .backfill import ENGINES, Engine, LocalEngine, RayEngine, backfill
from .encode import load_encoder
from .ingest import read_paths

if TYPE_CHECKING:  # cli imports this module to register its commands
    from .cli import Context

__all__ = ["backfill_command", "migrate_command"]


@click.command(name="backfill")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Where articles are prepared and encoded: in this process, or on Ray.")
@click.option("--address", metavar="ADDR", default=None,
              help="Ray cluster to use (e.g. ray://head:10001; overrides STORYWEAVE_RAY_ADDRESS); "
                   "none starts a local Ray.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Articles per batch (overrides STORYWEAVE_BATCH_SIZE).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Ray workers, one CPU and one encoder each. Default: one per CPU of the Ray "
                   "cluster. (The local engine works in this process.)")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def backfill_command(
    ctx: Context,
    paths: tuple[str, ...],
    engine: str,
    address: str | None,
    batch_size: int | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Ingest an archive (files and folders) at once: articles are prepared and encoded in
    batches, on Ray workers with `--engine ray`, then clustered in publication-date order
    (undated last), so the stories are those of a sequential run in that order.

    Exits with status 1 if any item failed; the others are stored all the same.
    """
    s = ctx.settings
    store = ctx.store()
    pipeline = ctx.pipeline(store)
    runner: Engine
    if engine == "ray":
        # Each worker builds its own encoder, one thread per CPU it was given, unless set.
        make_encoder = functools.partial(load_encoder, s.encoder, s.encoder_threads or 1)
        runner = RayEngine(make_encoder, address=s.ray_address if address is None else address, workers=workers)
    else:
        runner = LocalEngine(pipeline.encoder)
    with tqdm(desc="cluster", unit="article", file=sys.stderr, disable=None, leave=False) as bar:
        report = backfill(read_paths(paths), pipeline, runner, batch_size=batch_size or s.batch_size, on_item=bar.update)
    store.close()
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{report.added} added ({report.duplicates} duplicates linked), {report.already_stored} already stored, "
            f"{len(report.errors)} failed; {len(set(report.story_ids))} stories touched",
            err=True,
        )
    sys.exit(1 if report.errors else 0)


@click.command(name="migrate")
@click.option("--to", "target", required=True, metavar="URL", help="The PostgreSQL database to copy into (empty).")
@click.pass_obj
def migrate_command(ctx: Context, target: str) -> None:
    """Copy the SQLite store (--db / STORYWEAVE_DB) into an empty PostgreSQL database: every
    table, ids and stories unchanged. Then point STORYWEAVE_DB at the URL."""
    from .store.migrate import migrate_sqlite_to_postgres  # needs the `postgres` extra

    try:
        copied = migrate_sqlite_to_postgres(ctx.settings.db, target)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for table, rows in copied.items():
        click.echo(f"{table:<18} {rows:>9} rows")
