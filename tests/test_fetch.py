"""Safe fetching against a local HTTP server: the SSRF guard, redirects, caps, robots.txt, politeness.

The server listens on 127.0.0.1, which the guard refuses; tests that need to reach it either allow
private addresses (as a user testing a local feed would) or make the guard take 127.0.0.1 for a
public address while it checks everything else for real.
"""

from __future__ import annotations

import gzip
import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

from storyweave import fetch
from storyweave.fetch import Fetcher, FetchError, inflate, redact, refusal


@dataclass
class Route:
    """What the test server answers for one path (query included when the route names one)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""  # answered with 304 when the request's If-None-Match matches
    delay: float = 0.0  # seconds before answering
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    on_request: Callable[[], None] | None = None


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int
    at: float


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 that serves :class:`Route` s and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = server.routes.get(self.path) or server.routes.get(self.path.partition("?")[0])
                headers = {k.lower(): v for k, v in self.headers.items()}
                if route is not None and route.on_request is not None:
                    route.on_request()
                if route is not None and route.delay:
                    time.sleep(route.delay)
                status = 404 if route is None else route.status
                if route is not None and route.etag and headers.get("if-none-match") == route.etag:
                    status = 304
                server.seen.append(Seen(self.path, headers, status, time.monotonic()))
                self.send_response(status)
                body = b"" if route is None or status == 304 else route.body
                for name, value in (route.headers if route else {}).items():
                    self.send_header(name, value)
                if route is not None and route.etag:
                    self.send_header("ETag", route.etag)
                if route is None or route.send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (size cap, timeout): that is what was tested

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read `Server.seen` instead."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


def fetcher(**overrides: Any) -> Fetcher:
    options: dict[str, Any] = {
        "user_agent": "storyweave-test/1.0", "timeout": 5.0, "max_bytes": 1_000_000, "host_delay": 0.0,
        "allow_private": True,
    }
    return Fetcher(**{**options, **overrides})


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard on, except that 127.0.0.1 (the test server) counts as public, and the name
    news.example resolves to it: every other address is checked for real."""
    checked = fetch.refusal
    monkeypatch.setattr(fetch, "refusal", lambda address, allow: "" if str(address) == "127.0.0.1" else checked(address, allow))
    resolve = socket.getaddrinfo

    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host == "news.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


# --- the SSRF guard ----------------------------------------------------------------------------


