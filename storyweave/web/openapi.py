"""The OpenAPI 3.1 description of the JSON API, served at ``/openapi.json``.

Written out by hand, next to the code that makes the shapes, and held to it by the tests: every
JSON twin the test suite fetches is validated against its response schema here. Objects are
closed (``additionalProperties: false``), so a field added to a record without being described
here fails the tests instead of drifting silently. OpenAPI 3.1 schemas are JSON Schema 2020-12,
so any JSON Schema validator checks responses against them.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from .queries import ENTITY_ID
from .search import MAX_QUERY_CHARS
from .submit import MAX_ARTICLES, MAX_CHARS

__all__ = ["document", "response_schema"]

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
STRINGS: Schema = {"type": "array", "items": STRING}
ENTITY: Schema = {"type": "string", "pattern": f"^{ENTITY_ID.pattern}$"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _object(properties: dict[str, Schema], optional: tuple[str, ...] = (), description: str = "") -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


_CITATION = {"article_id": STRING, "start": INTEGER, "end": INTEGER}
_ARTICLE = {
    "id": STRING,
    "origin": STRING,
    "source": STRING,
    "url": STRING,
    "title": STRING,
    "language": STRING,
    "published": _ref("PublishedDate"),
    "ingested_at": STRING,
    "duplicate_of": NULLABLE_STRING,
}
_CARD = {
    "id": STRING,
    "title": {"type": "string", "description": "From an article in the reader's language where there is one."},
    "size": {"type": "integer", "description": "Articles, syndicated copies not counted."},
    "languages": STRINGS,
    "sources": STRINGS,
    "first_published": NULLABLE_STRING,
    "last_published": NULLABLE_STRING,
    "updated_at": STRING,
}
_ARTICLE_REF = {
    "id": STRING,
    "story_id": STRING,
    "title": STRING,
    "language": STRING,
    "source": STRING,
    "url": STRING,
    "published": NULLABLE_STRING,
}
_QUOTE = {
    "text": STRING,
    "speaker": STRING,
    "speaker_entity": NULLABLE_STRING,
    "language": STRING,
    "citation": _ref("Citation"),
}

SCHEMAS: dict[str, Schema] = {
    "PublishedDate": _object(
        {
            "date": {"type": ["string", "null"], "description": "2023-09-13, 2023-09 or 2023, as precise as the evidence."},
            "precision": {"enum": ["day", "month", "year", "unknown"]},
            "origin": STRING,
        }
    ),
    "Citation": _object(_CITATION, description="A character span [start, end) of an article's body."),
    "Article": _object({**_ARTICLE, "lead": {"type": "string", "description": "The body's first line."}}),
    "Mention": _object({"text": STRING, "kind": STRING, "key": STRING, "citation": _ref("Citation")}),
    "Entity": _object(
        {
            "id": STRING,
            "name": STRING,
            "kind": {"enum": ["person", "organisation", "place"]},
            "surface_forms": {"type": "object", "additionalProperties": STRINGS, "description": "language -> forms as written"},
            "mentions": _array("Mention"),
        }
    ),
    "Quote": _object(_QUOTE),
    "TimelineEvent": _object(
        {
            "date": _ref("PublishedDate"),
            "uncertain": {"type": "boolean"},
            "text": STRING,
            "expression": STRING,
            "citations": _array("Citation"),
        }
    ),
    "Claim": _object(
        {
            "text": STRING,
            "languages": STRINGS,
            "sources": STRINGS,
            "citations": _array("Citation"),
            "single_source": {"type": "boolean"},
        }
    ),
    "Summary": _object(
        {
            "mode": STRING,
            "language": STRING,
            "sentences": {"type": "array", "items": _object({"text": STRING, "citation": _ref("Citation")})},
        }
    ),
    "StoryCard": _object(_CARD),
    "LanguageCount": _object({"language": STRING, "articles": INTEGER}),
    "ActivityCount": _object(
        {"period": STRING, "precision": {"enum": ["day", "month", "year", "unknown"]}, "language": STRING, "articles": INTEGER}
    ),
    "StoryList": _object(
        {
            "stories": _array("StoryCard"),
            "page": INTEGER,
            "page_size": INTEGER,
            "total": INTEGER,
            "filters": _object(
                {"language": NULLABLE_STRING, "since": NULLABLE_STRING, "until": NULLABLE_STRING, "entity": NULLABLE_STRING}
            ),
            "languages": {**_array("LanguageCount"), "description": "Articles per language in the whole collection."},
        }
    ),
    "StoryDetail": _object(
        {
            **_CARD,
            "created_at": STRING,
            "merged_ids": STRINGS,
            "articles": _array("Article"),
            "entities": _array("Entity"),
            "quotes": _array("Quote"),
            "timeline": _array("TimelineEvent"),
            "claims": _array("Claim"),
            "summary": {"oneOf": [_ref("Summary"), {"type": "null"}]},
            "activity": _array("ActivityCount"),
        }
    ),
    "ArticleRef": _object(_ARTICLE_REF),
    "ArticleDetail": _object(
        {
            **_ARTICLE,
            "body": STRING,
            "story": _ref("StoryCard"),
            "highlights": _object(
                {
                    "mentions": {
                        "type": "array",
                        "items": _object(
                            {"text": STRING, "kind": STRING, "entity_id": STRING, "entity": STRING, "start": INTEGER, "end": INTEGER}
                        ),
                    },
                    "quotes": _array("Quote"),
                    "citations": {"type": "array", "items": _object({"start": INTEGER, "end": INTEGER})},
                }
            ),
            "near_duplicates": {
                "type": "array",
                "items": _object(
                    {
                        **_ARTICLE_REF,
                        "relation": {"enum": ["original", "copy", "similar"]},
                        "similarity": {"type": ["number", "null"], "description": "Cosine of the vectors, for similar articles."},
                    }
                ),
            },
        }
    ),
    "EntityPage": _object(
        {
            "id": STRING,
            "key": {"type": "string", "description": "The cross-script name key the id is made from."},
            "name": NULLABLE_STRING,
            "kind": NULLABLE_STRING,
            "surface_forms": {"type": "object", "additionalProperties": STRINGS},
            "stories": {"type": "array", "items": _object({**_CARD, "mentions": INTEGER})},
            "quotes": {"type": "array", "items": _object({**_QUOTE, "story_id": STRING})},
            "unanalysed_stories": {
                **_array("StoryCard"),
                "description": "Stories whose articles name the entity but whose analysis is not made yet.",
            },
        }
    ),
    "SearchGroup": _object(
        {
            "story": _ref("StoryCard"),
            "articles": {
                "type": "array",
                "items": _object({**_ARTICLE_REF, "score": {"type": "number"}, "snippet": STRING}),
            },
        }
    ),
    "SearchResults": _object(
        {
            "query": STRING,
            "mode": {"enum": ["all", "keyword", "semantic"]},
            "keyword": {"oneOf": [_array("SearchGroup"), {"type": "null"}]},
            "semantic": {"oneOf": [_array("SearchGroup"), {"type": "null"}]},
        }
    ),
    "IngestArticle": {
        **_object(
            {name: {"type": "string", "maxLength": size} for name, size in MAX_CHARS.items()},
            optional=tuple(MAX_CHARS),
            description="Canonical field names of the JSON ingest; `text` (or `body`) is required.",
        ),
        "anyOf": [{"required": ["text"]}, {"required": ["body"]}],
    },
    "IngestRequest": {
        "oneOf": [_ref("IngestArticle"), {"type": "array", "items": _ref("IngestArticle"), "minItems": 1, "maxItems": MAX_ARTICLES}]
    },
    "IngestResult": _object(
        {
            "added": INTEGER,
            "duplicates": INTEGER,
            "already_stored": INTEGER,
            "errors": {"type": "array", "items": _object({"origin": STRING, "message": STRING})},
            "articles": {
                "type": "array",
                "items": _object({"article_id": STRING, "story_id": STRING, "decision": {"enum": ["join", "new", "duplicate"]}}),
            },
            "stories": {**STRINGS, "description": "Every story the request touched (already stored articles included)."},
        }
    ),
    "ValidationError": _object(
        {
            "error": STRING,
            "errors": {
                "type": "array",
                "items": _object({"index": {"type": ["integer", "null"]}, "field": NULLABLE_STRING, "message": STRING}),
            },
        }
    ),
    "Error": _object({"error": STRING}),
}


def _json(name: str, description: str = "OK") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _param(name: str, where: str, description: str, schema: Schema | None = None) -> Schema:
    return {"name": name, "in": where, "required": where == "path", "description": description, "schema": schema or STRING}


_NOT_FOUND = _json("Error", "Not found")
_BAD_PARAMETER = _json("Error", "A query parameter is invalid; the message names it")
_CANONICAL = {"description": "Redirect to the canonical id (a merged story's alias, or an id prefix)"}


def _get(summary: str, result: str, parameters: list[Schema], errors: dict[str, Schema]) -> Schema:
    return {"get": {"summary": summary, "parameters": parameters, "responses": {"200": _json(result), **errors}}}


PATHS: dict[str, Schema] = {
    "/stories.json": _get(
        "Stories, newest activity first (the HTML page is /stories)",
        "StoryList",
        [
            _param("language", "query", "Only stories with an article in this language"),
            _param("since", "query", "Only stories with an article published on or after this day", {"type": "string", "format": "date"}),
            _param("until", "query", "Only stories with an article published on or before this day", {"type": "string", "format": "date"}),
            _param("entity", "query", "Only stories naming this entity", ENTITY),
            _param("page", "query", "Page number, from 1", {"type": "integer", "minimum": 1}),
            _param("size", "query", "Stories per page", {"type": "integer", "minimum": 1, "maximum": 100}),
        ],
        {"400": _BAD_PARAMETER},
    ),
    "/stories/{story_id}.json": _get(
        "One story with its articles and analysis (made on first request, kept until the story changes)",
        "StoryDetail",
        [_param("story_id", "path", "A story id, a merged story's id or an unambiguous prefix")],
        {"302": _CANONICAL, "404": _NOT_FOUND},
    ),
    "/articles/{article_id}.json": _get(
        "One article: its text, what the analysis found in it, its story and near duplicates",
        "ArticleDetail",
        [_param("article_id", "path", "An article id")],
        {"404": _NOT_FOUND},
    ),
    "/entities/{entity_id}.json": _get(
        "A person, place or organisation across stories and languages",
        "EntityPage",
        [_param("entity_id", "path", "An entity id such as e_km_jng_n", ENTITY)],
        {"404": _NOT_FOUND},
    ),
    "/search.json": _get(
        "Keyword (the store's full-text index, any script) and semantic (cross-language) search, grouped by story",
        "SearchResults",
        [
            _param("q", "query", "The query; `word*` is a prefix", {"type": "string", "maxLength": MAX_QUERY_CHARS}),
            _param("mode", "query", "Which searches to run", {"enum": ["all", "keyword", "semantic"]}),
        ],
        {"400": _BAD_PARAMETER},
    ),
    "/articles": {
        "post": {
            "summary": "Ingest articles through the same pipeline as `storyweave ingest`",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("IngestRequest")}}},
            "responses": {
                "200": _json("IngestResult", "Ingested; items the pipeline could not read are listed in `errors`"),
                "400": _json("Error", "The body is not JSON"),
                "401": _json("Error", "Missing or wrong bearer token"),
                "403": _json("Error", "The API is read-only: no api_token is configured"),
                "413": _json("Error", "The body is too large"),
                "422": _json("ValidationError", "Invalid articles; each error names the item and field"),
            },
        }
    },
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "storyweave",
            "version": __version__,
            "description": (
                "Multilingual news stories. Every HTML page has a JSON twin at the same URL plus `.json`; "
                "those twins are this API. It is read-only unless an api_token is configured, "
                "which POST /articles must present as a bearer token."
            ),
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def response_schema(path: str, status: str = "200", method: str = "get") -> Schema:
    """The JSON schema of one response, for validators (its $refs point into :func:`document`)."""
    return dict(PATHS[path][method]["responses"][status]["content"]["application/json"]["schema"])
