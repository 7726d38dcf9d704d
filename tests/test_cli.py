"""The command line end to end, on the bundled sample articles (real encoder, real store)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyweave import settings
from storyweave.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _invoke(db: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    db = tmp_path_factory.mktemp("cli") / "s.db"
    code, out, _ = _invoke(db, "run", str(EXAMPLES), "--json")
    assert code == 0
    return db, json.loads(out)


def test_the_sample_is_one_story_in_three_languages(sample_db: tuple[Path, dict[str, object]]) -> None:
    _, result = sample_db
    stories = result["stories"]
    assert isinstance(stories, list) and len(stories) == 1
    story = stories[0]
    by_file = {Path(a["origin"]).name: a for a in story["articles"]}
    assert sorted(by_file) == sorted(p.name for p in EXAMPLES.glob("*.txt"))
    assert [by_file[name]["language"] for name in sorted(by_file)] == ["sq", "sq", "ar", "ms", "ar"]
    assert by_file["000_1b272e31da73a4e6.txt"]["published"] == {"date": "2023-09", "precision": "month", "origin": "header"}
    assert by_file["002_5127359ab141dd47.txt"]["published"]["precision"] == "unknown"


def test_rerunning_adds_nothing_and_keeps_the_story_id(sample_db: tuple[Path, dict[str, object]]) -> None:
    db, first = sample_db
    code, out, _ = _invoke(db, "run", str(EXAMPLES), "--json")
    again = json.loads(out)
    assert code == 0
    assert again["report"]["added"] == 0 and again["report"]["already_stored"] == 5
    assert [s["id"] for s in again["stories"]] == [s["id"] for s in first["stories"]]  # type: ignore[index]


def test_stories_and_story_commands(sample_db: tuple[Path, dict[str, object]]) -> None:
    db, result = sample_db
    story_id = result["stories"][0]["id"]  # type: ignore[index]
    code, out, _ = _invoke(db, "stories")
    assert code == 0 and story_id in out and "ar,ms,sq" in out
    code, out, _ = _invoke(db, "story", story_id[:8], "--json")
    assert code == 0 and json.loads(out)["id"] == story_id
    code, _, err = _invoke(db, "story", "st_nope")
    assert code != 0 and "no story" in err


def test_a_syndicated_copy_is_linked_not_counted(sample_db: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    db, result = sample_db
    copy = tmp_path / "syndicated.json"
    body = (EXAMPLES / "003_f7cad9d3d56ee8e4.txt").read_text(encoding="utf-8").split("\n", 1)[1]
    copy.write_text(json.dumps({"text": body, "url": "https://other.example/kim", "source": "Other Outlet"}))
    code, out, _ = _invoke(db, "ingest", str(copy), "--json")
    assert code == 0 and json.loads(out)["duplicates"] == 1
    code, out, _ = _invoke(db, "story", result["stories"][0]["id"], "--json")  # type: ignore[index]
    story = json.loads(out)
    assert story["size"] == 5 and len(story["articles"]) == 6
    assert sum(1 for a in story["articles"] if a["duplicate_of"]) == 1


def test_bad_items_are_named_and_the_rest_is_stored(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLES / "003_f7cad9d3d56ee8e4.txt", folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "lines.jsonl").write_text('{"text": "Kim Jong Un arrived in Vladivostok by train on Tuesday."}\n{broken\n')
    db = tmp_path / "s.db"
    code, out, err = _invoke(db, "ingest", str(folder), "--json")
    report = json.loads(out)
    assert code == 1
    assert report["added"] == 2
    failed = {Path(e["origin"].split(":")[0]).name for e in report["errors"]}
    assert failed == {"empty.txt", "binary.txt", "lines.jsonl"}
    assert "binary.txt" in err


def test_stdin_is_an_article_source(tmp_path: Path) -> None:
    text = (EXAMPLES / "002_5127359ab141dd47.txt").read_text(encoding="utf-8")
    code, out, _ = _invoke(tmp_path / "s.db", "ingest", "-", "--json", stdin=text)
    assert code == 0 and json.loads(out)["added"] == 1


def test_settings_reference_in_docs_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings.markdown()


def test_cli_reference_in_docs_is_generated_from_the_code() -> None:
    from storyweave.cli import cli_reference

    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_reference()


def test_commands_start_without_the_benchmark_libraries() -> None:
    # scikit-learn and scipy.stats serve only `storyweave eval`; imported at start-up they cost
    # every command about a second.
    probe = "import sys, storyweave.cli; print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
