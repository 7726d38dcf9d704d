"""Loader for ML-Crisis (La Quatra, Cagliero et al., "Cross-lingual timeline summarization",
IEEE AIKE 2021): crisis news in several languages with reference timelines.

Layout: ``<lang>/<topic>/<YYYY-MM-DD>/<docid>.txt`` (the folder is the publication date) and
``<lang>/reference/<topic>.txt``: a date line, that date's summary sentences one a line, then a
line of dashes, repeated. A language may have reference timelines and no documents (``en``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from storyweave.eval.ecbplus import LabelledDoc
from storyweave.records import RawDoc

__all__ = ["Timeline", "load_mlcrisis", "load_mlcrisis_references"]

# A reference timeline: (date, summary sentences) in date order, one entry per date.
Timeline = list[tuple[dt.date, list[str]]]

# The folder of reference timelines inside each language folder.
REFERENCE_FOLDER = "reference"

# The line that closes a dated entry. Summary sentences may start with a dash ("- Beida ...")
# but are never dashes alone, and the release uses 32; three or more is safely a separator.
_SEPARATOR = re.compile(r"^-{3,}\s*$")


def _date(text: str, where: Path) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: expected a date YYYY-MM-DD, found {text.strip()!r}") from None


def _natural(name: str) -> tuple[str, int, str]:
    """Sort key putting ``gv_9`` before ``gv_10``."""
    match = re.match(r"^(.*?)(\d+)(\D*)$", name)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else (name, -1, "")


def load_mlcrisis(path: str | Path, language: str | None = None, topic: str | None = None) -> list[LabelledDoc]:
    """The documents under ``path`` (the ML-Crisis root), optionally of one language or topic,
    ordered by language, topic, date and document number.

    ``published`` is the folder's date, marked ``extra["published_origin"] = "folder"`` because
    it was not read from the article; ``gold`` is the topic and ``group`` is ``<lang>/<topic>``.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no ML-Crisis folder at {root}")
    docs: list[LabelledDoc] = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if language is not None and lang_dir.name != language:
            continue
        for topic_dir in sorted(p for p in lang_dir.iterdir() if p.is_dir() and p.name != REFERENCE_FOLDER):
            if topic is not None and topic_dir.name != topic:
                continue
            for date_dir in sorted(p for p in topic_dir.iterdir() if p.is_dir()):
                published = _date(date_dir.name, date_dir).isoformat()
                for file in sorted(date_dir.glob("*.txt"), key=lambda f: _natural(f.stem)):
                    doc = RawDoc(
                        origin=str(file),
                        text=file.read_text(encoding="utf-8", errors="replace").strip(),
                        published=published,
                        language=lang_dir.name,
                        extra={"published_origin": "folder"},
                    )
                    docs.append(LabelledDoc(doc=doc, gold=topic_dir.name, group=f"{lang_dir.name}/{topic_dir.name}"))
    return docs


def _parse_timeline(file: Path) -> Timeline:
    """One reference file as (date, sentences), sentences of a date repeated in the file merged
    in file order, entries sorted by date (as timeline metrics compare them)."""
    by_date: dict[dt.date, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if _SEPARATOR.match(line):
            current = None
        elif current is None:
            current = by_date.setdefault(_date(line, Path(f"{file}:{number}")), [])
        else:
            current.append(line)
    return sorted(by_date.items())


def load_mlcrisis_references(path: str | Path) -> dict[tuple[str, str], Timeline]:
    """Every reference timeline under ``path``, keyed by (language, topic)."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"no ML-Crisis folder at {root}")
    return {
        (file.parent.parent.name, file.stem): _parse_timeline(file)
        for file in sorted(root.glob(f"*/{REFERENCE_FOLDER}/*.txt"))
    }
