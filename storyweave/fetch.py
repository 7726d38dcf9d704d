"""Fetching feeds and pages over HTTP(S), safely and politely.

A fetch is a request the user's machine makes on behalf of whatever a feed lists, so every URL is
treated as hostile (server-side request forgery):

- only ``http`` and ``https``;
- the host is resolved once and every address it resolves to is checked: loopback, private,
  link-local, multicast, reserved and unspecified addresses are refused unless the
  ``allow_private_addresses`` setting says otherwise, and cloud metadata endpoints always are;
- the connection goes to the address that was checked (the name travels in the Host header and
  the TLS SNI), so a DNS answer that changes between check and connect (rebinding) cannot move it;
- redirects are followed by hand, up to :data:`MAX_REDIRECTS`, each hop checked again;
- the body is streamed and refused past ``max_response_bytes`` (after gzip decoding too), and the
  whole exchange is bounded in time, not just each socket read.

Politeness: robots.txt is honoured (``urllib.robotparser``, RFC 9309 rules for missing and
unreachable files), the User-Agent names storyweave, and one host is asked at most once every
``host_delay`` seconds. Credentials in a URL (``https://user:pass@host/``) are sent as HTTP Basic
authentication to that origin only and never appear in messages (:func:`redact`).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["FetchError", "Fetcher", "Response", "Stopped", "inflate", "redact", "refusal"]

LOGGER = logging.getLogger(__name__)

# Redirect hops followed before giving up. Browsers allow 20; a feed or an article needs at most
# two or three (http -> https, a tracking short link, a moved feed), and every hop is a request.
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Statuses worth retrying later (the server is busy or failing), as opposed to a 404 or a 410
# that will say the same tomorrow.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Bytes read from the socket at a time: small enough to stop soon after the size cap and to check
# the deadline often, large enough not to matter for speed.
CHUNK_BYTES = 64 * 1024

# robots.txt: RFC 9309 asks crawlers to read at least 500 KiB of it and to cache it for at most
# 24 hours. When it cannot be had (a 5xx or a network error) the RFC says to assume everything is
# disallowed; the host is asked again after ROBOTS_RETRY_SECONDS.
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL_SECONDS = 24 * 3600
ROBOTS_RETRY_SECONDS = 3600

# Cloud instance-metadata endpoints (AWS, GCP and Azure share the IPv4 one; the IPv6 one is AWS's
# Nitro endpoint). They hand out credentials and are the classic SSRF target; no news comes from
# them, so they are refused even when private addresses are allowed.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})

# NAT64 (RFC 6052): a gateway turns 64:ff9b::a.b.c.d into the IPv4 address a.b.c.d, so the IPv4
# address inside is what gets reached and what must be checked.
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# The address classes refused, most specific first (::1 is also "reserved"), as messages name them.
_REFUSED_CLASSES = (
    ("a loopback address", "is_loopback"),
    ("a link-local address", "is_link_local"),
    ("a multicast address", "is_multicast"),
    ("an unspecified address", "is_unspecified"),
    ("a private address", "is_private"),
    ("a reserved address", "is_reserved"),
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A fetch that failed, with the URL (credentials removed) and whether trying later may help."""

    def __init__(
        self, url: str, message: str, *, transient: bool = False, status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{redact(url)}: {message}")
        self.url = redact(url)
        self.message = message
        self.transient = transient
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503 Retry-After)


class Stopped(Exception):
    """The watcher was asked to stop while a fetch waited for its turn at a host."""


@dataclass(frozen=True, slots=True)
class Response:
    """A final (non-redirect) response: 2xx with its body, or 304 Not Modified with none."""

    url: str  # the URL that answered, after redirects
    status: int
    headers: Message
    body: bytes

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        """The media type without parameters (``text/html``), empty when the server sent none."""
        return self.headers.get_content_type() if self.headers.get("content-type") else ""

    @property
    def charset(self) -> str:
        return self.headers.get_content_charset() or ""


@dataclass(frozen=True, slots=True)
class _Target:
    parts: SplitResult
    host: str  # IDNA form
    port: int
    addresses: list[str]  # every address the host resolved to, all checked


@dataclass(frozen=True, slots=True)
class _Robots:
    parser: RobotFileParser | None  # None while robots.txt cannot be read: everything is disallowed
    expires: float  # time.monotonic() after which robots.txt is read again
    unreachable: str = ""  # why it could not be read


