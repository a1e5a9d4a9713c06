"""Dropping repeated trades: a provider that resends a trade must not double its volume."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from app.ticks import Tick


class RecentTrades:
    """Remembers each symbol's last few trades to drop exact repeats.

    Finnhub has been seen to resend trades during incidents; a repeat would
    double-count volume. Memory is bounded: ``per_symbol`` keys per watched symbol.
    """

    def __init__(self, per_symbol: int = 256):
        self.per_symbol = per_symbol
        self._order: dict[str, deque[tuple[float, float, float]]] = {}
        self._seen: dict[str, set[tuple[float, float, float]]] = {}
        self._lock = threading.Lock()

    def is_repeat(self, tick: Tick) -> bool:
        """True if this exact trade (symbol, time, price, size) was seen recently."""
        key = (tick.ts, tick.price, tick.size)
        with self._lock:
            seen = self._seen.setdefault(tick.symbol, set())
            if key in seen:
                return True
            order = self._order.setdefault(tick.symbol, deque())
            order.append(key)
            seen.add(key)
            if len(order) > self.per_symbol:
                seen.discard(order.popleft())
            return False

    def forget(self, symbols: Iterable[str]) -> None:
        with self._lock:
            for sym in symbols:
                self._order.pop(sym, None)
                self._seen.pop(sym, None)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._order.values())
