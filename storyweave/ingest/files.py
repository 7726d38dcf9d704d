"""Files as the ingest stage meets them: walking folders, refusing what is not text, decoding.

Everything here is lazy and bounded: a folder of a million files is walked one directory listing at a
time, a file over :data:`MAX_FILE_BYTES` is refused without being read, and a binary file is
recognised from its first :data:`BINARY_SNIFF_BYTES`. Each problem becomes an
:class:`~storyweave.records.IngestError` naming the file, so one bad item never stops a run.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import charset_normalizer

from ..records import IngestError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "BINARY_SNIFF_BYTES",
    "MAX_FILE_BYTES",
    "Rewound",
    "decode_bytes",
    "decode_line",
    "has_nul",
    "read_capped",
    "read_file",
    "walk",
]

# Files over this size are refused unread. A news page is 50-500 KB of HTML and its text a few
# KB; 20 MB still admits pages with inline assets and .json archives of a few thousand articles,
# while bounding what one file can cost in memory. JSON lines files are exempt: they are streamed
# record by record, each record capped by jsonl.MAX_RECORD_BYTES.
MAX_FILE_BYTES = 20 * 1024 * 1024

# How much of a file's start is looked at to call it binary before reading the rest.
BINARY_SNIFF_BYTES = 8192

# Share of control characters (C0/C1 other than tab, newlines, form feed) above which decoded
# content is binary after all: text in any script has next to none, while binary formats that
# happen to contain no NUL byte and decode in some 8-bit code page are full of them.
MAX_CONTROL_SHARE = 0.02

# Bytes that are mostly valid UTF-8 with a few broken sequences (a truncated copy, one stray
# Latin-1 byte) are still UTF-8: re-decoding them in a legacy code page would turn every correct
# non-ASCII character into mojibake. "Mostly" means at least this many well-formed non-ASCII
# characters per broken sequence; text in a legacy code page forms almost no valid UTF-8 sequence.
MIN_UTF8_CHARS_PER_ERROR = 20

# Legacy encodings still met on news sites, most used first. charset-normalizer chooses among these
# only: left to all its code pages it prefers, on short texts, ones no news site uses (x-mac-cyrillic
# for a Russian sentence, ISO-8859-14 for a French one). The order breaks its ties: on a sentence or
# two it can find cp1250 and cp1252 equally plausible for French, cp1253 and cp1255 for Hebrew;
# longer texts are told apart by its language coherence.
LEGACY_ENCODINGS = (
    "cp1252", "cp1251", "cp1256", "gb18030", "cp932", "cp949", "big5", "euc_jp", "cp1250", "cp1254",
    "cp1255", "cp1253", "cp1257", "cp1258", "cp874", "koi8_r", "koi8_u", "iso8859_6", "iso8859_8",
)  # fmt: skip
_LEGACY_RANK = {codecs.lookup(name).name: rank for rank, name in enumerate(LEGACY_ENCODINGS)}

# Byte-order marks, longest first (the UTF-32-LE mark begins with the UTF-16-LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_WIDE_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32-LE's starts as UTF-16-LE's
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_MB = 1024 * 1024


def walk(paths: Iterable[str | Path]) -> Iterator[Path | IngestError]:
    """Every regular file under ``paths``, depth first, in sorted name order.

    Paths named explicitly are taken as given (a hidden file the user names is read); inside folders,
    hidden files and folders are skipped. A folder reached twice through symbolic links is read once,
    and a link back to a folder being walked is reported as a loop instead of followed.
    """
    for given in paths:
        path = Path(given)
        try:
            info = path.stat()
        except OSError as exc:
            yield IngestError(str(path), _os_message(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(path, info)
        elif stat.S_ISREG(info.st_mode):
            yield path
        else:
            yield IngestError(str(path), "not a regular file")


def _walk_folder(root: Path, root_info: os.stat_result) -> Iterator[Path | IngestError]:
    # An explicit stack (not recursion) so that deep trees cannot exhaust Python's recursion limit;
    # each level holds one directory's sorted listing of names, never the files' contents.
    seen: set[tuple[int, int]] = {(root_info.st_dev, root_info.st_ino)}
    ancestors: list[tuple[int, int]] = [(root_info.st_dev, root_info.st_ino)]
    stack: list[Iterator[os.DirEntry[str]]] = []
    listing = _list(root)
    if isinstance(listing, IngestError):
        yield listing
        return
    stack.append(listing)
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            ancestors.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            info = path.stat()  # follows symbolic links, as the walk does
        except OSError as exc:
            yield IngestError(str(path), _os_message(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                yield IngestError(str(path), "symbolic link loop: points back to a folder being read")
                continue
            if key in seen:
                continue  # an alias of a folder already read
            seen.add(key)
            listing = _list(path)
            if isinstance(listing, IngestError):
                yield listing
                continue
            ancestors.append(key)
            stack.append(listing)
        elif stat.S_ISREG(info.st_mode):
            yield path
        else:
            yield IngestError(str(path), "not a regular file")


def _list(folder: Path) -> Iterator[os.DirEntry[str]] | IngestError:
    try:
        with os.scandir(folder) as entries:
            return iter(sorted(entries, key=lambda entry: entry.name))
    except OSError as exc:
        return IngestError(str(folder), f"cannot list folder: {exc.strerror or exc}")


def read_file(path: Path) -> bytes | IngestError:
    """The bytes of one file, or an error if it is too large, binary or unreadable."""
    origin = str(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return _too_large(origin, size)
            return read_capped(fh, origin)
    except OSError as exc:
        return IngestError(origin, _os_message(exc))


def read_capped(stream: BinaryIO, origin: str, head: bytes = b"") -> bytes | IngestError:
    """Read a stream to its end, refusing more than :data:`MAX_FILE_BYTES` and binary content.

    ``head`` holds bytes already taken from the stream (to sniff its format). The binary check runs
    on the first :data:`BINARY_SNIFF_BYTES` before the rest is read.
    """
    if len(head) < BINARY_SNIFF_BYTES:
        head += stream.read(BINARY_SNIFF_BYTES - len(head))
    if has_nul(head):
        return IngestError(origin, "binary content, not text")
    rest = stream.read(MAX_FILE_BYTES + 1 - len(head)) if len(head) <= MAX_FILE_BYTES else b""
    data = head + rest
    if len(data) > MAX_FILE_BYTES:
        return _too_large(origin, None)
    return data


def _too_large(origin: str, size: int | None) -> IngestError:
    what = f"{size / _MB:.0f} MB, over" if size is not None else "over"
    return IngestError(
        origin,
        f"file is {what} the {MAX_FILE_BYTES // _MB} MB limit; split it into smaller files "
        "(JSON lines files are read record by record and have no file limit)",
    )


def has_nul(head: bytes) -> bool:
    """True when a file's first bytes say binary: a NUL byte outside BOM-marked UTF-16/32 text."""
    return b"\x00" in head and not head.startswith(_WIDE_BOMS)


