"""Loader for the ECB+ corpus (Cybulska & Vossen, LREC 2014): event-level document clustering.

Each ``ECB+/<topic>/<topic>_<n>ecb.xml`` or ``..._<n>ecbplus.xml`` file is one news article as
token XML (``<token t_id=".." sentence=".." number="..">word</token>``). Each topic holds two
real-world events of the same kind: the ``ecb`` files report one, the ``ecbplus`` files the other,
so the gold story of a document is (topic, ecb|ecbplus).

The ``ecbplus`` files open with their source URL as sentence 0 and the ``ecb`` files never do, so
that line alone would reproduce the gold. It goes to :attr:`RawDoc.url` and never into the text.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass
from pathlib import Path

from storyweave.records import RawDoc

__all__ = ["LabelledDoc", "detokenize", "load_ecbplus"]

# File names of the public release: ``<topic>_<n>ecb.xml`` and ``<topic>_<n>ecbplus.xml``.
_FILE_NAME = re.compile(r"^(\d+)_(\d+)(ecb|ecbplus)\.xml$")

# A sentence that is nothing but a web address (the first line of every ecbplus file).
_URL = re.compile(r"^(?:https?|ftp)://\S+$", re.IGNORECASE)

# Sentence-final punctuation, possibly followed by closing quotes or brackets. A first sentence
# without it is a headline ("Lindsay Lohan Leaves Betty Ford, Checks Into Malibu Rehab"); one
# with it is the article's lead sentence, which ecb files open with, and stays in the body.
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")

# Detokenisation follows the Penn Treebank conventions the corpus was tokenised with.
# Tokens glued to the token before them: closing punctuation and English clitics.
_NO_SPACE_BEFORE = frozenset(
    {".", ",", ":", ";", "?", "!", "%", ")", "]", "}", "''", "”", "’", "...", "…"}
    | {"'s", "'S", "n't", "N'T", "'re", "'m", "'ve", "'d", "'ll", "'"}
)
# Tokens glued to the token after them: opening brackets, opening quotes and currency signs.
_NO_SPACE_AFTER = frozenset({"(", "[", "{", "``", "“", "‘", "$", "£", "€", "#"})
# Treebank quote tokens, written back as the straight quotes the articles used.
_QUOTES = {"``": '"', "''": '"'}
# Tokens glued on both sides when the tokeniser split words at them: the ecbplus files split
# "36-year-old" into "36 - year - old" and URLs at "/" and "_". The ecb files keep hyphenated
# words whole, and there a lone "-" is a dash between spaces (told apart by ``_HYPHENATED``).
_WORD_JOINERS = frozenset({"-", "/", "_"})
# A token with a hyphen inside a word: its file's tokeniser did not split hyphenated words.
_HYPHENATED = re.compile(r"\w-\w")


@dataclass(frozen=True, slots=True)
class LabelledDoc:
    """A benchmark document with its gold story label.

    ``gold`` names the real-world story (documents with equal ``gold`` belong together);
    ``group`` names the subset a result is broken down by (a topic, a language).
    """

    doc: RawDoc
    gold: str
    group: str


def detokenize(tokens: list[str], *, split_words: bool = True) -> str:
    """Join one sentence's tokens into text with the spacing a writer would have used.

    ``split_words`` says the tokeniser split words at hyphens and slashes, so those are glued
    back on both sides. Straight double quotes carry no direction, so they alternate: the first
    opens (glued to the next token), the second closes (glued to the previous one). A colon
    between two numbers is a clock time or a score and is glued on both sides ("4:00").
    """
    joiners = _WORD_JOINERS if split_words else frozenset()
    out: list[str] = []
    glue_next = True  # nothing goes before the first token
    quote_open = False
    for i, token in enumerate(tokens):
        glue = glue_next or token in _NO_SPACE_BEFORE or token in joiners
        glue_next = token in _NO_SPACE_AFTER or token in joiners
        if token == '"':
            glue, glue_next = (True, False) if quote_open else (glue, True)
            quote_open = not quote_open
        elif token == ":" and _between_digits(tokens, i):
            glue_next = True
        if not glue:
            out.append(" ")
        out.append(_QUOTES.get(token, token))
    return "".join(out)


def _between_digits(tokens: list[str], i: int) -> bool:
    """True when token ``i`` follows a token ending in a digit and precedes one starting with one."""
    return 0 < i < len(tokens) - 1 and tokens[i - 1][-1:].isdigit() and tokens[i + 1][:1].isdigit()


def _read_sentences(path: Path) -> list[list[str]]:
    """The token texts of an ECB+ file, grouped by sentence in sentence-number order.

    Parsed with expat directly, refusing any DTD: the corpus declares none, and refusing one
    rules out entity-expansion and external-entity tricks in a file that was swapped.
    """
    sentences: dict[int, list[tuple[int, str]]] = {}
    current: list[str] | None = None
    position: tuple[int, int] = (0, 0)

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal current, position
        if name == "token":
            current = []
            position = (int(attrs.get("sentence", "0")), int(attrs.get("number", "0")))

    def end(name: str) -> None:
        nonlocal current
        if name == "token" and current is not None:
            sentence, number = position
            sentences.setdefault(sentence, []).append((number, "".join(current).strip()))
            current = None

    def text(data: str) -> None:
        if current is not None:
            current.append(data)

    def refuse_dtd(*_: object) -> None:
        raise ValueError(f"{path}: a DOCTYPE declaration is not expected in ECB+ files")

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    with path.open("rb") as handle:
        parser.ParseFile(handle)
    return [[t for _, t in sorted(sentences[k]) if t] for k in sorted(sentences)]


def _load_file(path: Path, topic: str, kind: str) -> LabelledDoc:
    token_sentences = [s for s in _read_sentences(path) if s]
    url = ""
    if token_sentences and _URL.match("".join(token_sentences[0])):
        url = "".join(token_sentences.pop(0))
    split_words = not any(_HYPHENATED.search(t) for s in token_sentences for t in s)
    sentences = [detokenize(s, split_words=split_words) for s in token_sentences]
    title = ""
    if sentences and not _SENTENCE_END.search(sentences[0]):
        title = sentences.pop(0)
    doc = RawDoc(origin=str(path), text="\n".join(sentences), title=title, url=url, language="en")
    return LabelledDoc(doc=doc, gold=topic + ("plus" if kind == "ecbplus" else ""), group=topic)


def load_ecbplus(path: str | Path) -> list[LabelledDoc]:
    """Every document under ``path`` (the ``ECB+`` folder, or a folder holding it), ordered by
    topic number, then document number, ``ecb`` before ``ecbplus``.

    Text is rebuilt sentence by sentence, one sentence a line. A first sentence that is a URL
    becomes ``url``; a first (remaining) sentence without final punctuation becomes ``title``.
    Files not named like the release's (``<topic>_<n>ecb[plus].xml``) are ignored.
    """
    root = Path(path)
    if (root / "ECB+").is_dir():
        root = root / "ECB+"
    if not root.is_dir():
        raise FileNotFoundError(f"no ECB+ folder at {root}")
    found: list[tuple[tuple[int, int, int], Path, str, str]] = []
    for file in root.glob("*/*.xml"):
        match = _FILE_NAME.match(file.name)
        if match is None:
            continue
        topic, number, kind = match.groups()
        found.append(((int(topic), int(number), kind == "ecbplus"), file, topic, kind))
    found.sort(key=lambda item: item[0])
    return [_load_file(file, topic, kind) for _, file, topic, kind in found]
