"""Who watches what: per-session subscription handles over process-wide ref counts.

The upstream carries a symbol while at least one session watches it; the counts here
decide when a symbol is first watched (subscribe upstream) and last released
(unsubscribe), so the hub only has to act on those edges.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol


class RefCounts:
    """Symbols with their watcher counts, and the number of open sessions.

    Not thread-safe on its own: the hub calls it under its lock.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._refs: Counter[str] = Counter()
        self.sessions = 0
        self._monotonic = monotonic
        self.watched_since = monotonic()
        """When the first symbol of a watch began (quiet before then is not staleness)."""

    def acquire(self, symbols: Iterable[str]) -> list[str]:
        """Count one more watcher of each symbol; returns those watched for the first time."""
        if not self._refs:
            self.watched_since = self._monotonic()
        first = []
        for sym in symbols:
            self._refs[sym] += 1
            if self._refs[sym] == 1:
                first.append(sym)
        return first

    def release(self, symbols: Iterable[str]) -> list[str]:
        """Count one watcher less of each; returns those nobody watches any more."""
        last = []
        for sym in symbols:
            if self._refs.get(sym, 0) <= 0:
                continue
            self._refs[sym] -= 1
            if self._refs[sym] == 0:
                del self._refs[sym]
                last.append(sym)
        return last

    def count(self, symbol: str) -> int:
        return self._refs.get(symbol, 0)

    def counts(self) -> dict[str, int]:
        """Symbols with at least one watcher, and how many."""
        return dict(self._refs)

    def watched(self) -> list[str]:
        return list(self._refs)


class Claims(Protocol):
    """What a subscription needs of the hub: take and give back symbols, count sessions."""

    def acquire(self, symbols: Iterable[str]) -> None: ...
    def release(self, symbols: Iterable[str]) -> None: ...
    def session_opened(self) -> None: ...
    def session_closed(self) -> None: ...


class Subscription:
    """One session's claim on a set of symbols; ``close()`` gives it back.

    Handles are symmetric: whatever ``update`` acquired, ``close`` releases, so
    the hub's ref counts return to zero when every session has closed.
    """

    def __init__(self, hub: Claims, symbols: Iterable[str] = ()):
        self._hub = hub
        self._symbols: tuple[str, ...] = ()
        self._closed = False
        hub.session_opened()
        self.update(symbols)

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def closed(self) -> bool:
        return self._closed

    def update(self, symbols: Iterable[str]) -> tuple[list[str], list[str]]:
        """Watch exactly ``symbols`` (order kept); returns (added, removed)."""
        if self._closed:
            raise RuntimeError("subscription is closed")
        new = tuple(dict.fromkeys(symbols))
        added = [s for s in new if s not in self._symbols]
        removed = [s for s in self._symbols if s not in new]
        self._hub.acquire(added)
        self._hub.release(removed)
        self._symbols = new
        return added, removed

    def close(self) -> None:
        """Release every symbol; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._hub.release(self._symbols)
        self._symbols = ()
        self._hub.session_closed()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
