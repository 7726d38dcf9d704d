"""Strict typing is part of the build: mypy --strict over the package must report nothing."""

from __future__ import annotations

from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_the_package_type_checks_strictly(tmp_path: Path) -> None:
    from mypy import api
    # The settings are pyproject.toml's [tool.mypy] (strict); a private cache keeps runs independent.
    stdout, stderr, status = api.run([str(ROOT / "storyweave"), "--cache-dir", str(tmp_path / "mypy-cache")])
    assert status == 0, stdout + stderr
