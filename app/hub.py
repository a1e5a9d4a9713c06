"""The hub: one per process, between the upstream feed and every session.

It ref-counts subscriptions (the upstream carries a symbol while at least one
session watches it), folds ticks into the latest quote per symbol, and once per
cycle publishes what changed: a new immutable :class:`~app.quotes.Quote` and one
sparkline point per changed symbol. Sessions then only *select* from that; the
feed's thread never touches Bokeh models.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from app import metrics
from app.cadence import Cadence, Policy
from app.config import Settings, get_settings, require_feed_settings
from app.feeds.base import Feed, FeedState, Tick
from app.feeds.registry import feed_for
from app.market_hours import symbol_open
from app.quotes import Quote, apply_reference, flash_direction, fold, quote_row

log = logging.getLogger(__name__)

#: Identifies this server process: a page that reconnects to a different one reloads.
PROCESS_ID = uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class Health:
    """Feed health as the page and ``/health`` report it."""

    feed: str
    label: str
    state: FeedState
    last_error: str
    last_tick_age: float | None
    """Seconds since the last tick reached the hub; None before the first."""
    last_message_age: float | None
    """Seconds since the upstream last sent anything (keep-alives too)."""
    reconnects: int
    symbols: int
    sessions: int
    retry_at: float | None = None
    """While the feed waits to reconnect, when it will try (``time.time()``)."""
    upstream: str = ""
    """The provider behind the feed (differs from ``feed`` behind a relay)."""
    push_interval_s: float = 0.0
    """The current push interval (cadence)."""


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


class Subscription:
    """One session's claim on a set of symbols; ``close()`` gives it back.

    Handles are symmetric: whatever ``update`` acquired, ``close`` releases, so
    the hub's ref counts return to zero when every session has closed.
    """

    def __init__(self, hub: Hub, symbols: Iterable[str] = ()):
        self._hub = hub
        self._symbols: tuple[str, ...] = ()
        self._closed = False
        hub._sessions_opened()
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
        self._hub._acquire(added)
        self._hub._release(removed)
        self._symbols = new
        return added, removed

    def close(self) -> None:
        """Release every symbol; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._hub._release(self._symbols)
        self._symbols = ()
        self._hub._sessions_closed()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Hub:
    """Process-wide fan-in point: feed ticks in, conflated per-cycle snapshots out."""

    def __init__(self, feed: Feed, *, push_interval_s: float = 0.1,
                 max_push_interval_s: float | None = None, history_len: int = 240,
                 stale_after_s: float = 10.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.feed = feed
        self.cadence = Cadence(Policy(push_interval_s,
                                      max(max_push_interval_s or push_interval_s,
                                          push_interval_s)))
        """The push interval: ``push_interval_s`` while delivery keeps up, stretched up
        to ``max_push_interval_s`` while the process is busy (:mod:`app.cadence`)."""
        self.history_len = history_len
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.RLock()
        self._refs: Counter[str] = Counter()
        self._working: dict[str, Quote] = {}
        self._dirty: set[str] = set()
        self._noted: set[str] = set()  # symbols whose quote carries a feed note
        self._published: dict[str, Quote] = {}
        self._rows: dict[str, dict] = {}
        self._history: dict[str, deque[tuple[int, float, float]]] = {}
        self._cycle = 0
        self._cycle_at = 0.0
        self._last_tick_mono: float | None = None
        self._watched_since = time.monotonic()
        self._sessions = 0
        self.sessions_opened = 0
        self.sessions_closed = 0
        """Sessions ever opened and closed (the GC policy, app/gcpolicy.py, reads them)."""
        self.ticks_received = 0
        self.cycles_missed = 0
        """Cycles skipped because the hub's thread woke a whole interval late."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._logged_state: FeedState | None = None
        self._listeners: list[Callable[[int], None]] = []
        self._ref_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photon-ref")

    # -- lifecycle -------------------------------------------------------
    def start(self) -> Hub:
        """Start the feed and the publishing cycle (idempotent)."""
        if self._thread is None:
            self.feed.start(self._on_ticks)
            self._stop.clear()
            self._thread = threading.Thread(target=self._cycle_loop, name="photon-hub",
                                            daemon=True)
            self._thread.start()
            log.info("hub started: feed=%s push_interval=%.3fs max_push_interval=%.3fs",
                     self.feed.feed_type, self.cadence.policy.floor_s,
                     self.cadence.policy.ceiling_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._ref_pool.shutdown(wait=False, cancel_futures=True)
        self.feed.stop()

    def _cycle_loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            interval = self.cadence.advance()
            next_at += interval
            try:
                before = self._cycle
                cycle = self.publish()
                if cycle != before:
                    for listener in list(self._listeners):
                        listener(cycle)
                self._log_state_change()
            except Exception:  # a bad cycle must not end publishing for everyone
                log.exception("hub publish cycle failed")
            next_at, delay, missed = schedule(next_at, time.monotonic(), interval)
            self.cycles_missed += missed
            self._stop.wait(delay)

    @property
    def push_interval_s(self) -> float:
        """The current push interval (the cadence may have stretched it)."""
        return self.cadence.interval_s

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(cycle)`` (on the hub's thread) after each cycle that changed."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _log_state_change(self) -> None:
        """One INFO line whenever the state viewers see changes."""
        h = self.health()
        if h.state is not self._logged_state:
            log.info("feed_state feed=%s state=%s previous=%s reconnects=%d error=%r",
                     h.feed, h.state.value,
                     self._logged_state.value if self._logged_state else None,
                     h.reconnects, h.last_error)
            self._logged_state = h.state

    # -- subscriptions ---------------------------------------------------
    def subscribe(self, symbols: Iterable[str] = ()) -> Subscription:
        """A handle on ``symbols`` for one session; close it when the session ends."""
        return Subscription(self, symbols)

    def refcount(self, symbol: str) -> int:
        with self._lock:
            return self._refs.get(symbol, 0)

    def refcounts(self) -> dict[str, int]:
        """Symbols with at least one watcher, and how many."""
        with self._lock:
            return {s: n for s, n in self._refs.items() if n > 0}

    @property
    def sessions(self) -> int:
        with self._lock:
            return self._sessions

    def _sessions_opened(self) -> None:
        with self._lock:
            self._sessions += 1
            self.sessions_opened += 1

    def _sessions_closed(self) -> None:
        with self._lock:
            self._sessions -= 1
            self.sessions_closed += 1

    def _acquire(self, symbols: Iterable[str]) -> None:
        first: list[str] = []
        with self._lock:
            if not self._refs:
                self._watched_since = time.monotonic()
            for sym in symbols:
                self._refs[sym] += 1
                if self._refs[sym] == 1:
                    first.append(sym)
                    self._working[sym] = Quote(sym)
                    self._history[sym] = deque(maxlen=self.history_len)
        if not first:
            return
        self.feed.subscribe(first)
        if self.feed.reference_is_fast:
            self._load_references(first)
        else:  # REST may be slow or rate limited: never block a session on it
            self._ref_pool.submit(self._load_references, first)

    def _load_references(self, symbols: list[str]) -> None:
        """Fetch reference prices (outside the lock) and fold them into the quotes."""
        refs = {sym: self.feed.get_reference(sym) for sym in symbols}
        with self._lock:
            for sym, ref in refs.items():
                if self._refs.get(sym, 0) <= 0:
                    continue  # released meanwhile
                self._working[sym] = apply_reference(self._working[sym], ref)
                self._dirty.add(sym)

    def _release(self, symbols: Iterable[str]) -> None:
        last: list[str] = []
        with self._lock:
            for sym in symbols:
                if self._refs.get(sym, 0) <= 0:
                    continue
                self._refs[sym] -= 1
                if self._refs[sym] == 0:
                    del self._refs[sym]
                    last.append(sym)
                    for table in (self._working, self._published, self._rows, self._history):
                        table.pop(sym, None)
                    self._dirty.discard(sym)
        if last:
            self.feed.unsubscribe(last)

    # -- ticks in (feed thread) ------------------------------------------
    def _on_ticks(self, ticks: list[Tick]) -> None:
        """Fold a batch of ticks into the working quotes: O(1) memory per symbol."""
        metrics.observe_ticks(len(ticks))
        with self._lock:
            self._last_tick_mono = time.monotonic()
            self.ticks_received += len(ticks)
            for tick in ticks:
                q = self._working.get(tick.symbol)
                if q is None:
                    continue  # nobody watches it (any more)
                self._working[tick.symbol] = fold(q, tick)
                self._dirty.add(tick.symbol)

    # -- snapshots out (hub thread) --------------------------------------
    def publish(self) -> int:
        """Publish one cycle: each changed symbol gets a new quote and one sparkline point."""
        notes = self.feed.unavailable()
        with self._lock:
            self._apply_notes(notes)
            if not self._dirty:
                return self._cycle
            self._cycle += 1
            cycle = self._cycle
            self._cycle_at = time.time()
            for sym in self._dirty:
                q = self._working[sym]
                before = self._published.get(sym)
                direction = flash_direction(before.last if before else None, q.last)
                pub = replace(q, direction=direction, cycle=cycle)
                self._published[sym] = pub
                self._rows[sym] = quote_row(pub)
                if q.last is not None and (before is None or before.last != q.last
                                           or before.ts != q.ts):
                    self._history[sym].append((cycle, q.ts or time.time(), q.last))
            self._dirty.clear()
            return cycle

    def _apply_notes(self, notes: dict[str, str]) -> None:
        """Mark watched symbols the feed will not stream with its reason (and clear it)."""
        for sym in notes.keys() | self._noted:
            q = self._working.get(sym)
            note = notes.get(sym, "")
            if q is not None and q.note != note:
                self._working[sym] = replace(q, note=note)
                self._dirty.add(sym)
        self._noted = {s for s in notes if s in self._working}

    @property
    def cycle(self) -> int:
        with self._lock:
            return self._cycle

    @property
    def cycle_at(self) -> float:
        """Wall-clock time the current cycle was published (0 before the first)."""
        with self._lock:
            return self._cycle_at

    def quote(self, symbol: str) -> Quote | None:
        with self._lock:
            return self._published.get(symbol)

    def history(self, symbol: str) -> list[tuple[float, float]]:
        """The sparkline points (time, price) kept for ``symbol``, oldest first."""
        with self._lock:
            return [(t, p) for _, t, p in self._history.get(symbol, ())]

    def changes_since(self, cycle: int, symbols: Iterable[str]) -> Changes:
        """Quotes of ``symbols`` published after ``cycle``, and their new points.

        ``cycle=0`` gives everything known: the full state for a fresh view.
        """
        quotes: list[Quote] = []
        rows: list[dict] = []
        points: dict[str, list[tuple[float, float]]] = {}
        with self._lock:
            now, at = self._cycle, self._cycle_at
            if cycle >= now:
                return Changes(now, quotes, rows, points, at)
            for sym in symbols:
                q = self._published.get(sym)
                if q is None or q.cycle <= cycle:
                    continue
                quotes.append(q)
                rows.append(self._rows[sym])
                new = []
                for c, t, p in reversed(self._history.get(sym, ())):
                    if c <= cycle:
                        break
                    new.append((t, p))
                if new:
                    points[sym] = new[::-1]
        return Changes(now, quotes, rows, points, at)

    def health(self) -> Health:
        """Feed state, with ``live`` downgraded to ``stale`` when ticks stopped coming."""
        with self._lock:
            now = time.monotonic()
            age = None if self._last_tick_mono is None else now - self._last_tick_mono
            # Quiet since the first watcher arrived, or since the last tick if later.
            quiet = now - max(self._last_tick_mono or 0.0, self._watched_since)
            watched = list(self._refs)
            sessions = self._sessions
        state = FeedState(self.feed.state)
        if state is FeedState.LIVE and watched and quiet > self.stale_after_s:
            # Quiet is expected while every watched market is closed: not a fault.
            now_utc = self._clock()
            open_any = any(symbol_open(s, now_utc) for s in watched)
            state = FeedState.STALE if open_any else FeedState.MARKET_CLOSED
        msg = self.feed.last_message_mono
        return Health(self.feed.feed_type, self.feed.label or self.feed.feed_type, state,
                      self.feed.last_error, age, None if msg is None else now - msg,
                      self.feed.reconnects, len(watched), sessions, self.feed.retry_at,
                      self.feed.upstream, self.cadence.interval_s)


def schedule(next_at: float, now: float, interval: float) -> tuple[float, float, int]:
    """(deadline, wait, cycles missed) for the next cycle due at ``next_at``.

    A wake-up that is merely late keeps the schedule (no wait now), so small waits
    for the GIL do not drift the cadence; whole missed cycles are skipped, not
    burst, and counted.
    """
    if next_at - now < -interval:
        return now, 0.0, int((now - next_at) / interval)
    return next_at, max(next_at - now, 0.0), 0


# -- the process-wide instance ---------------------------------------------
_hub: Hub | None = None
_hub_lock = threading.Lock()


def make_hub(settings: Settings) -> Hub:
    """A hub (not started) with the feed the settings name."""
    require_feed_settings(settings)
    return Hub(feed_for(settings), push_interval_s=settings.push_interval_ms / 1000,
               max_push_interval_s=settings.max_push_interval_ms / 1000,
               history_len=settings.history_len, stale_after_s=settings.stale_after_s)


def get_hub(settings: Settings | None = None) -> Hub:
    """The one started hub of this process, created on first use."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = make_hub(settings or get_settings()).start()
            metrics.watch_hub(_hub)
        return _hub


def reset_hub() -> None:
    """Stop and forget the process hub (tests, notebook restarts)."""
    global _hub
    with _hub_lock:
        if _hub is not None:
            _hub.stop()
            _hub = None
            metrics.watch_hub(None)
