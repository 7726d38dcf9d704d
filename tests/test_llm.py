"""The chat-completions client and the LLM summary writer, against a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from storyweave.analyse.summary import LLMSummaryWriter, summarise
from storyweave.llm import ChatClient, LLMError
from storyweave.records import Article, Citation, Claim, PublishedDate

KEY = "sk-test-0123456789"
MODEL = "tiny-chat"


class Seen:
    """What the server received, and how it answers (status, body bytes, delay)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], tuple[int, bytes]] = lambda body: (200, completion("hello"))
        self.delay = 0.0


def completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
    ).encode()


@pytest.fixture
def server() -> Iterator[tuple[str, Seen]]:
    """An OpenAI-compatible endpoint on 127.0.0.1 (free port); yields its /v1 base URL."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server dispatches to
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            body = json.loads(raw) if raw else {}
            seen.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            time.sleep(seen.delay)
            status, payload = seen.answer(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True  # a handler still sleeping (the timeout test) does not hold teardown
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_complete_speaks_the_protocol(server: tuple[str, Seen]) -> None:
    url, seen = server
    client = ChatClient(url + "/", MODEL, api_key=KEY)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
    assert client.complete(messages, temperature=0.3) == "hello"
    (request,) = seen.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"model": MODEL, "messages": messages, "temperature": 0.3}


def test_no_key_sends_no_authorization(server: tuple[str, Seen]) -> None:
    url, seen = server
    ChatClient(url, MODEL).complete([{"role": "user", "content": "hi"}])
    assert "Authorization" not in seen.requests[0]["headers"]


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (500, b'{"error": "model crashed"}', "HTTP 500"),
        (401, f'{{"error": "bad key {KEY}"}}'.encode(), "HTTP 401"),
        (200, b"<html>gateway says no</html>", "not a chat completion"),
        (200, b'{"choices": []}', "not a chat completion"),
        (200, b'{"choices": [{"message": {"content": null}}]}', "no text content"),
    ],
)
def test_failures_raise_llm_error_without_the_key(
    server: tuple[str, Seen], status: int, payload: bytes, message: str
) -> None:
    url, seen = server
    seen.answer = lambda body: (status, payload)
    with pytest.raises(LLMError, match=message) as caught:
        ChatClient(url, MODEL, api_key=KEY).complete([{"role": "user", "content": "hi"}])
    assert KEY not in str(caught.value)


def test_timeout_and_refused_connection_raise_llm_error(server: tuple[str, Seen]) -> None:
    url, seen = server
    seen.delay = 1.0
    with pytest.raises(LLMError, match="no answer within"):
        ChatClient(url, MODEL, timeout=0.2).complete([{"role": "user", "content": "hi"}])
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(LLMError, match="cannot connect"):
        ChatClient(f"http://127.0.0.1:{port}/v1", MODEL).complete([{"role": "user", "content": "hi"}])


def test_settings_and_what_the_client_shows() -> None:
    assert ChatClient.from_settings("", MODEL, KEY) is None
    client = ChatClient.from_settings("https://llm.example/v1", MODEL, KEY)
    assert client is not None and client.base_url == "https://llm.example/v1" and client.model == MODEL
    assert KEY not in repr(client)
    with pytest.raises(ValueError):
        ChatClient("file:///etc/passwd", MODEL)  # urllib would open it: only http(s) is allowed
    with pytest.raises(ValueError):
        ChatClient("https://llm.example/v1", "")


# --- The abstractive summary, end to end -------------------------------------------------------


def story() -> tuple[list[Article], list[Claim]]:
    def make(ident: str, language: str, body: str) -> Article:
        return Article(
            id=ident, fingerprint=ident, origin=ident, source=f"source-{ident}", url="", title="", body=body,
            language=language, published=PublishedDate(), ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        )

    a = make("a", "de", "Der Damm bei Orvik brach am Montag. Minister Kaldor versprach 40 Millionen.")
    b = make("b", "fr", "Le barrage d'Orvik a cédé lundi. Les secours ont atteint Tallen en bateau.")
    claims = [
        Claim("Der Damm bei Orvik brach am Montag.", ("de", "fr"), ("source-a", "source-b"),
              (Citation("a", 0, 35), Citation("b", 0, 32)), False),
        Claim("Les secours ont atteint Tallen en bateau.", ("fr",), ("source-b",), (Citation("b", 33, 74),), True),
        Claim("Minister Kaldor versprach 40 Millionen.", ("de",), ("source-a",), (Citation("a", 36, 75),), True),
    ]
    return [a, b], claims


def test_abstractive_summary_cites_the_sentences_the_model_names(server: tuple[str, Seen]) -> None:
    url, seen = server
    articles, claims = story()
    extractive = summarise(articles, claims, reader_language="en")
    offered = [s.text for s in extractive.sentences]
    assert offered == [
        "Der Damm bei Orvik brach am Montag.",
        "Minister Kaldor versprach 40 Millionen.",
        "Les secours ont atteint Tallen en bateau.",
    ]
    reply = [
        {"text": "Rescuers reached Tallen by boat.", "source": 3},
        {"text": "The Orvik dam broke on Monday.", "source": 1},
        {"text": "An invented sentence.", "source": 9},
        {"text": "Minister Kaldor promised 40 million.", "source": "2"},
    ]
    seen.answer = lambda body: (200, completion("```json\n" + json.dumps(reply) + "\n```"))
    writer = LLMSummaryWriter(ChatClient(url, MODEL, api_key=KEY))
    summary = summarise(articles, claims, reader_language="en", writer=writer)

    assert summary.mode == f"abstractive:{MODEL}"
    assert summary.language == "en"
    assert [s.text for s in summary.sentences] == [
        "Rescuers reached Tallen by boat.",
        "The Orvik dam broke on Monday.",
        "Minister Kaldor promised 40 million.",
    ]
    by_id = {a.id: a for a in articles}
    cited = [by_id[s.citation.article_id].body[s.citation.start : s.citation.end] for s in summary.sentences]
    assert cited == [offered[2], offered[0], offered[1]]
    prompt = seen.requests[0]["body"]["messages"][-1]["content"]
    assert all(f"{i}. {text}" in prompt for i, text in enumerate(offered, start=1))
    assert "English" in prompt


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda body: (200, completion("Here is your summary: the dam broke.")), "not valid JSON"),
        (lambda body: (200, completion(json.dumps([{"text": "Made up.", "source": 7}]))), "cited none"),
        (lambda body: (503, b"overloaded"), "HTTP 503"),
    ],
)
def test_a_failed_rewrite_falls_back_to_the_extractive_summary(
    server: tuple[str, Seen], answer: Callable[[dict[str, Any]], tuple[int, bytes]], reason: str
) -> None:
    url, seen = server
    seen.answer = answer
    articles, claims = story()
    extractive = summarise(articles, claims)
    summary = summarise(articles, claims, writer=LLMSummaryWriter(ChatClient(url, MODEL, api_key=KEY)))
    assert summary.sentences == extractive.sentences
    assert summary.language == extractive.language
    assert summary.mode.startswith("extractive (") and reason in summary.mode and MODEL in summary.mode
    assert KEY not in summary.mode
