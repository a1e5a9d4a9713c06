"""Loading reference prices (previous close, a first price) for newly watched symbols.

The hub and the relay ask for them once per symbol that starts being watched. A slow
source (REST, rate limited) loads on a small pool so no session waits; a lookup that
failed (a timeout, a 5xx, a refused call) is tried again a few times with growing
delays while the symbol is still watched, so one bad answer does not leave a row
without its previous close for the day. An unknown symbol answers None too: the
provider client caches that answer, so its retries cost no calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from app.feeds.base import Feed
from app.ticks import Reference

log = logging.getLogger(__name__)

#: Seconds before each retry of the lookups that answered nothing.
RETRY_DELAYS_S: tuple[float, ...] = (2.0, 6.0, 20.0)


class ReferenceLoader:
    """Looks up references for ``symbols`` and hands each batch to ``apply``.

    ``watched(symbol)`` says whether a retry is still wanted. Fast sources (mock,
    Redis) load inline, once, so the first view has them.
    """

    def __init__(self, feed: Feed, apply: Callable[[dict[str, Reference | None]], None], *,
                 watched: Callable[[str], bool] = lambda _s: True,
                 retry_delays_s: Sequence[float] = RETRY_DELAYS_S):
        self._feed = feed
        self._apply = apply
        self._watched = watched
        self._delays = tuple(retry_delays_s)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photon-ref")
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False

    def load(self, symbols: list[str]) -> None:
        if self._feed.reference_is_fast:
            self._apply({sym: self._feed.get_reference(sym) for sym in symbols})
        else:
            self._submit(symbols, 0)

    def _submit(self, symbols: list[str], attempt: int) -> None:
        with self._lock:
            if not self._closed:
                self._pool.submit(self._load, symbols, attempt)

    def _load(self, symbols: list[str], attempt: int) -> None:
        refs = {sym: self._feed.get_reference(sym) for sym in symbols if self._watched(sym)}
        self._apply(refs)
        missing = sorted(s for s, ref in refs.items() if ref is None)
        if not missing:
            return
        if attempt >= len(self._delays):
            log.info("no reference price for %s after %d tries; the next trade shows "
                     "a price, without the change on the day", ", ".join(missing), attempt + 1)
            return
        delay = self._delays[attempt]
        log.info("no reference price for %s yet; trying again in %g s",
                 ", ".join(missing), delay)
        self._schedule(delay, missing, attempt + 1)

    def _schedule(self, delay: float, symbols: list[str], attempt: int) -> None:
        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self._submit(symbols, attempt)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
