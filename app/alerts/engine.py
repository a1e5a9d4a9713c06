"""The alert engine: every trade checks the saved alerts of its symbol, by the page's
rule (:func:`app.alerts.rules.step`), whether or not any tab is open.

State lives in the :class:`~app.alerts.store.AlertStore`, written only when it changes
(an alert fires, re-arms, or a move alert finds its base). A firing disarms its alert
and is logged in one store transaction: a restart neither loses an armed alert nor
fires twice for one crossing, and two engines on one store (a relay and its standby)
record a crossing once.

A trade costs what it can change, not what is saved: once an above/below alert has
seen a price, it is armed exactly when its condition does not hold, so only alerts
whose threshold lies between the last price and this one can fire or re-arm. Those
are found by bisection in the symbol's thresholds (:class:`_Book`); move alerts,
each measured from its own base, are checked on every trade.

Synchronous by design: the store blocks. The caller (the relay leader, in a later
step) calls :meth:`AlertEngine.on_tick` off the event loop and hands each returned
:class:`~app.alerts.records.Firing` to the outbox.
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from app.alerts.records import Firing, alert_id
from app.alerts.rules import Alert, parse_alert, step
from app.alerts.store import AlertStore
from app.ticks import Tick

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Watch:
    """One saved alert as the engine holds it between trades."""

    alert_id: str
    user: str
    board: str
    alert: Alert
    armed: bool
    base: float | None


@dataclass(slots=True)
class _Book:
    """One symbol's alerts: thresholds sorted for bisection, moves apart."""

    values: list[float] = field(default_factory=list)
    """Thresholds of the above/below alerts, sorted; ``watches`` in the same order."""
    watches: list[_Watch] = field(default_factory=list)
    moves: list[_Watch] = field(default_factory=list)
    last: float | None = None
    """The last price checked; None: every alert is checked at the next trade."""

    def add(self, w: _Watch) -> None:
        if w.alert.op == "~":
            self.moves.append(w)
            return
        i = bisect.bisect_right(self.values, w.alert.value)
        self.values.insert(i, w.alert.value)
        self.watches.insert(i, w)

    def due(self, price: float) -> list[_Watch]:
        """The alerts this price may fire or re-arm."""
        if self.last is None:
            return [*self.watches, *self.moves]
        lo, hi = min(self.last, price), max(self.last, price)
        i, j = bisect.bisect_left(self.values, lo), bisect.bisect_right(self.values, hi)
        return [*self.watches[i:j], *self.moves]

    def __len__(self) -> int:
        return len(self.watches) + len(self.moves)


class AlertEngine:
    """Evaluates the saved alerts of every user and board on each trade."""

    def __init__(self, store: AlertStore, clock: Callable[[], float] = time.time):
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._books: dict[str, _Book] = {}
        self.load()

    def load(self) -> None:
        """(Re)read every saved alert and its state from the store: at start, and when
        a standby takes over (another engine may have changed the state meanwhile)."""
        books: dict[str, _Book] = {}
        for row in self._store.armed_alerts():
            alert = parse_alert(row.condition)
            if alert is None:  # saved by a newer or older syntax: skip, say so
                log.warning("alert %r of a board cannot be read; skipped", row.condition)
                continue
            books.setdefault(alert.symbol, _Book()).add(
                _Watch(row.alert_id, row.user, row.board, alert, row.armed, row.base))
        with self._lock:
            self._books = books

    def symbols(self) -> set[str]:
        """Symbols some saved alert watches (what the relay must keep subscribed)."""
        with self._lock:
            return {s for s, book in self._books.items() if book}

    def set_board(self, user: str, board: str, alerts: Iterable[Alert],
                  prices: Mapping[str, float] | None = None) -> None:
        """Make ``alerts`` the saved alerts of ``user``'s ``board`` (after a save).

        Alerts already saved keep their state; new ones start armed (so one that
        holds already fires at the next trade, as on the page), a new move alert
        measured from ``prices[symbol]`` when known, else from the next trade.
        """
        prices = prices or {}
        rows = [(alert_id(user, board, a.key), a.key, a.symbol,
                 prices.get(a.symbol) if a.op == "~" else None) for a in alerts]
        self._store.set_board_alerts(user, board, rows)
        self.load()

    def on_tick(self, tick: Tick) -> list[Firing]:
        """The alerts ``tick`` fires (each logged once, its alert disarmed)."""
        price = tick.price
        if not (math.isfinite(price) and price > 0):
            return []  # a broken print is no crossing
        with self._lock:
            book = self._books.get(tick.symbol)
            if not book:
                return []
            out = [f for w in book.due(price) if (f := self._check(w, tick))]
            book.last = price
            return out

    def _check(self, w: _Watch, tick: Tick) -> Firing | None:
        price = tick.price
        if w.alert.op == "~" and w.base is None:
            w.base = price  # a move is measured from the first trade after it was saved
            self._store.save_state(w.alert_id, w.armed, w.base)
        fired, armed = step(w.alert, w.armed, price, w.base)
        if fired:
            w.armed = False
            firing = Firing(w.user, w.board, w.alert.symbol, w.alert.key, price, tick.ts,
                            self._clock(), alert_id=w.alert_id)
            return firing if self._store.fire(firing) else None
        if armed != w.armed:
            w.armed = armed
            self._store.save_state(w.alert_id, armed, w.base)
        return None
