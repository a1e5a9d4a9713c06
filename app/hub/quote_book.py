"""The quote book: the latest quote per watched symbol, folded from ticks and
published once per cycle as immutable snapshots with sparkline points.

Ticks fold into *working* quotes (O(1) memory per symbol); ``publish`` turns the
changed ones into the *published* quotes sessions select from. Not thread-safe on
its own: the hub calls it under its lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from app.hub.sparkline import compact_points
from app.market_hours import day_window
from app.quotes import (
    Quote,
    apply_day_volume,
    apply_reference,
    flash_direction,
    fold,
    new_day,
    quote_row,
)
from app.ticks import Reference, Tick


@dataclass(frozen=True, slots=True)
class Changes:
    """What one session needs to apply for a cycle: changed quotes and new points."""

    cycle: int
    quotes: list[Quote]
    rows: list[dict]
    """The same quotes formatted for the browser (formatted once per cycle, shared)."""
    points: dict[str, list[tuple[float, float]]]
    at: float = 0.0
    """Wall-clock time the hub published ``cycle`` (0 before the first cycle).

    Sent with every update so a client can tell the wait for the cycle (``at``
    minus a row's ``ts``) from the delivery (its receipt minus ``at``)."""
    resets: frozenset[str] = frozenset()
    """Symbols whose ``points`` are their whole sparkline, to draw *instead of* what the
    view has: older points arrived under the live ones (a late history backfill)."""


class QuoteBook:
    """Working and published quotes, per-cycle rows and sparkline history."""

    def __init__(self, history_len: int = 240):
        self.history_len = history_len
        self._working: dict[str, Quote] = {}
        self._dirty: set[str] = set()
        self._noted: set[str] = set()  # symbols whose quote carries a feed note
        self._published: dict[str, Quote] = {}
        self._rows: dict[str, dict] = {}
        self._history: dict[str, list[tuple[int, float, float]]] = {}
        """symbol -> sparkline points (cycle, time, price), bounded by
        :func:`app.hub.sparkline.compact_points`."""
        self._days: dict[str, tuple[int, int]] = {}
        """symbol -> (start, end) of the trading day its volume counts
        (:func:`app.market_hours.day_window`): a trade after its end starts the next."""
        self._rewritten: dict[str, int] = {}
        """symbol -> the cycle from which its sparkline was rewritten (older points put
        under live ones): views older than that get the whole line again."""
        self.cycle = 0
        self.cycle_at = 0.0

    def add(self, symbol: str) -> None:
        """Start keeping ``symbol`` (empty until a tick or reference arrives)."""
        self._working[symbol] = Quote(symbol)
        self._history[symbol] = []

    def seed(self, symbol: str, points: list[tuple[float, float]]) -> None:
        """Put stored points (time, price; oldest first) before the live ones of ``symbol``.

        They go out with the next cycle (the symbol is marked changed), so the first
        paint of a new symbol shows its day. Seeded under live points (a REST backfill
        answers after the first trades), the views drawing the line get all of it again
        with that cycle, flagged in :attr:`Changes.resets`: older points never arrive
        after newer ones as if they were new.
        """
        kept = self._history.get(symbol)
        if kept is None or not points:
            return
        first = kept[0][1] if kept else float("inf")
        older = [(t, p) for t, p in points if t < first]
        if not older:
            return
        cycle = self.cycle + 1
        self._dirty.add(symbol)
        if kept:
            self._rewritten[symbol] = cycle
        head = [(cycle, t, p) for t, p in older]
        self._history[symbol] = self._bounded([*head, *kept])

    def drop(self, symbol: str) -> None:
        """Forget ``symbol`` entirely (nobody watches it)."""
        for table in (self._working, self._published, self._rows, self._history,
                      self._rewritten, self._days):
            table.pop(symbol, None)
        self._dirty.discard(symbol)

    def fold(self, ticks: Iterable[Tick]) -> None:
        """Fold ticks of kept symbols into their working quotes; others are ignored."""
        for tick in ticks:
            q = self._working.get(tick.symbol)
            if q is None:
                continue  # nobody watches it (any more)
            day = self._days.get(tick.symbol)
            if day is None or tick.ts >= day[1]:
                new = self._days[tick.symbol] = day_window(tick.symbol, tick.ts)
                if day is not None and new[0] > day[0]:
                    q = new_day(q)  # the first trade of a new day: its volume starts
            self._working[tick.symbol] = fold(q, tick)
            self._dirty.add(tick.symbol)

    def set_day_volume(self, symbol: str, volume: float, day: tuple[int, int]) -> None:
        """Count ``volume`` traded on ``day`` (:func:`app.market_hours.day_window`) before
        the live trades of a kept symbol; ignored once its trades are of a later day."""
        q = self._working.get(symbol)
        if q is None or self._days.setdefault(symbol, day) != day:
            return
        after = apply_day_volume(q, volume)
        if after is not q:
            self._working[symbol] = after
            self._dirty.add(symbol)

    def apply_sessions(self, phase_words: Callable[[str], str]) -> None:
        """Name each kept symbol's phase of the day on its row ("" while regular): a
        change of phase re-sends the row even when nothing traded."""
        for sym, q in self._working.items():
            words = phase_words(sym)
            if q.session != words:
                self._working[sym] = replace(q, session=words)
                self._dirty.add(sym)

    def set_reference(self, symbol: str, reference: Reference | None) -> None:
        """Apply a reference price (previous close) to a kept symbol."""
        if symbol in self._working:
            self._working[symbol] = apply_reference(self._working[symbol], reference)
            self._dirty.add(symbol)

    def apply_notes(self, notes: dict[str, str]) -> None:
        """Mark kept symbols the feed will not stream with its reason (and clear it)."""
        for sym in notes.keys() | self._noted:
            q = self._working.get(sym)
            note = notes.get(sym, "")
            if q is not None and q.note != note:
                self._working[sym] = replace(q, note=note)
                self._dirty.add(sym)
        self._noted = {s for s in notes if s in self._working}

    def publish(self) -> int:
        """Publish one cycle if anything changed: new quotes and one point per change."""
        if not self._dirty:
            return self.cycle
        self.cycle += 1
        cycle = self.cycle
        self.cycle_at = time.time()
        for sym in self._dirty:
            q = self._working[sym]
            before = self._published.get(sym)
            direction = flash_direction(before.last if before else None, q.last)
            pub = replace(q, direction=direction, cycle=cycle)
            self._published[sym] = pub
            self._rows[sym] = quote_row(pub)
            if q.last is not None and (before is None or before.last != q.last
                                       or before.ts != q.ts):
                points = self._history[sym]
                points.append((cycle, q.ts or time.time(), q.last))
                if len(points) > self.history_len:
                    self._history[sym] = self._bounded(points)
        self._dirty.clear()
        return cycle

    def _bounded(self, points: list[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
        return compact_points(points, self.history_len, time_of=lambda p: p[1])

    def quote(self, symbol: str) -> Quote | None:
        return self._published.get(symbol)

    def latest(self, symbol: str) -> Quote | None:
        """The newest quote of a kept symbol, published or not yet (between cycles)."""
        return self._working.get(symbol)

    def history(self, symbol: str) -> list[tuple[float, float]]:
        """The sparkline points (time, price) kept for ``symbol``, oldest first."""
        return [(t, p) for _, t, p in self._history.get(symbol, ())]

    def changes_since(self, cycle: int, symbols: Iterable[str]) -> Changes:
        """Quotes of ``symbols`` published after ``cycle``, and their new points (all of
        them, flagged in ``resets``, for a symbol whose line was rewritten since)."""
        quotes: list[Quote] = []
        rows: list[dict] = []
        points: dict[str, list[tuple[float, float]]] = {}
        resets: set[str] = set()
        now, at = self.cycle, self.cycle_at
        if cycle >= now:
            return Changes(now, quotes, rows, points, at)
        for sym in symbols:
            q = self._published.get(sym)
            if q is None or q.cycle <= cycle:
                continue
            quotes.append(q)
            rows.append(self._rows[sym])
            if 0 < cycle < self._rewritten.get(sym, 0):
                points[sym] = self.history(sym)
                resets.add(sym)
                continue
            new = []
            for c, t, p in reversed(self._history.get(sym, ())):
                if c <= cycle:
                    break
                new.append((t, p))
            if new:
                points[sym] = new[::-1]
        return Changes(now, quotes, rows, points, at, frozenset(resets))
