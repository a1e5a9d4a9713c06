"""The feed interface: what every upstream adapter (mock, Finnhub, ...) delivers.

A feed knows nothing about Panel or sessions. It connects to its upstream, keeps
the set of symbols it was asked for, and hands batches of :class:`Tick` to one
sink callable (the hub) from its own thread. Its health is the ``state`` and
``last_error`` parameters, which the hub reads once per cycle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

import param

from app.feeds.supervisor import supervise
from app.market_hours import HOURS, Phase, phase_in
from app.ticks import FeedState, Reference, SymbolInfo, Tick

if TYPE_CHECKING:
    from app.config import Settings


TickSink = Callable[[list[Tick]], None]


class FeedTap(Protocol):
    """Sees what a feed delivers (e.g. :class:`app.feeds.recording.Recorder`)."""

    def record_ticks(self, ticks: list[Tick]) -> None: ...

    def record_reference(self, ref: Reference | None) -> None: ...

    def close(self) -> None: ...


class Feed(param.Parameterized):
    """Base of all feed adapters: subscription bookkeeping lives here once.

    Subclasses set ``feed_type`` and ``label``, and implement ``_run`` (the
    upstream loop, on the feed's own thread), ``_send_subscribe`` and
    ``_send_unsubscribe`` (tell the upstream), ``universe`` and ``reference``.
    """

    feed_type: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: ``reference()`` answers from memory; False when it may wait on the network,
    #: so the hub calls it off the subscribing session's thread.
    reference_is_fast: ClassVar[bool] = False
    #: Any well-formed symbol may be asked for, not only those in ``universe()``.
    open_universe: ClassVar[bool] = False

    state = param.Selector(
        default=FeedState.CONNECTING, objects=list(FeedState), doc="Upstream health."
    )
    last_error = param.String(default="", doc="Last upstream problem, never with secrets.")
    hours = param.Selector(default="always", objects=list(HOURS),
                           doc="The calendar stocks follow (app.market_hours.phase_in): "
                           "'market' is the exchange's, which Photon's feeds get from "
                           "PHOTON_MARKET_HOURS (app.feeds.registry); a feed built by "
                           "hand (tests, bench) trades around the clock unless told.")
    restart_base_s = param.Number(default=1.0, bounds=(0.0, None),
                                  doc="First restart delay after the feed's loop crashed.")
    restart_cap_s = param.Number(default=30.0, bounds=(0.0, None), doc="Longest restart delay.")
    restart_stable_s = param.Number(default=60.0, bounds=(0.0, None),
                                    doc="A run this long resets the restart backoff.")

    def __init__(self, **params):
        super().__init__(**params)
        self._symbols: set[str] = set()
        self._sym_lock = threading.Lock()
        self._sink: TickSink | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: For operators: upstream reconnects so far, and when anything last arrived
        #: (trade or keep-alive; ``time.monotonic()``), set by the adapters.
        self.reconnects = 0
        self.last_message_mono: float | None = None
        #: While waiting to reconnect: when the next attempt is due (``time.time()``),
        #: so a page can count down to it; None otherwise.
        self.retry_at: float | None = None
        #: Times the feed's loop crashed and was restarted (:mod:`app.feeds.supervisor`).
        self.restarts = 0
        self._taps: list[FeedTap] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> Feed:
        """Build the feed from process settings; adapters take what they need."""
        return cls()

    # -- lifecycle -------------------------------------------------------
    def start(self, sink: TickSink) -> None:
        """Start delivering ticks to ``sink`` from a daemon thread, under the supervisor
        (:func:`app.feeds.supervisor.supervise`): a crash is shown and restarted."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(
            target=supervise, args=(self,), name=f"photon-feed-{self.feed_type}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the upstream loop to end and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.state = FeedState.STOPPED
        for tap in self._taps:
            tap.close()

    def add_tap(self, tap: FeedTap) -> None:
        """Also hand every delivered tick and fetched reference to ``tap`` (a recorder)."""
        self._taps.append(tap)

    def get_reference(self, symbol: str) -> Reference | None:
        """:meth:`reference`, seen by the taps too: what the hub calls."""
        ref = self.reference(symbol)
        for tap in self._taps:
            tap.record_reference(ref)
        return ref

    @property
    def upstream(self) -> str:
        """The provider behind this feed: itself, except behind a relay."""
        return self.feed_type

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- subscriptions ---------------------------------------------------
    @property
    def symbols(self) -> frozenset[str]:
        """Symbols currently asked of the upstream."""
        with self._sym_lock:
            return frozenset(self._symbols)

    def subscribe(self, symbols: Iterable[str]) -> None:
        """Ask the upstream for ``symbols`` (idempotent)."""
        with self._sym_lock:
            new = [s for s in symbols if s not in self._symbols]
            self._symbols.update(new)
        if new:
            self._send_subscribe(new)

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        """Stop asking the upstream for ``symbols`` (idempotent)."""
        with self._sym_lock:
            gone = [s for s in symbols if s in self._symbols]
            self._symbols.difference_update(gone)
        if gone:
            self._send_unsubscribe(gone)

    def phase(self, symbol: str, now: datetime) -> Phase:
        """Where ``symbol``'s market is in its day at ``now`` (aware): the exchange's
        calendar (or the one ``hours`` holds), which the board names on rows and the
        status line."""
        return phase_in(self.hours, symbol, now)

    def resume(self, prices: Mapping[str, float]) -> None:
        """Start from these last known prices (after a restart). A real upstream knows its
        prices; a simulated one (the mock) carries on from them instead of jumping."""

    def unavailable(self) -> dict[str, str]:
        """Symbols asked for that the upstream will not stream now, each with why.

        The hub shows the reason on the symbol's row, so a viewer sees why it is quiet.
        """
        return {}

    def _emit(self, ticks: list[Tick]) -> None:
        """Deliver ticks of still-subscribed symbols to the sink."""
        if not ticks or self._sink is None:
            return
        wanted = self.symbols
        ticks = [t for t in ticks if t.symbol in wanted]
        if ticks:
            for tap in self._taps:
                tap.record_ticks(ticks)
            self._sink(ticks)

    # -- for subclasses --------------------------------------------------
    def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _send_subscribe(self, symbols: list[str]) -> None:
        """Tell the upstream about new symbols; default: nothing to send."""

    def _send_unsubscribe(self, symbols: list[str]) -> None:
        """Tell the upstream symbols are no longer wanted; default: nothing."""

    def universe(self) -> list[SymbolInfo]:  # pragma: no cover - abstract
        """Symbols offered in the picker."""
        raise NotImplementedError

    def reference(self, symbol: str) -> Reference | None:  # pragma: no cover
        """Reference prices (previous close, ...) for ``symbol``, if known."""
        raise NotImplementedError

