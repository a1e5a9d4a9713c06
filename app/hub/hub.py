"""The hub: one per process, between the upstream feed and every session.

It composes the pieces in their own modules: ref-counted subscriptions
(:mod:`app.hub.subscriptions`) decide what the upstream carries, the quote book
(:mod:`app.hub.quote_book`) folds ticks into the latest quote per symbol, the cycle
clock (:mod:`app.hub.cycle_clock`) publishes what changed once per push interval, and
:mod:`app.hub.health` says how the feed looks to viewers. Sessions then only *select*
from the published snapshots; the feed's thread never touches Bokeh models.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from app.config import PUSH_INTERVAL_MS, Settings, get_settings
from app.feeds.base import Feed
from app.feeds.references import ReferenceLoader
from app.feeds.registry import feed_for, require_feed_settings
from app.hub.cadence import Cadence, Policy
from app.hub.cycle_clock import CycleClock, schedule
from app.hub.health import Health, feed_health
from app.hub.quote_book import Changes, QuoteBook
from app.hub.subscriptions import RefCounts, Subscription
from app.market_hours import PHASE_WORDS, Phase, is_crypto_or_fx
from app.quotes import Quote
from app.runtime import metrics
from app.ticks import FeedState, Reference, Tick

__all__ = ["Changes", "Health", "Hub", "Subscription", "get_hub", "make_hub",
           "reset_hub", "schedule"]

log = logging.getLogger(__name__)


class Hub:
    """Process-wide fan-in point: feed ticks in, conflated per-cycle snapshots out."""

    def __init__(self, feed: Feed, *, push_interval_ms: int = PUSH_INTERVAL_MS,
                 max_push_interval_ms: int | None = None, history_len: int = 240,
                 stale_after_s: float = 10.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic):
        self.feed = feed
        ceiling_ms = max(max_push_interval_ms or push_interval_ms, push_interval_ms)
        self._cadence = Cadence(Policy(push_interval_ms / 1000, ceiling_ms / 1000))
        """The push interval: ``push_interval_ms`` while delivery keeps up, stretched up
        to ``max_push_interval_ms`` while the process is busy (:mod:`app.hub.cadence`).
        The hub owns it: everyone else asks :attr:`push_interval_ms` and reports
        delivery through :meth:`report_delivery`."""
        self.history_len = history_len
        self.stale_after_s = stale_after_s
        self._clock = clock
        """Now, for the phase of the day (rows, status line); tests pass their own."""
        self._monotonic = monotonic
        """Seconds for tick ages and staleness (tests pass a clock they move)."""
        self._lock = threading.RLock()
        self._refs = RefCounts(monotonic)
        self._book = QuoteBook(history_len)
        self._last_tick_mono: float | None = None
        self.sessions_opened = 0
        self.sessions_closed = 0
        """Sessions ever opened and closed (the GC policy, app/runtime/gcpolicy.py, reads them)."""
        self.ticks_received = 0
        self._cycles = CycleClock(self._cadence, self._run_cycle)
        self._logged_state: FeedState | None = None
        self._listeners: list[Callable[[int], None]] = []
        self._references = ReferenceLoader(feed, self._apply_references,
                                           watched=self._is_watched)
        self._trade_sinks: list[Callable[[list[Tick]], None]] = []
        self._watch_hooks: list[Callable[[list[str]], None]] = []
        self._health_notes: list[Callable[[], str]] = []
        self._row_notes: list[Callable[[], dict[str, str]]] = []
        self._health_details: dict[str, Callable[[], object]] = {}

    # -- lifecycle -------------------------------------------------------
    def start(self) -> Hub:
        """Start the feed and the publishing cycle (idempotent)."""
        if not self._cycles.running:
            self.feed.start(self._on_ticks)
            self._cycles.start()
            log.info("hub started: feed=%s push_interval=%.3fs max_push_interval=%.3fs",
                     self.feed.feed_type, self._cadence.policy.floor_s,
                     self._cadence.policy.ceiling_s)
        return self

    def stop(self) -> None:
        self._cycles.stop()
        self._references.shutdown()
        self.feed.stop()

    def _run_cycle(self) -> None:
        """One tick of the cycle clock: publish, tell listeners, log state changes."""
        before = self.cycle
        cycle = self.publish()
        if cycle != before:
            for listener in list(self._listeners):
                listener(cycle)
        self._log_state_change()

    @property
    def cycles_missed(self) -> int:
        """Cycles skipped because the hub's thread woke a whole interval late."""
        return self._cycles.cycles_missed

    # -- the cadence (one owner, one unit: ms) -----------------------------
    @property
    def push_interval_ms(self) -> int:
        """The push interval now (the cadence may have stretched it), in whole ms, as
        every update carries it (``every``)."""
        return round(self._cadence.interval_s * 1000)

    @property
    def push_interval_floor_ms(self) -> int:
        """The fastest cadence (``PHOTON_PUSH_INTERVAL_MS``): timers of their own (a
        notebook board, a chart) run at it."""
        return round(self._cadence.policy.floor_s * 1000)

    @property
    def push_interval_ceiling_ms(self) -> int:
        """The slowest cadence a busy process stretches to (``PHOTON_MAX_PUSH_INTERVAL_MS``)."""
        return round(self._cadence.policy.ceiling_s * 1000)

    @property
    def cadence_load(self) -> float:
        """How busy delivery is (the controller's moving average; see app.hub.cadence)."""
        return self._cadence.load

    def report_delivery(self, lag_s: float) -> None:
        """A lane says how long after the cycle its last socket was written; the cadence
        stretches when that gets long and comes back when it is short again."""
        self._cadence.report(lag_s)

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(cycle)`` (on the hub's thread) after each cycle that changed."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add_trade_sink(self, sink: Callable[[list[Tick]], None]) -> None:
        """Also hand each batch of ticks to ``sink``, on the feed's thread: keep it cheap
        (the history writer only appends the batch to a queue)."""
        self._trade_sinks.append(sink)

    def add_watch_hook(self, hook: Callable[[list[str]], None]) -> None:
        """Call ``hook(symbols)`` when symbols get their first watcher, on the subscribing
        thread, after the feed was asked for them (history seeds and backfills there)."""
        self._watch_hooks.append(hook)

    def add_health_note(self, note: Callable[[], str]) -> None:
        """Append ``note()`` (when not empty) to the detail the status line and /health
        show, e.g. "history paused: ..."."""
        self._health_notes.append(note)

    def add_health_detail(self, name: str, detail: Callable[[], object]) -> None:
        """Report ``detail()`` as ``name`` in /health (e.g. the history store's state)."""
        self._health_details[name] = detail

    def health_details(self) -> dict[str, object]:
        return {name: detail() for name, detail in self._health_details.items()}

    def add_row_notes(self, notes: Callable[[], dict[str, str]]) -> None:
        """Also show ``notes()`` ({symbol: text}) on the rows, where the feed has none."""
        self._row_notes.append(notes)

    def set_day_volume(self, symbol: str, volume: float, day: tuple[int, int]) -> None:
        """Count ``volume`` traded on ``day`` ((start, end) epoch s) before the live
        trades in ``symbol``'s volume: the history store's sum or the provider's figure."""
        with self._lock:
            self._book.set_day_volume(symbol, volume, day)

    def seed_points(self, symbol: str, points: list[tuple[float, float]]) -> None:
        """Put older sparkline points (time, price) before the ones kept for ``symbol``."""
        with self._lock:
            self._book.seed(symbol, points)

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
            return self._refs.count(symbol)

    def refcounts(self) -> dict[str, int]:
        """Symbols with at least one watcher, and how many."""
        with self._lock:
            return self._refs.counts()

    @property
    def sessions(self) -> int:
        with self._lock:
            return self._refs.sessions

    def session_opened(self) -> None:
        with self._lock:
            self._refs.sessions += 1
            self.sessions_opened += 1

    def session_closed(self) -> None:
        with self._lock:
            self._refs.sessions -= 1
            self.sessions_closed += 1

    def acquire(self, symbols: Iterable[str]) -> None:
        """One more watcher of ``symbols``; the feed subscribes to those first watched.
        Sessions call it through their :class:`Subscription`."""
        with self._lock:
            first = self._refs.acquire(symbols)
            for sym in first:
                self._book.add(sym)
        if first:
            self.feed.subscribe(first)
            self._references.load(first)
            for hook in list(self._watch_hooks):
                hook(first)

    def _is_watched(self, symbol: str) -> bool:
        with self._lock:
            return self._refs.count(symbol) > 0

    def _apply_references(self, refs: dict[str, Reference | None]) -> None:
        """Fold loaded reference prices into the quotes still watched."""
        with self._lock:
            for sym, ref in refs.items():
                if self._refs.count(sym) > 0:  # not released meanwhile
                    self._book.set_reference(sym, ref)

    def release(self, symbols: Iterable[str]) -> None:
        """One watcher fewer; the feed unsubscribes from those nobody watches now."""
        with self._lock:
            last = self._refs.release(symbols)
            for sym in last:
                self._book.drop(sym)
        if last:
            self.feed.unsubscribe(last)

    # -- ticks in (feed thread) ------------------------------------------
    def _on_ticks(self, ticks: list[Tick]) -> None:
        """Fold a batch of ticks into the working quotes: O(1) memory per symbol."""
        metrics.observe_ticks(len(ticks))
        with self._lock:
            self._last_tick_mono = self._monotonic()
            self.ticks_received += len(ticks)
            self._book.fold(ticks)
        for sink in self._trade_sinks:
            sink(ticks)

    # -- snapshots out (hub thread) --------------------------------------
    def publish(self) -> int:
        """Publish one cycle: each changed symbol gets a new quote and one sparkline point."""
        notes = self.feed.unavailable()
        for extra in self._row_notes:
            notes = {**extra(), **notes}
        words = self._session_words()
        with self._lock:
            self._book.apply_notes(notes)
            self._book.apply_sessions(words)
            return self._book.publish()

    def _session_words(self) -> Callable[[str], str]:
        """Each symbol's phase of the day as its row says it now ("" while regular);
        stocks share one (worked out once a cycle)."""
        now, feed = self._clock(), self.feed
        stocks: list[str] = []

        def words(symbol: str) -> str:
            if is_crypto_or_fx(symbol):
                phase = feed.phase(symbol, now)
            else:
                if not stocks:
                    stocks.append(feed.phase(symbol, now))
                phase = stocks[0]
            return "" if phase is Phase.REGULAR else PHASE_WORDS[phase]
        return words

    @property
    def cycle(self) -> int:
        with self._lock:
            return self._book.cycle

    @property
    def cycle_at(self) -> float:
        """Wall-clock time the current cycle was published (0 before the first)."""
        with self._lock:
            return self._book.cycle_at

    def quote(self, symbol: str) -> Quote | None:
        with self._lock:
            return self._book.quote(symbol)

    def latest_quote(self, symbol: str) -> Quote | None:
        """The newest quote of a watched symbol, also between cycles: a symbol just
        watched has its reference price here before the next cycle publishes it."""
        with self._lock:
            return self._book.latest(symbol)

    def history(self, symbol: str) -> list[tuple[float, float]]:
        """The sparkline points (time, price) kept for ``symbol``, oldest first."""
        with self._lock:
            return self._book.history(symbol)

    def changes_since(self, cycle: int, symbols: Iterable[str]) -> Changes:
        """Quotes of ``symbols`` published after ``cycle``, and their new points.

        ``cycle=0`` gives everything known: the full state for a fresh view.
        """
        with self._lock:
            return self._book.changes_since(cycle, symbols)

    def health(self) -> Health:
        """Feed state, with ``live`` downgraded to ``stale`` when ticks stopped coming."""
        with self._lock:
            watched = self._refs.watched()
            sessions = self._refs.sessions
            last_tick, since = self._last_tick_mono, self._refs.watched_since
        h = feed_health(self.feed, watched=watched, sessions=sessions,
                        last_tick_mono=last_tick, watched_since=since,
                        stale_after_s=self.stale_after_s,
                        push_interval_s=self._cadence.interval_s, now_utc=self._clock,
                        now_mono=self._monotonic())
        notes = [n for note in self._health_notes if (n := note())]
        return replace(h, last_error=" · ".join([h.last_error, *notes] if h.last_error
                                               else notes)) if notes else h


# -- the process-wide instance ---------------------------------------------
_hub: Hub | None = None
_hub_lock = threading.Lock()


def make_hub(settings: Settings) -> Hub:
    """A hub (not started) with the feed the settings name."""
    require_feed_settings(settings)
    return Hub(feed_for(settings), push_interval_ms=settings.push_interval_ms,
               max_push_interval_ms=settings.max_push_interval_ms,
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
