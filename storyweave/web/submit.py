"""``POST /articles``: what a client may send, checked field by field before anything is stored.

An article is a JSON object with ``text`` (or ``body``) and optional ``title``, ``url``,
``published``, ``source`` and ``language``; a request holds one object or a list. These are the
canonical names of the JSON ingest (:mod:`storyweave.ingest.jsonl`), which then reads the checked
objects exactly as it reads a ``.json`` file (HTML bodies reduced to text, entities resolved), so
the API and ``storyweave ingest`` store the same article for the same record.

The API is stricter than the file ingest: an unknown field is an error (a typo such as ``txt``
would otherwise store an article without its text field's intent), and every problem is reported
with the item's index and the field's name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, TypedDict

from ..ingest.jsonl import parse_json_document
from ..records import IngestError, RawDoc

__all__ = ["MAX_ARTICLES", "FieldError", "check", "raw_docs"]

# Articles per request: each is embedded and clustered before the response, at tens of
# milliseconds each on two cores; bigger batches belong to `storyweave ingest`.
MAX_ARTICLES = 100
# Longest value of each field, in characters.
MAX_CHARS = {
    "text": 1_000_000,
    "body": 1_000_000,
    "title": 1_000,
    "url": 2_048,
    "published": 64,
    "source": 200,
    "language": 16,
}
TEXT_FIELDS = ("text", "body")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class FieldError(TypedDict):
    """One problem with a request body."""

    index: int | None  # the item of a list; None for a lone object or the body as a whole
    field: str | None  # None when the problem is not one field's
    message: str


def _error(index: int | None, field: str | None, message: str) -> FieldError:
    return FieldError(index=index, field=field, message=message)


def _check_item(item: Any, index: int | None) -> list[FieldError]:
    if not isinstance(item, dict):
        return [_error(index, None, f"an article must be a JSON object, not {type(item).__name__}")]
    errors = [_error(index, str(name), "unknown field") for name in item if name not in MAX_CHARS]
    for name, value in item.items():
        if name not in MAX_CHARS or value is None:
            continue
        if not isinstance(value, str):
            errors.append(_error(index, name, f"must be a string, not {type(value).__name__}"))
        elif len(value) > MAX_CHARS[name]:
            errors.append(_error(index, name, f"longer than {MAX_CHARS[name]:,} characters"))
        elif name == "url" and value and not _URL.fullmatch(value.strip()):
            errors.append(_error(index, name, "must be an http:// or https:// URL"))
        elif name == "language" and value and not _LANGUAGE.fullmatch(value.strip()):
            errors.append(_error(index, name, "must be a language code such as en, ar or pt-BR"))
    if not any(isinstance(item.get(f), str) and item[f].strip() for f in TEXT_FIELDS):
        errors.append(_error(index, "text", "required: the article's text (as `text` or `body`), not empty"))
    return errors


def check(payload: Any) -> list[FieldError]:
    """Every problem with a request body; empty when it can be ingested."""
    if isinstance(payload, dict):
        return _check_item(payload, None)
    if not isinstance(payload, list):
        return [_error(None, None, "the body must be an article object or a list of them")]
    if not payload:
        return [_error(None, None, "the list holds no articles")]
    if len(payload) > MAX_ARTICLES:
        return [_error(None, None, f"at most {MAX_ARTICLES} articles per request, not {len(payload)}")]
    return [error for index, item in enumerate(payload) for error in _check_item(item, index)]


def raw_docs(payload: dict[str, Any] | list[dict[str, Any]]) -> list[RawDoc | IngestError]:
    """The checked articles as the JSON ingest reads them. Their origin, ``api:TIME[INDEX]``, names
    the request; it also makes ``api`` the source of an article that gives neither source nor URL."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return list(parse_json_document(json.dumps(payload, ensure_ascii=False), f"api:{stamp}"))
