"""The reader's window: HTML pages and their JSON twins, datasette-style.

Every page at PATH has its data at PATH.json. One view function makes the data as a dict; the
HTML route renders it with the page's template and the JSON route returns it as is, so the two
never disagree. The JSON twins and ``POST /articles`` are the API, described at /openapi.json.

Article text is hostile: templates autoescape everything, charts are SVG drawn from escaped
strings, external links are only ever http(s), and every response carries a Content-Security-
Policy that allows no inline script or style at all. Pages, queries and request bodies are
bounded. Writing is off unless an ``api_token`` is configured.
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ..encode import Encoder, load_encoder
from ..pipeline import Pipeline
from ..store import SearchHit, Store
from . import charts, openapi
from .markup import anchor, article_highlights, mark_terms, render, spans_for
from .queries import (
    MAX_ENTITY_STORIES,
    StoryFilter,
    article_refs,
    entity_key,
    first_line,
    language_counts,
    list_stories,
    near_duplicates,
    story_cards,
)
from .search import MAX_KEYWORD_HITS, MAX_QUERY_CHARS, VectorIndex, snippet
from .submit import check, raw_docs

if TYPE_CHECKING:  # the CLI imports this package to register `serve`: no import back at run time
    from ..cli import Context

__all__ = ["CONTENT_SECURITY_POLICY", "create_app", "prepare"]

# Stories per page of /stories, and the most a client may ask for with ?size=.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Deepest page served: OFFSET costs grow with it, and nobody reads 200,000 stories by paging.
MAX_PAGE = 10_000
# Largest request body: MAX_ARTICLES long articles as JSON, with room for HTML bodies.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
LANGUAGE_PARAM_CHARS = 16
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # article links leave the site without saying where from
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}
# Languages written right to left: their article bodies get dir="rtl"; all other text on a page
# gets dir="auto", which the browser resolves from its first strong character.
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})
SEARCH_MODES = ("all", "keyword", "semantic")
ENTITY_KINDS = ("person", "organisation", "place")
EXTENSION = "storyweave"


class _SerialEncoder:
    """An encoder shared by request threads, used by one at a time (the engines are not
    documented as thread-safe, and two at once would only split the same cores)."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._lock = threading.Lock()
        self.name = encoder.name
        self.dim = encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self._encoder.encode(texts)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self._encoder.encode_query(texts)


class Reader:
    """What the app keeps between requests: the CLI context (settings, store, analysis), the
    encoder (loaded on first use: pages that need none start fast), the vectors for semantic
    search, and the lock that makes POSTed articles join stories one request at a time, as the
    clusterer needs."""

    def __init__(self, context: Context, encoder: Encoder | None) -> None:
        self.context = context
        self.settings = context.settings
        self._encoder = None if encoder is None else _SerialEncoder(encoder)
        self._loading = threading.Lock()
        self.vectors = VectorIndex()
        self.writing = threading.Lock()

    @property
    def encoder(self) -> Encoder:
        with self._loading:
            if self._encoder is None:
                self._encoder = _SerialEncoder(load_encoder(self.settings.encoder, self.settings.encoder_threads))
            return self._encoder


def _reader() -> Reader:
    reader: Reader = current_app.extensions[EXTENSION]
    return reader


def _store() -> Store:
    """This request's store connection (a connection belongs to one thread)."""
    if "store" not in g:
        g.store = _reader().context.store()
    store: Store = g.store
    return store


# --- query parameters --------------------------------------------------------------------------


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"`{name}` must be a whole number") from None
    if not low <= value <= high:
        raise BadRequest(f"`{name}` must be between {low} and {high}")
    return value


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"`{name}` must be a date written YYYY-MM-DD") from None


def _language_arg() -> str | None:
    raw = request.args.get("language", "")
    if raw and (len(raw) > LANGUAGE_PARAM_CHARS or not raw.replace("-", "").isalnum()):
        raise BadRequest("`language` must be a language code such as en or ar")
    return raw or None


def _entity_arg() -> str | None:
    raw = request.args.get("entity", "")
    if raw and entity_key(raw) is None:
        raise BadRequest("`entity` must be an entity id such as e_km_jng_n")
    return raw or None


# --- views: each returns the page's data (or a redirect) -----------------------------------------


