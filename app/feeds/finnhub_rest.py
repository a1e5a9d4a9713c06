"""Finnhub REST reference prices (``/quote``): rate-limited, cached, and key-safe.

The hub asks for a reference price once per newly watched symbol, from whichever
thread added it, so this client is shared and thread-safe. It keeps under
Finnhub's free-plan limits on its own (a token bucket) instead of learning about
them from 429s, caches answers briefly so many sessions adding the same symbol
cost one call, and turns every failure into a :class:`RestError` whose message is
safe to show: the key never appears in it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable

import finnhub
import requests

from app.feeds.base import Reference

log = logging.getLogger(__name__)

_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str, secret: str = "") -> str:
    """``text`` with ``secret`` and any ``token=...`` query value masked."""
    if secret:
        text = text.replace(secret, "***")
    return _TOKEN_IN_TEXT.sub(r"\1***", text)


class RestError(Exception):
    """A reference lookup failed; the message is safe to show (no key in it)."""


class AuthRejected(RestError):
    """Finnhub answered 401/403: the key is wrong or lacks access."""


class UpstreamRateLimited(RestError):
    """Finnhub answered 429: we are over the plan's call rate."""


class LocalRateLimited(RestError):
    """Our own limiter refused the call, to stay under the plan's call rate."""


class TokenBucket:
    """At most ``per_minute`` calls a minute on average, in bursts of at most ``burst``."""

    def __init__(self, per_minute: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        # Finnhub also caps calls at 30 a second, whatever the plan.
        self.capacity = float(burst if burst is not None else min(per_minute, 30))
        self._tokens = self.capacity
        self._clock = clock
        self._at = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take one call's worth if available; never blocks."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def parse_quote(symbol: str, data: object) -> Reference | None:
    """A :class:`Reference` from a ``/quote`` answer; None for an unknown symbol.

    Finnhub answers an unknown symbol with 200 and all zeros, so "no previous
    close" means "nothing known" rather than an error.
    """
    if not isinstance(data, dict):
        raise RestError(f"quote {symbol}: unexpected answer from Finnhub")

    def num(key: str) -> float | None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        value = float(value)
        return value if math.isfinite(value) and value > 0 else None

    prev_close = num("pc")
    if prev_close is None:
        return None
    return Reference(symbol, prev_close=prev_close, open=num("o"), high=num("h"),
                     low=num("l"), last=num("c"))


class QuoteClient:
    """``/quote`` through finnhub-python, behind a rate limiter and a short cache."""

    def __init__(self, api_key: str, base_url: str, *, timeout_s: float = 5.0,
                 per_minute: float = 60, cache_ttl_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.cache_ttl_s = cache_ttl_s
        self.limiter = TokenBucket(per_minute, clock=clock)
        self._clock = clock
        self._cache: dict[str, tuple[float, Reference | None]] = {}
        self._cache_lock = threading.Lock()
        self._fetch_lock = threading.Lock()  # one requests.Session: one call at a time
        self._client: finnhub.Client | None = None

    def __repr__(self) -> str:
        return f"QuoteClient(base_url={self.base_url!r})"

    def quote(self, symbol: str) -> Reference | None:
        """Reference prices for ``symbol``; None if Finnhub does not know it.

        Raises :class:`RestError` (or a subclass) on any failure.
        """
        hit = self._cached(symbol)
        if hit is not None:
            return hit[0]
        with self._fetch_lock:
            # Look again: a caller we waited for may have just fetched this symbol.
            hit = self._cached(symbol)
            if hit is not None:
                return hit[0]
            if not self.limiter.try_acquire():
                raise LocalRateLimited(
                    f"reference for {symbol} skipped: client-side limit of "
                    f"{self.limiter.rate * 60:g} calls/min reached")
            ref = parse_quote(symbol, self._fetch(symbol))
            with self._cache_lock:
                self._cache[symbol] = (self._clock() + self.cache_ttl_s, ref)
                if len(self._cache) > 1000:  # keep it bounded: drop what has expired
                    now = self._clock()
                    self._cache = {s: v for s, v in self._cache.items() if v[0] > now}
        return ref

    def _cached(self, symbol: str) -> tuple[Reference | None] | None:
        """``(reference,)`` while a fresh answer is cached (the answer may be None)."""
        with self._cache_lock:
            hit = self._cache.get(symbol)
        return (hit[1],) if hit is not None and hit[0] > self._clock() else None

    def _fetch(self, symbol: str) -> object:
        # ``from None`` everywhere: the original exceptions carry the request URL.
        try:
            return self._get_client().quote(symbol)
        except finnhub.FinnhubAPIException as e:
            if e.status_code == 429:
                raise UpstreamRateLimited(
                    "Finnhub REST rate limit reached (HTTP 429)") from None
            answered = f"quote {symbol}: Finnhub answered HTTP {e.status_code}"
            if e.status_code in (401, 403):
                raise AuthRejected(answered) from None
            raise RestError(answered) from None
        except finnhub.FinnhubRequestException:
            raise RestError(f"quote {symbol}: unexpected answer from Finnhub") from None
        except requests.Timeout:
            raise RestError(f"quote {symbol}: timed out after {self.timeout_s:g}s") from None
        except requests.RequestException as e:
            detail = redact(str(e), self._key)[:200]
            raise RestError(f"quote {symbol}: {type(e).__name__}: {detail}") from None

    def _get_client(self) -> finnhub.Client:
        if self._client is None:
            client = finnhub.Client(api_key=self._key)
            client.API_URL = self.base_url
            client.DEFAULT_TIMEOUT = self.timeout_s
            # Send the key as a header rather than ``?token=``, so it never appears in
            # URLs (urllib3's debug log and requests' error messages print URLs).
            session = getattr(client, "_session", None)
            if isinstance(session, requests.Session):
                session.params.pop("token", None)
                session.headers["X-Finnhub-Token"] = self._key
            self._client = client
        return self._client