def redact(url: str) -> str:
    """The URL without its user name and password, for messages and for display."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def refusal(address: IPAddress, allow_private: bool) -> str:
    """Why a connection to ``address`` is refused, or an empty string when it is allowed."""
    embedded: IPAddress | None = None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    for candidate in (embedded, address):  # the IPv4 address inside says more than its wrapper
        if candidate is None:
            continue
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if allow_private:
            continue
        for reason, attribute in _REFUSED_CLASSES:
            if getattr(candidate, attribute):
                return reason
        if not candidate.is_global:
            return "not a public address"
    return ""


def inflate(chunks: Iterable[bytes], limit: int) -> bytes | None:
    """gzip-compressed chunks decoded, or None as soon as the output passes ``limit`` bytes.

    The output is bounded while decoding, so a small "gzip bomb" never expands in memory.
    """
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(inflater.decompress(chunk, limit + 1 - size))
        size += len(parts[-1])
        if size > limit:
            return None
    parts.append(inflater.flush())
    size += len(parts[-1])
    return None if size > limit else b"".join(parts)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to addresses already checked, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The TLS twin: connects to a checked address and verifies the certificate for the name."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float, tls: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=tls)
        self._addresses = addresses
        self._tls = tls

    def connect(self) -> None:
        self.sock = self._tls.wrap_socket(_connect(self._addresses, self.port, self.timeout), server_hostname=self.host)


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    # Each address in turn, as socket.create_connection does for a name (IPv6 first where the
    # resolver says so, then IPv4).
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class Fetcher:
    """Safe, polite HTTP GET for one process; not thread-safe (the watcher runs one loop)."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        max_bytes: int,
        host_delay: float,
        allow_private: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host_delay = host_delay
        self.allow_private = allow_private
        self._stop = stop or threading.Event()
        self._tls = ssl.create_default_context()
        self._next_request: dict[str, float] = {}  # host -> time.monotonic() when it may be asked again
        self._robots: dict[str, _Robots] = {}  # scheme://host:port -> its rules

    @classmethod
    def from_settings(cls, settings: Settings, stop: threading.Event | None = None) -> Fetcher:
        return cls(
            user_agent=settings.user_agent,
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_response_bytes,
            host_delay=settings.host_delay,
            allow_private=settings.allow_private_addresses,
            stop=stop,
        )

    def host_ready_at(self, url: str) -> float:
        """The ``time.monotonic()`` at which the URL's host may be asked again (politeness)."""
        return self._next_request.get(_host_key(url), 0.0)

    def get(self, url: str, *, accept: str = "*/*", etag: str = "", last_modified: str = "") -> Response:
        """GET ``url`` with its redirects; a 2xx or 304 comes back, anything else raises FetchError.

        ``etag`` and ``last_modified`` make the request conditional (a 304 then means unchanged).
        """
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._follow(url, headers, self.max_bytes, check_robots=True)

    def _follow(self, url: str, headers: dict[str, str], limit: int, *, check_robots: bool) -> Response:
        origin = _origin(url)
        authorization = _basic_auth(url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = self._target(current)  # checked before anything is sent to the host, robots.txt included
            if check_robots:
                self._check_robots(current)
            hop_headers = dict(headers)
            if authorization and _origin(current) == origin:
                hop_headers["Authorization"] = authorization  # never sent to another origin
            status, message, body = self._exchange(current, target, hop_headers, limit)
            if status in REDIRECT_STATUSES:
                location = message.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {status} redirect without a Location", status=status)
                current = urljoin(current, location.strip())
                continue
            if 200 <= status < 300 or status == 304:
                return Response(current, status, message, body)
            reason = http.client.responses.get(status, "error")
            raise FetchError(
                current, f"HTTP {status} {reason}", status=status, transient=status in TRANSIENT_STATUSES,
                retry_after=_retry_after(message.get("retry-after")),
            )
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _target(self, url: str) -> _Target:
        """Where a URL points, resolved, with every address checked by the SSRF guard."""
        parts = _split(url)
        host = _ascii_host(url, parts.hostname or "")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(url, "invalid port") from None
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve {host}: {exc}", transient=True) from None
        addresses = list(dict.fromkeys(str(info[4][0]).partition("%")[0] for info in infos))
        for address in addresses:
            reason = refusal(ipaddress.ip_address(address), self.allow_private)
            if reason:
                raise FetchError(url, f"refused: {host} resolves to {address}, {reason}")
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}: no address", transient=True)
        return _Target(parts, host, port, addresses)

    def _exchange(self, url: str, target: _Target, headers: dict[str, str], limit: int) -> tuple[int, Message, bytes]:
        """One request and its response, to a checked address, once the host's turn comes."""
        parts, host, port, addresses = target.parts, target.host, target.port, target.addresses
        self._wait_turn(host)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _PinnedHTTPSConnection(host, port, addresses, self.timeout, self._tls)
        else:
            connection = _PinnedHTTPConnection(host, port, addresses, self.timeout)
        deadline = time.monotonic() + self.timeout
        try:
            connection.request("GET", path, headers={
                **headers, "User-Agent": self.user_agent, "Accept-Encoding": "gzip", "Connection": "close",
            })
            response = connection.getresponse()
            if response.status in REDIRECT_STATUSES or response.status == 304 or response.status >= 400:
                return response.status, response.msg, b""
            return response.status, response.msg, self._read_body(url, response, deadline, limit)
        except ssl.SSLCertVerificationError as exc:
            raise FetchError(url, f"TLS certificate not valid: {exc.verify_message}") from None
        except (OSError, http.client.HTTPException) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            raise FetchError(url, f"request failed: {what}", transient=True) from None
        finally:
            connection.close()
            self._next_request[host] = time.monotonic() + self.host_delay

    def _read_body(self, url: str, response: http.client.HTTPResponse, deadline: float, limit: int) -> bytes:
        declared = response.getheader("content-length", "")
        encoding = (response.getheader("content-encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip"):
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")
        if encoding == "identity" and declared.isdigit() and int(declared) > limit:
            raise FetchError(url, f"response of {int(declared)} bytes is over the {limit}-byte limit")
        chunks = self._chunks(url, response, deadline, limit)
        body = inflate(chunks, limit) if encoding != "identity" else b"".join(chunks)
        if body is None:
            raise FetchError(url, f"response decompresses to more than the {limit}-byte limit")
        return body

    def _chunks(self, url: str, response: http.client.HTTPResponse, deadline: float, limit: int) -> Iterator[bytes]:
        # The socket timeout bounds each read; the deadline bounds them all, so a server that
        # trickles a byte at a time cannot hold the loop.
        size = 0
        while chunk := response.read1(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise FetchError(url, f"response is over the {limit}-byte limit")
            if time.monotonic() > deadline:
                raise FetchError(url, f"response took longer than {self.timeout:g} s", transient=True)
            yield chunk

    def _wait_turn(self, host: str) -> None:
        delay = self._next_request.get(host, 0.0) - time.monotonic()
        if delay > 0 and self._stop.wait(delay):
            raise Stopped()
        if self._stop.is_set():
            raise Stopped()

    def _check_robots(self, url: str) -> None:
        key = _origin(url)
        rules = self._robots.get(key)
        if rules is None or rules.expires < time.monotonic():
            rules = self._robots[key] = self._load_robots(key)
        if rules.parser is None:
            raise FetchError(url, f"robots.txt unreachable ({rules.unreachable}); not fetching for now", transient=True)
        if not rules.parser.can_fetch(self.user_agent, redact(url)):
            raise FetchError(url, "disallowed by robots.txt")

    def _load_robots(self, origin: str) -> _Robots:
        parser = RobotFileParser(origin + "/robots.txt")
        expires = time.monotonic() + ROBOTS_TTL_SECONDS
        try:
            response = self._follow(origin + "/robots.txt", {"Accept": "text/plain"}, ROBOTS_MAX_BYTES, check_robots=False)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                parser.parse([])  # RFC 9309: no robots.txt (4xx) means no restriction
                return _Robots(parser, expires)
            return _Robots(None, time.monotonic() + ROBOTS_RETRY_SECONDS, exc.message)
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return _Robots(parser, expires)


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError(url, f"invalid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, f"refused: only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise FetchError(url, "invalid URL: no host")
    return parts


def _ascii_host(url: str, host: str) -> str:
    # International names go on the wire (DNS, Host header, SNI) in their IDNA form.
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError(url, f"invalid host name {host!r}") from None


def _host_key(url: str) -> str:
    try:
        return _ascii_host(url, urlsplit(url).hostname or "")
    except (ValueError, FetchError):
        return ""


def _origin(url: str) -> str:
    """scheme://host[:port] without credentials: the unit of robots.txt and of Basic auth."""
    parts = _split(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2].lower()}"


def _basic_auth(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None:
        return ""
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