def stories_view() -> dict[str, Any]:
    filters = StoryFilter(_language_arg(), _date_arg("since"), _date_arg("until"), _entity_arg())
    page = _int_arg("page", 1, 1, MAX_PAGE)
    size = _int_arg("size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    store = _store()
    ids, total = list_stories(store, filters, size, (page - 1) * size)
    return {
        "stories": story_cards(store, ids, _reader().settings.reader_language),
        "page": page,
        "page_size": size,
        "total": total,
        "filters": filters.params(),
        "languages": language_counts(store),
    }


def story_view(story_id: str) -> dict[str, Any] | BaseResponse:
    store, reader = _store(), _reader()
    found = store.story(story_id)
    if found is None:
        abort(404, f"no story {story_id!r}")
    if found.id != story_id:  # a merged story's id or a prefix: one canonical URL per story
        return redirect(url_for(str(request.endpoint), story_id=found.id))
    analysis = reader.context.analysis(store, found, reader.encoder)
    card = story_cards(store, [found.id], reader.settings.reader_language)[0]
    articles = [{**a.to_dict(), "lead": first_line(a.body)} for a in found.articles]
    return {**found.to_dict(), **card, "articles": articles, **analysis, "activity": charts.activity_counts(found.articles)}


def article_view(article_id: str) -> dict[str, Any]:
    store, reader = _store(), _reader()
    found = store.article(article_id)
    story = None if found is None else store.story(store.story_of(article_id) or "")
    if found is None or story is None:
        abort(404, f"no article {article_id!r}")
    analysis = reader.context.analysis(store, story, reader.encoder)
    return {
        **found.to_dict(with_body=True),
        "story": story_cards(store, [story.id], reader.settings.reader_language)[0],
        "highlights": article_highlights(analysis, found.id),
        "near_duplicates": near_duplicates(store, found.id),
    }


def entity_view(entity_id: str) -> dict[str, Any]:
    """The entity in every story whose current analysis lists it; stories whose articles name it
    but that nobody has opened since they changed are listed apart, unanalysed: analysing them
    all here would make one page cost seconds per story."""
    key = entity_key(entity_id)
    if key is None:
        abort(404, f"{entity_id!r} is not an entity id")
    store, language = _store(), _reader().settings.reader_language
    found = [
        (s, a)
        for s, version, a in store.analyses_with_entity(entity_id, MAX_ENTITY_STORIES)
        if store.story_version(s) == version
    ]
    names: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    forms: dict[str, set[str]] = {}
    mentions: dict[str, int] = {}
    quotes = []
    for story_id, analysis in found:
        entity = next(e for e in analysis["entities"] if e["id"] == entity_id)
        names[entity["name"]] += 1
        kinds[entity["kind"]] += 1
        for lang, written in entity["surface_forms"].items():
            forms.setdefault(lang, set()).update(written)
        mentions[story_id] = len(entity["mentions"])
        quotes += [{**q, "story_id": story_id} for q in analysis["quotes"] if q["speaker_entity"] == entity_id]
    cards = story_cards(store, list(mentions), language)
    others = [s for s in store.stories_mentioning(key, MAX_ENTITY_STORIES) if s not in mentions]
    if not cards and not others:
        abort(404, f"no story names {entity_id!r}")
    return {
        "id": entity_id,
        "key": key,
        "name": names.most_common(1)[0][0] if names else None,
        "kind": kinds.most_common(1)[0][0] if kinds else None,
        "surface_forms": {lang: sorted(written) for lang, written in sorted(forms.items())},
        "stories": [{**card, "mentions": mentions[card["id"]]} for card in cards],
        "quotes": quotes,
        "unanalysed_stories": story_cards(store, others, language),
    }


def _grouped(hits: Sequence[SearchHit], query: str) -> list[dict[str, Any]]:
    """Hits grouped by story, stories in the order of their best hit."""
    if not hits:
        return []
    store = _store()
    briefs = store.article_briefs([h.article_id for h in hits], whole_body=True)
    refs = {r["id"]: r for r in article_refs(briefs)}
    bodies = {b["id"]: b["lead"] for b in briefs}
    groups: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        ref = refs.get(hit.article_id)
        if ref is not None:
            item = {**ref, "score": round(hit.score, 4), "snippet": snippet(bodies[hit.article_id], query)}
            groups.setdefault(ref["story_id"], []).append(item)
    cards = story_cards(store, list(groups), _reader().settings.reader_language)
    return [{"story": card, "articles": groups[card["id"]]} for card in cards]


def search_view() -> dict[str, Any]:
    raw = request.args.get("q", "")
    if len(raw) > MAX_QUERY_CHARS:
        raise BadRequest(f"`q` is longer than {MAX_QUERY_CHARS} characters")
    query = " ".join(raw.split())
    mode = request.args.get("mode") or "all"
    if mode not in SEARCH_MODES:
        raise BadRequest(f"`mode` must be one of {', '.join(SEARCH_MODES)}")
    reader, store = _reader(), _store()
    keyword = semantic = None
    if mode in ("all", "keyword"):
        keyword = _grouped(store.search_text(query, MAX_KEYWORD_HITS), query) if query else []
    if mode in ("all", "semantic"):
        semantic = _grouped(reader.vectors.search(store, reader.encoder, query), "") if query else []
    return {"query": query, "mode": mode, "keyword": keyword, "semantic": semantic}


# --- writing -------------------------------------------------------------------------------------


def _json_error(status: int, message: str, **headers: str) -> tuple[Response, int, dict[str, str]]:
    return jsonify({"error": message}), status, headers


def post_articles() -> Any:
    """Ingest articles through the CLI's pipeline; bearer token required, disabled without one."""
    reader = _reader()
    token = reader.settings.api_token
    if not token:
        return _json_error(403, "the API is read-only: set STORYWEAVE_API_TOKEN to accept articles")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _json_error(401, "a valid `Authorization: Bearer TOKEN` header is required", **{"WWW-Authenticate": "Bearer"})
    payload = request.get_json(force=True, silent=True)
    if payload is None:
        return _json_error(400, "the body must be JSON: an article object or a list of them")
    problems = check(payload)
    if problems:
        return jsonify({"error": "invalid articles", "errors": problems}), 422
    store, s = _store(), reader.settings
    with reader.writing:
        pipeline = Pipeline(store, reader.encoder, embed_chars=s.embed_chars, batch_size=s.batch_size)
        report = pipeline.run(raw_docs(payload))
    touched = dict.fromkeys(r for r in (store.resolve(i) for i in report.story_ids) if r is not None)
    return jsonify(
        {
            **report.to_dict(),
            "articles": [
                {"article_id": a.article_id, "story_id": store.resolve(a.story_id) or a.story_id, "decision": a.decision}
                for a in report.assignments
            ],
            "stories": list(touched),
        }
    )


# --- the app -------------------------------------------------------------------------------------


def _json_url() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ".json" + (f"?{query}" if query else "")


def _twin(app: Flask, rule: str, endpoint: str, template: str, view: Callable[..., Any]) -> None:
    """Register a page at ``rule`` and its JSON twin at ``rule.json``."""

    def as_html(**kwargs: Any) -> Any:
        data = view(**kwargs)
        return data if isinstance(data, BaseResponse) else render_template(template, **data, json_url=_json_url())

    def as_json(**kwargs: Any) -> Any:
        data = view(**kwargs)
        return data if isinstance(data, BaseResponse) else jsonify(data)

    app.add_url_rule(rule, endpoint, as_html)
    app.add_url_rule(rule + ".json", endpoint + "_json", as_json)


def _by_id(items: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {item["id"]: item for item in items}


def _direction(language: str) -> str:
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "auto"


def _cite_url(citation: Mapping[str, Any]) -> str:
    return url_for("article", article_id=citation["article_id"], _anchor=anchor(citation))


def _entity_url(entity_id: str) -> str:
    return url_for("entity", entity_id=entity_id)


def _page_url(page: int) -> str:
    args: dict[str, Any] = {**request.args.to_dict(), "page": page}
    return url_for(str(request.endpoint), **args)


def _body_html(body: str, highlights: Mapping[str, Any]) -> Any:
    return render(body, spans_for(highlights, _entity_url))


def _on_error(error: HTTPException) -> Any:
    if request.path.endswith(".json") or request.method not in ("GET", "HEAD"):
        return _json_error(error.code or 500, str(error.description))
    return render_template("error.html", error=error, json_url=None), error.code or 500


def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _close_store(_: BaseException | None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def create_app(context: Context | None = None, *, encoder: Encoder | None = None) -> Flask:
    """The web app over the store ``context.settings.db`` names.

    ``context`` is the CLI's (its settings, store and cached analysis are the app's); without
    one the settings come from the environment, as for a WSGI server. ``encoder`` saves loading
    one where the caller holds one already (tests, embedding in another program).
    """
    if context is None:
        from ..cli import Context

        context = Context(None)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = Reader(context, encoder)
    app.jinja_env.globals.update(
        timeline_chart=charts.timeline_chart,
        activity_chart=charts.activity_chart,
        languages_chart=charts.languages_chart,
        cite_url=_cite_url,
        entity_url=_entity_url,
        page_url=_page_url,
        direction=_direction,
        first_line=first_line,
        body_html=_body_html,
        mark_terms=mark_terms,
        entity_kinds=ENTITY_KINDS,
        reader_language=context.settings.reader_language,
    )
    app.jinja_env.filters["by_id"] = _by_id
    _twin(app, "/stories", "stories", "stories.html", stories_view)
    _twin(app, "/stories/<story_id>", "story", "story.html", story_view)
    _twin(app, "/articles/<article_id>", "article", "article.html", article_view)
    _twin(app, "/entities/<entity_id>", "entity", "entity.html", entity_view)
    _twin(app, "/search", "search", "search.html", search_view)
    app.add_url_rule("/articles", "post_articles", post_articles, methods=["POST"])
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(openapi.document()))
    app.add_url_rule("/", "home", lambda: redirect(url_for("stories")))
    app.register_error_handler(HTTPException, _on_error)
    app.after_request(_secure)
    app.teardown_appcontext(_close_store)
    return app


def prepare(app: Flask) -> None:
    """Bring the keyword index up to date now rather than on the first search (the first
    catch-up over a large store takes a while)."""
    reader: Reader = app.extensions[EXTENSION]
    store = reader.context.store()
    try:
        store.update_search_index()
    finally:
        store.close()
