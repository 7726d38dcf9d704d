"""Loader for SemEval-2022 Task 8 ("Multilingual News Article Similarity") pair files.

The CSV has one row per article pair: ``pair_id, lang1, lang2, text1, text2`` and the annotators'
scores (``Geography, Entities, Time, Narrative, Overall, Style, Tone``), from 1 (very similar) to
4 (very dissimilar). ``Overall`` is the one that asks "same story?".

The released texts are not clean: some rows were double-encoded (UTF-8 read as Latin-1/cp1252,
"fÃ¼r" for "für"), in a few the damage was then NFKC-normalised ("fÃ1⁄4r"). :func:`fix_mojibake`
undoes what can be undone; rows that stay unreadable, or lack a score, are skipped with one
warning that counts them.
"""

from __future__ import annotations

import csv
import math
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BenchmarkDataWarning", "Pair", "fix_mojibake", "load_pairs"]

# A pair id whose article ids carry a language suffix (``1484008155es_1483984703``): the pair
# is a machine translation of an original pair.
_LANGUAGE_SUFFIX = re.compile(r"\d[a-z]{2}(?:_|$)")

# Rows whose text is more than this share U+FFFD (bytes that were not UTF-8) are unreadable. One
# stray replacement character in a thousand is harmless; one in fifty already breaks words.
MAX_REPLACEMENT_SHARE = 0.02



def _byte_map() -> dict[str, int]:
    """The character that stands for each byte 0x80-0xFF when UTF-8 was decoded as cp1252 or
    Latin-1: both cp1252's printable character and the Latin-1 one (a C1 control for 0x80-0x9F)."""
    mapping: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        mapping[chr(byte)] = byte
        cp1252 = bytes([byte]).decode("cp1252", errors="ignore")  # five bytes have no cp1252 character
        if cp1252:
            mapping[cp1252] = byte
    return mapping


_BYTE_OF = _byte_map()
_CONTINUATION = "".join(re.escape(ch) for ch, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
# A UTF-8 lead byte read as one character, then exactly the continuation bytes it announces.
_MOJIBAKE = re.compile(
    rf"[\u00c2-\u00df][{_CONTINUATION}]|[\u00e0-\u00ef][{_CONTINUATION}]{{2}}|[\u00f0-\u00f4][{_CONTINUATION}]{{3}}"
)
# NFKC rewrote the continuation characters ¼ ½ ¾ as digit, FRACTION SLASH, digit. The fraction
# slash never occurs in news text otherwise, so right after a lead character it is safe to undo.
_NFKC_FRACTION = re.compile(r"(?<=[\u00c2-\u00f4])([13])\u2044([24])")
_FRACTIONS = {"14": "¼", "12": "½", "34": "¾"}


@dataclass(frozen=True, slots=True)
class Pair:
    """One annotated article pair. ``overall`` runs 1 (same story) to 4 (unrelated)."""

    pair_id: str
    lang1: str
    lang2: str
    text1: str
    text2: str
    overall: float
    translated: bool  # a machine translation of an original pair (suffixed pair id)


class BenchmarkDataWarning(UserWarning):
    """Rows of a benchmark file were skipped; the message says how many and why."""


def _undo(match: re.Match[str]) -> str:
    raw = bytes(_BYTE_OF[ch] for ch in match.group())
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group()


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252 or Latin-1 ("fÃ¼r" → "für", "giriÅŸ" →
    "giriş"), run by run, so text that mixes good and damaged characters keeps the good ones.

    A run is only replaced when its bytes are valid UTF-8, which ordinary accented text almost
    never forms (an uppercase Latin-1 letter followed by a symbol such as "¼"); anything else is
    left as it was.
    """
    if "\u2044" in text:
        text = _NFKC_FRACTION.sub(lambda m: _FRACTIONS[m.group(1) + m.group(2)], text)
    return _MOJIBAKE.sub(_undo, text)


def _score(cell: str | None) -> float | None:
    """The cell as a finite number, or None."""
    try:
        value = float(cell or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _unreadable(text: str) -> bool:
    return text.count("\ufffd") > MAX_REPLACEMENT_SHARE * max(len(text), 1)


def load_pairs(path: str | Path) -> list[Pair]:
    """The pairs of a SemEval-2022 Task 8 CSV, in file order, with mis-encoded text repaired.

    Skipped, with one :class:`BenchmarkDataWarning` that counts them by reason: rows without a
    numeric ``Overall``, without a text or language, and rows whose text is still unreadable
    after repair. Repeated pair ids are kept: the release rewords some pairs under the same id.
    """
    csv.field_size_limit(sys.maxsize)  # article bodies exceed csv's default 128 KiB field limit
    pairs: list[Pair] = []
    skipped: Counter[str] = Counter()
    with Path(path).open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"pair_id", "lang1", "lang2", "text1", "text2", "Overall"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a SemEval-2022 Task 8 file, no column {sorted(missing)}")
        for row in reader:
            overall = _score(row["Overall"])
            if overall is None:
                skipped["no Overall score"] += 1
                continue
            text1, text2 = fix_mojibake(row["text1"] or ""), fix_mojibake(row["text2"] or "")
            pair_id, lang1, lang2 = (row[k] or "" for k in ("pair_id", "lang1", "lang2"))
            if not (text1.strip() and text2.strip() and lang1 and lang2 and pair_id):
                skipped["empty text, language or id"] += 1
                continue
            if _unreadable(text1) or _unreadable(text2):
                skipped["unreadable encoding"] += 1
                continue
            pairs.append(
                Pair(
                    pair_id=pair_id,
                    lang1=lang1.strip(),
                    lang2=lang2.strip(),
                    text1=text1,
                    text2=text2,
                    overall=overall,
                    translated=bool(_LANGUAGE_SUFFIX.search(pair_id)),
                )
            )
    if skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
        warnings.warn(
            f"{path}: skipped {sum(skipped.values())} of {sum(skipped.values()) + len(pairs)} rows ({reasons})",
            BenchmarkDataWarning,
            stacklevel=2,
        )
    return pairs
