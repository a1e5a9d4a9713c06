"""Webhook delivery: a signed JSON POST to the URL a user gave.

The body carries ``id`` (the same on every retry, so a receiver can drop repeats),
``symbol``, ``condition``, ``price``, ``trade_time`` and ``fired_at`` (ISO 8601, UTC),
``board``, and ``text``, the line Slack- and Discord-style incoming webhooks show as
is. ``X-Photon-Signature: sha256=HEX`` is the HMAC-SHA256 of the exact body under the
user's webhook secret.

Why Tornado's client rather than urllib in a thread: a delivery retried for an hour
is a coroutine asleep, not a thread held, and the server already runs Tornado; and
its pluggable resolver lets us check the addresses a host name resolves to at the
moment of connecting, so a name cannot pass the check and then resolve elsewhere
(DNS rebinding). Unless ``PHOTON_WEBHOOK_ALLOW_PRIVATE`` is on, every address is
checked and a private, loopback, link-local (cloud metadata) or otherwise internal
one is refused: a user must not make the server call into the operator's network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.netutil import DefaultLoopResolver, Resolver
from tornado.simple_httpclient import HTTPTimeoutError, SimpleAsyncHTTPClient

from app.alerts.delivery import SENT, Attempt
from app.alerts.records import Firing

SIGNATURE_HEADER = "X-Photon-Signature"
CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 10.0
ALLOW_HINT = "set PHOTON_WEBHOOK_ALLOW_PRIVATE=1 to allow it"


class AddressRefused(Exception):
    """The webhook's host is (or resolves to) an address the server must not call."""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def payload(firing: Firing) -> dict:
    body = {"id": firing.id, "symbol": firing.symbol, "condition": firing.condition,
            "price": firing.price, "trade_time": iso(firing.trade_time),
            "fired_at": iso(firing.fired_at), "board": firing.board, "text": firing.text()}
    if firing.test:
        body["test"] = True
    return body


def body_of(firing: Firing) -> bytes:
    return json.dumps(payload(firing), separators=(",", ":"), sort_keys=True).encode()


def sign(body: bytes, secret: str) -> str:
    """The ``X-Photon-Signature`` value: ``sha256=`` and the hex HMAC of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver does (in any language): recompute, compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature)


# -- which addresses may be called ----------------------------------------------
def internal(ip: str) -> str | None:
    """Why ``ip`` is internal (not to be called), or None for a public address."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    for test, what in (("is_loopback", "a loopback"), ("is_link_local", "a link-local"),
                       ("is_private", "a private"), ("is_multicast", "a multicast"),
                       ("is_unspecified", "an unspecified"), ("is_reserved", "a reserved")):
        if getattr(addr, test):
            return f"{what} address"
    return None if addr.is_global else "not a public address"


def _check_all(host: str, ips: list[str]) -> None:
    for ip in ips:
        if why := internal(ip):
            shown = host if host == ip else f"{host} resolves to {ip}"
            raise AddressRefused(f"{shown}, {why}: refused ({ALLOW_HINT})")


def url_problem(url: str) -> str | None:
    """What is wrong with a webhook URL's form (one line), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "the webhook must be an http:// or https:// URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook must be an http:// or https:// URL"
    if len(url) > 2000:
        return "the webhook URL is too long (2000 characters at most)"
    return None


def check_url(url: str, allow_private: bool = False) -> str | None:
    """The one-line reason a webhook URL is refused, or None (blocking: resolves the
    host; for the settings API, in an executor). Connecting checks again."""
    if why := url_problem(url):
        return why
    if allow_private:
        return None
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return f"the webhook's host {host} cannot be resolved"
    try:
        _check_all(host, [info[4][0] for info in infos])
    except AddressRefused as exc:
        return f"the webhook's host {exc}"
    return None


class PublicResolver(Resolver):
    """Resolves as usual, then refuses a host if any of its addresses is internal."""

    def initialize(self, allow_private: bool = False) -> None:
        self._inner = DefaultLoopResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int, family: socket.AddressFamily = 0):
        addrs = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            _check_all(host, [sockaddr[0] for _, sockaddr in addrs])
        return addrs


def client(allow_private: bool = False) -> SimpleAsyncHTTPClient:
    """An HTTP client of its own (not Tornado's shared one) with the address check."""
    return SimpleAsyncHTTPClient(force_instance=True,
                                 resolver=PublicResolver(allow_private=allow_private))


def _discard(chunk: bytes) -> None:
    """Receivers answer "ok" or a page; nothing of it is kept."""


async def post(http: SimpleAsyncHTTPClient, url: str, firing: Firing, secret: str,
               timeout_s: float = REQUEST_TIMEOUT_S) -> Attempt:
    """One POST of ``firing`` to ``url``: sent (2xx), to retry (5xx, 429, no answer),
    or failed for good (any other answer, a refused address, a bad URL)."""
    if why := url_problem(url):
        return Attempt(False, False, why)
    body = body_of(firing)
    request = HTTPRequest(url, method="POST", body=body, follow_redirects=False,
                          connect_timeout=min(CONNECT_TIMEOUT_S, timeout_s),
                          request_timeout=timeout_s,
                          streaming_callback=_discard,  # the answer's body is not read
                          headers={"Content-Type": "application/json",
                                   "User-Agent": "Photon-alerts",
                                   SIGNATURE_HEADER: sign(body, secret)})
    try:
        response = await http.fetch(request, raise_error=False)
    except AddressRefused as exc:
        return Attempt(False, False, f"not sent: {exc}")
    except HTTPTimeoutError:
        return Attempt(False, True, f"no answer within {timeout_s:g} s")
    except HTTPClientError as exc:
        return Attempt(False, True, f"no answer ({exc.message})")
    except OSError as exc:
        return Attempt(False, True, f"cannot connect ({exc.strerror or type(exc).__name__})")
    except Exception as exc:  # a broken answer (bad headers, a lying length): try again
        return Attempt(False, True, f"no usable answer ({type(exc).__name__})")
    code = response.code
    if 200 <= code < 300:
        return SENT
    if code >= 500 or code == 429:
        return Attempt(False, True, f"answered {code}")
    if 300 <= code < 400:
        return Attempt(False, False, f"answered {code} (redirects are not followed)")
    return Attempt(False, False, f"answered {code}")