def decode_bytes(data: bytes, origin: str) -> str | IngestError:
    """Text from bytes in whatever encoding they use, or an error if they are not text.

    UTF-8 (with or without BOM) and BOM-marked UTF-16/32 are taken as such; anything else goes to
    charset-normalizer, which tells the legacy code pages apart by how plausible the decoded text is
    (windows-1256 for Arabic, windows-1251 for Russian, cp1252 for Western European text), among
    :data:`LEGACY_ENCODINGS`. Empty and whitespace-only content is an error: there is no article in it.
    """
    text = _decode(data)
    if text is None:
        return IngestError(origin, "binary content or unknown text encoding")
    if not text.strip():
        return IngestError(origin, "empty: no text")
    sample = text[:BINARY_SNIFF_BYTES]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)
    if controls > MAX_CONTROL_SHARE * len(sample):
        return IngestError(origin, "binary content, not text")
    return text


def _decode(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    if has_nul(data[:BINARY_SNIFF_BYTES]):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    errors = lenient.count("\ufffd")
    wellformed = sum(1 for ch in lenient if ord(ch) > 0x7F) - errors
    if wellformed >= MIN_UTF8_CHARS_PER_ERROR * errors:
        return lenient
    matches = charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS))
    best = matches.best() or charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)] or [best]
    return str(min(tied, key=lambda m: _LEGACY_RANK.get(codecs.lookup(m.encoding).name, len(_LEGACY_RANK))))


def decode_line(data: bytes) -> str:
    """One record's bytes as text: JSON is UTF-8 by definition, other encodings are guessed."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = _decode(data)
        return data.decode("utf-8", errors="replace") if decoded is None else decoded


def _os_message(exc: OSError) -> str:
    # strerror is the human part ("Permission denied", "Too many levels of symbolic links").
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    return f"cannot read: {exc.strerror or exc}"


class Rewound(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff its format), served again first."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