def test_loopback_is_refused_before_anything_is_sent(server: Server) -> None:
    server.routes["/feed.xml"] = Route(b"<rss/>")
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address") as err:
        fetcher(allow_private=False).get(server.url("/feed.xml"))
    assert not err.value.transient
    assert server.seen == []  # not even robots.txt was asked for


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "a private address"),
        ("192.168.0.1", "a private address"),
        ("169.254.10.10", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("2002:7f00:1::", "a loopback address"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a01:203", "a private address"),  # NAT64 around 10.1.2.3
        ("224.0.0.251", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("fe80::1", "a link-local address"),
        ("8.8.8.8", ""),
        ("2606:4700:4700::1111", ""),
    ],
)
def test_address_classes(address: str, reason: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) == reason


def test_metadata_addresses_stay_refused_when_private_ones_are_allowed() -> None:
    assert refusal(ipaddress.ip_address("10.1.2.3"), allow_private=True) == ""
    assert refusal(ipaddress.ip_address("169.254.169.254"), allow_private=True) == "a cloud metadata address"
    assert refusal(ipaddress.ip_address("::ffff:169.254.169.254"), allow_private=True) == "a cloud metadata address"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://example.com/", "/relative/feed"])
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetcher().get(url)


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/admin", "file:///etc/passwd"])
def test_a_redirect_to_a_forbidden_address_is_refused(server: Server, public_loopback: None, target: str) -> None:
    server.routes["/go"] = Route(status=302, headers={"Location": target})
    with pytest.raises(FetchError, match="refused") as err:
        fetcher(allow_private=False).get(server.url("/go", host="news.example"))
    assert err.value.url == target
    assert server.paths() == ["/robots.txt", "/go"]  # the hop was checked before any request


def test_connects_to_the_checked_address_and_names_the_host(server: Server, public_loopback: None) -> None:
    server.routes["/feed.xml"] = Route(b"<rss/>")
    response = fetcher(allow_private=False).get(server.url("/feed.xml", host="news.example"))
    assert response.body == b"<rss/>"
    assert server.seen[-1].headers["host"] == f"news.example:{server.port}"
    assert server.seen[-1].headers["user-agent"] == "storyweave-test/1.0"


def test_credentials_go_to_their_origin_only_and_never_into_messages(server: Server) -> None:
    server.routes["/private.xml"] = Route(status=302, headers={"Location": server.url("/elsewhere.xml", host="localhost")})
    server.routes["/elsewhere.xml"] = Route(status=404)
    url = server.url("/private.xml").replace("//", "//reader:s3cret@")
    with pytest.raises(FetchError) as err:
        fetcher().get(url)
    assert "s3cret" not in str(err.value) and "reader" not in str(err.value)
    first, redirected = [s for s in server.seen if s.path != "/robots.txt"]
    assert first.headers["authorization"].startswith("Basic ")
    assert "authorization" not in redirected.headers  # another origin (localhost) gets no credentials
    assert redact("https://u:p@example.com/x?y=1") == "https://example.com/x?y=1"


# --- redirects, caps, timeouts -----------------------------------------------------------------


def test_redirects_are_followed_within_a_limit(server: Server) -> None:
    server.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    server.routes["/new"] = Route(b"here")
    assert fetcher().get(server.url("/old")).url == server.url("/new")
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher().get(server.url("/loop"))


@pytest.mark.parametrize("send_length", [True, False])
def test_a_response_over_the_size_cap_is_refused(server: Server, send_length: bool) -> None:
    server.routes["/big"] = Route(b"x" * 300_000, send_length=send_length)
    with pytest.raises(FetchError, match="100000-byte limit"):
        fetcher(max_bytes=100_000).get(server.url("/big"))


def test_gzip_is_decoded_and_a_gzip_bomb_is_cut_short(server: Server) -> None:
    server.routes["/small"] = Route(gzip.compress(b"<rss>ok</rss>"), headers={"Content-Encoding": "gzip"})
    assert fetcher().get(server.url("/small")).body == b"<rss>ok</rss>"
    server.routes["/bomb"] = Route(gzip.compress(b"\0" * 20_000_000), headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="decompresses to more than"):
        fetcher(max_bytes=1_000_000).get(server.url("/bomb"))
    assert inflate([gzip.compress(b"a" * 2000)], 1000) is None


def test_a_slow_server_times_out_as_a_passing_failure(server: Server) -> None:
    server.routes["/slow"] = Route(b"late", delay=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as err:
        fetcher(timeout=0.3).get(server.url("/slow"))
    assert err.value.transient and time.monotonic() - started < 0.9


def test_server_errors_are_transient_and_carry_retry_after(server: Server) -> None:
    server.routes["/busy"] = Route(status=503, headers={"Retry-After": "120"})
    with pytest.raises(FetchError, match="HTTP 503") as err:
        fetcher().get(server.url("/busy"))
    assert err.value.transient and err.value.retry_after == 120.0
    server.routes["/gone"] = Route(status=410)
    with pytest.raises(FetchError, match="HTTP 410") as err:
        fetcher().get(server.url("/gone"))
    assert not err.value.transient


# --- politeness --------------------------------------------------------------------------------


def test_robots_txt_is_honoured_and_read_once(server: Server) -> None:
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n")
    server.routes["/news/a.html"] = Route(b"<html></html>")
    server.routes["/private/b.html"] = Route(b"<html></html>")
    polite = fetcher()
    polite.get(server.url("/news/a.html"))
    with pytest.raises(FetchError, match="disallowed by robots.txt") as err:
        polite.get(server.url("/private/b.html"))
    assert not err.value.transient
    assert server.paths() == ["/robots.txt", "/news/a.html"]


def test_an_unreachable_robots_txt_disallows_for_now(server: Server) -> None:
    server.routes["/robots.txt"] = Route(status=500)
    server.routes["/feed.xml"] = Route(b"<rss/>")
    with pytest.raises(FetchError, match="robots.txt unreachable") as err:
        fetcher().get(server.url("/feed.xml"))
    assert err.value.transient and "/feed.xml" not in server.paths()


def test_one_host_is_asked_at_most_every_host_delay(server: Server) -> None:
    server.routes["/a"] = Route(b"a")
    polite = fetcher(host_delay=0.3)
    polite.get(server.url("/a"))
    polite.get(server.url("/a"))
    times = [s.at for s in server.seen]  # robots.txt, /a, /a
    assert len(times) == 3 and all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times))
    assert polite.host_ready_at(server.url("/a")) > time.monotonic()


def test_conditional_get(server: Server) -> None:
    server.routes["/feed.xml"] = Route(b"<rss/>", etag='"v1"', headers={"Last-Modified": "Wed, 13 Sep 2023 10:00:00 GMT"})
    first = fetcher().get(server.url("/feed.xml"))
    assert first.status == 200 and first.headers["etag"] == '"v1"'
    again = fetcher().get(server.url("/feed.xml"), etag='"v1"', last_modified=first.headers["last-modified"])
    assert again.not_modified and again.body == b""
    assert server.seen[-1].headers["if-none-match"] == '"v1"'
    assert server.seen[-1].headers["if-modified-since"] == "Wed, 13 Sep 2023 10:00:00 GMT"
