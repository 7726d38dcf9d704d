"""The SQLite store beyond the contract every store passes (tests/test_store_contract.py):
URL errors, and a real process killed mid-ingest."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyweave.store import open_store

from .helpers import query_rows


def test_unsupported_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://localhost/x")



def test_killing_the_process_mid_ingest_loses_nothing_committed(tmp_path: Path) -> None:
    import json
    import os
    import shutil
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(8):  # the samples under other names: 40 articles, several batches
        for sample in (root / "examples").glob("*.txt"):
            text = sample.read_text(encoding="utf-8")
            (corpus / f"{i}_{sample.name}").write_text(f"{text}\n\nEdition {i}.", encoding="utf-8")
    db = tmp_path / "kill.db"
    command = [sys.executable, "-m", "storyweave", "--db", str(db), "ingest", str(corpus)]
    env = {**os.environ, "STORYWEAVE_BATCH_SIZE": "4"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if db.exists():
            try:
                if sqlite3.connect(db).execute("SELECT COUNT(*) FROM articles").fetchone()[0] >= 5:
                    break
            except sqlite3.OperationalError:
                pass  # the schema is still being created
    process.send_signal(signal.SIGKILL)
    process.wait()
    store = open_store(str(db))
    stored = store.article_count()
    assert 5 <= stored < 40, "the kill must land mid-ingest for this test to mean anything"
    states = {r["id"]: json.loads(r["state"]) for r in query_rows(str(db), "SELECT id, state FROM stories")}
    for story in store.stories(with_articles=True):  # every story whole: its state matches its rows
        assert states[story.id]["size"] == sum(1 for a in story.articles if a.duplicate_of is None)
    store.close()
    finished = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, check=True)
    report = json.loads(finished.stdout)
    assert report["already_stored"] == stored and report["added"] == 40 - stored
    shutil.rmtree(corpus)
