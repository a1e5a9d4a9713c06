"""Request rates per client: a token bucket each.

A client may spend ``burst`` requests at once, and then ``rate`` a second. A request
past that is refused with the seconds until the next token, for ``Retry-After``.
Buckets of clients gone quiet are full again and are forgotten, so a crowd of
addresses cannot grow the table for ever.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimits:
    """Token buckets by client key; safe from any thread."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10_000):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be above 0 and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """Spend one of ``client``'s tokens: 0.0 if there was one, else the seconds to
        wait for the next (nothing is spent)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_full(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def wait(self, client: str) -> float:
        """The seconds ``client`` must wait for a token (0.0: it has one), spending none."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they behave as new ones would."""
        refill = self.burst / self.rate
        for key in [k for k, (_, at) in self._buckets.items() if now - at >= refill]:
            del self._buckets[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


def retry_after(wait_s: float) -> int:
    """``Retry-After`` (whole seconds, at least 1) for a wait of ``wait_s``."""
    return max(1, math.ceil(wait_s))
