"""What every provider's REST client shares: key-safe errors, a call budget, a cache.

The hub asks for a reference price once per newly watched symbol, from whichever
thread added it, so clients are shared and thread-safe. They keep under the plan's
call rate on their own (a token bucket) instead of learning about it from 429s,
cache answers briefly so many sessions adding the same symbol cost one call, and
turn every failure into a :class:`RestError` whose message is safe to show.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from app.ticks import Reference

_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str, *secrets: str) -> str:
    """``text`` with each of ``secrets`` and any ``token=...`` query value masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_IN_TEXT.sub(r"\1***", text)


class RestError(Exception):
    """A reference lookup failed; the message is safe to show (no key in it)."""


class AuthRejected(RestError):
    """The provider answered 401/403: the key is wrong or lacks access."""


class UpstreamRateLimited(RestError):
    """The provider answered 429: we are over the plan's call rate."""


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


class ReferenceClient:
    """Reference prices behind a rate limiter and a short cache.

    Subclasses implement :meth:`_lookup` (one provider call, raising
    :class:`RestError` on failure, None for an unknown symbol).
    """

    def __init__(self, base_url: str, *, timeout_s: float = 5.0, per_minute: float = 60,
                 cache_ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.cache_ttl_s = cache_ttl_s
        self.limiter = TokenBucket(per_minute, clock=clock)
        self._clock = clock
        self._cache: dict[str, tuple[float, Reference | None]] = {}
        self._cache_lock = threading.Lock()
        self._fetch_lock = threading.Lock()  # one HTTP session: one call at a time

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def quote(self, symbol: str) -> Reference | None:
        """Reference prices for ``symbol``; None if the provider does not know it.

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
            ref = self._lookup(symbol)
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

    def _lookup(self, symbol: str) -> Reference | None:  # pragma: no cover - abstract
        raise NotImplementedError
