"""Prometheus metrics for Photon, served at ``GET /metrics``.

Two kinds of numbers, kept apart on purpose:

* **Events** (ticks in, symbol updates pushed, reconnects, fan-out and session push
  times) are counted where they happen through cheap calls: ``observe_ticks(n)``,
  ``observe_fanout(duration_s, symbols_sent)``,
  ``observe_session_push(duration_s, symbols_sent)``, ``observe_reconnect()``,
  ``observe_malformed(source)``, ``observe_feed_restart()``.
* **State** (sessions, subscribed symbols, feed state, tick age) is read from the
  hub when Prometheus scrapes, by a collector given a snapshot callable, so no code
  path has to remember to keep a gauge in step.

Each :class:`Metrics` owns its own ``CollectorRegistry`` (never the global one), so
tests and several hubs in one process do not collide. The page carries numbers and
feed-state names only: no symbols, error texts, URLs or keys.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, choose_encoder, generate_latest
from prometheus_client.registry import Collector
from tornado.web import RequestHandler

from app.ticks import FeedState


class HealthLike(Protocol):
    """What ``/metrics`` reads of a hub's health (the hub's ``Health`` has it)."""

    sessions: int
    symbols: int
    state: FeedState
    last_tick_age: float | None
    push_interval_s: float


class HasHealth(Protocol):
    """Anything with ``health()``: the hub. Structural, so this module does not import
    the hub (which imports this one to count ticks)."""

    def health(self) -> HealthLike: ...

log = logging.getLogger(__name__)

#: Push cycles take well under a millisecond to tens of milliseconds; the top
#: buckets catch a session that has fallen badly behind its 250 ms cadence.
PUSH_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                0.25, 0.5, 1.0, 2.5)


#: Young collections take microseconds; a full one over a big heap, up to seconds.
GC_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Hub state as the scrape sees it; built by the source callable on each scrape."""

    sessions: int
    subscribed_symbols: int
    feed_state: FeedState | str
    last_tick_age_s: float | None = None
    """Seconds since the last tick reached the hub; None before the first."""
    push_interval_s: float | None = None
    """The current push interval (the adaptive cadence)."""


SnapshotSource = Callable[[], "Snapshot | None"]


def snapshot_from_hub(hub: HasHealth) -> Snapshot:
    """What ``/metrics`` reports of ``hub``: from ``hub.health()``, the same as ``/health``."""
    h = hub.health()
    return Snapshot(h.sessions, h.symbols, h.state, h.last_tick_age, h.push_interval_s)


class _StateCollector(Collector):
    """Gauges computed at scrape time from the current snapshot source."""

    def __init__(self, owner: Metrics):
        self._owner = owner

    def describe(self) -> list[Metric]:
        # Declaring nothing keeps registration from calling ``collect`` (and the hub).
        return []

    def collect(self) -> Iterator[Metric]:
        try:
            snap = self._owner.snapshot()
        except Exception:  # a broken source must not turn the whole scrape into a 500
            log.exception("metrics: hub snapshot failed")
            return
        if snap is None:
            return
        sessions = GaugeMetricFamily("photon_sessions", "Browser sessions open on this process.")
        sessions.add_metric([], snap.sessions)
        yield sessions
        symbols = GaugeMetricFamily("photon_subscribed_symbols",
                                    "Symbols the upstream carries (watched by >= 1 session).")
        symbols.add_metric([], snap.subscribed_symbols)
        yield symbols
        current = str(getattr(snap.feed_state, "value", snap.feed_state))
        state = GaugeMetricFamily("photon_feed_state",
                                  "Feed health: 1 for the current state, 0 for the others.",
                                  labels=["state"])
        names = [s.value for s in FeedState]
        if current not in names:
            names.append(current)
        for name in names:
            state.add_metric([name], 1.0 if name == current else 0.0)
        yield state
        if snap.last_tick_age_s is not None:
            age = GaugeMetricFamily("photon_last_tick_age_seconds",
                                    "Seconds since the last tick reached the hub.")
            age.add_metric([], snap.last_tick_age_s)
            yield age
        if snap.push_interval_s is not None:
            cadence = GaugeMetricFamily("photon_push_interval_seconds",
                                        "The current push interval: the floor while delivery "
                                        "keeps up, longer while the process is busy.")
            cadence.add_metric([], snap.push_interval_s)
            yield cadence


class Metrics:
    """One set of Photon metrics on its own registry."""

    def __init__(self, source: SnapshotSource | None = None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.ticks_received = Counter("photon_ticks_received", "Ticks the hub received.",
                                      registry=self.registry)
        self.ticks_pushed = Counter("photon_ticks_pushed",
                                    "Symbol updates sent to browser sessions.",
                                    registry=self.registry)
        self.reconnects = Counter("photon_reconnects", "Upstream reconnect attempts.",
                                  registry=self.registry)
        self.feed_restarts = Counter("photon_feed_restarts",
                                     "Times a feed's loop crashed and was restarted "
                                     "(app/feeds/supervisor.py).", registry=self.registry)
        self.malformed = Counter("photon_malformed_messages",
                                 "Input dropped for not matching its schema, by where it "
                                 "came from (a Redis key kind, or a provider's stream).",
                                 ["source"], registry=self.registry)
        self.connections_closed = Counter(
            "photon_connections_closed", "Connections the server closed on a client that "
            "stopped keeping up: ws_unsent (a WebSocket's unsent data passed its bound), "
            "ws_ping_timeout (a ping unanswered), http_header_timeout (no complete request "
            "head in time; idle keep-alive connections too).", ["reason"],
            registry=self.registry)
        self.refused = Counter(
            "photon_requests_refused", "Requests refused by a limit: session_client (429, "
            "tabs per client), session_process (503, the process is full), history_rate "
            "(429), history_bars (400, too many bars asked).", ["reason"],
            registry=self.registry)
        # Two different costs, so two metrics: the fast lane sends every session its
        # changes in one pass per cycle; the Bokeh path pushes each session on its own.
        self.fanout = Histogram("photon_fanout_seconds",
                                "Time one hub cycle's fast-lane fan-out took, every "
                                "session at once (whole process).",
                                buckets=PUSH_BUCKETS, registry=self.registry)
        self.session_push = Histogram("photon_session_push_seconds",
                                      "Time one session's push took on the Bokeh path "
                                      "(one session, one cycle).",
                                      buckets=PUSH_BUCKETS, registry=self.registry)
        self.gc_pause = Histogram("photon_gc_pause_seconds",
                                  "Garbage-collector pauses (every thread stops).",
                                  ["generation"], buckets=GC_BUCKETS, registry=self.registry)
        self._source_lock = threading.Lock()
        self._source: SnapshotSource | None = source
        self.registry.register(_StateCollector(self))

    # -- events (hot paths: keep them cheap) --------------------------------
    def observe_ticks(self, n: int) -> None:
        """``n`` ticks reached the hub."""
        if n > 0:
            self.ticks_received.inc(n)

    def observe_fanout(self, duration_s: float, symbols_sent: int) -> None:
        """One cycle's fast-lane fan-out to every session took ``duration_s`` and sent
        ``symbols_sent`` symbol updates in all."""
        self.fanout.observe(duration_s)
        self._count_pushed(symbols_sent)

    def observe_session_push(self, duration_s: float, symbols_sent: int) -> None:
        """One session's Bokeh-path push took ``duration_s`` and sent ``symbols_sent``."""
        self.session_push.observe(duration_s)
        self._count_pushed(symbols_sent)

    def _count_pushed(self, symbols_sent: int) -> None:
        if symbols_sent > 0:
            self.ticks_pushed.inc(symbols_sent)

    def observe_gc_pause(self, generation: int, seconds: float) -> None:
        """A garbage collection of ``generation`` stopped the process for ``seconds``."""
        self.gc_pause.labels(str(generation)).observe(seconds)

    def observe_reconnect(self, n: int = 1) -> None:
        """The feed is reconnecting to its upstream."""
        if n > 0:
            self.reconnects.inc(n)

    def observe_feed_restart(self) -> None:
        """A feed's loop crashed; it restarts after a backoff."""
        self.feed_restarts.inc()

    def observe_malformed(self, source: str, n: int = 1) -> None:
        """``n`` malformed messages from ``source`` (a fixed name, never the input) dropped."""
        if n > 0:
            self.malformed.labels(source).inc(n)

    def observe_connection_closed(self, reason: str) -> None:
        """The server closed a connection for ``reason`` (a fixed name)."""
        self.connections_closed.labels(reason).inc()

    def observe_refused(self, reason: str) -> None:
        """A limit refused a request for ``reason`` (a fixed name)."""
        self.refused.labels(reason).inc()

    # -- state (read at scrape time) ----------------------------------------
    def set_source(self, source: SnapshotSource | None) -> None:
        """Where scrapes read hub state from; None reports no state gauges."""
        with self._source_lock:
            self._source = source

    def watch_hub(self, hub: HasHealth | None) -> None:
        """Report ``hub``'s state; held weakly, so a dropped hub is not kept alive."""
        if hub is None:
            self.set_source(None)
            return
        ref = weakref.ref(hub)

        def source() -> Snapshot | None:
            h = ref()
            return None if h is None else snapshot_from_hub(h)

        self.set_source(source)

    def snapshot(self) -> Snapshot | None:
        with self._source_lock:
            source = self._source
        return None if source is None else source()

    # -- exposition ----------------------------------------------------------
    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """(body, content type) in the format ``accept`` asks for; Prometheus text by default."""
        if accept:
            encoder, content_type = choose_encoder(accept)
            return encoder(self.registry), content_type
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


#: The process-wide metrics that the module functions below use.
METRICS = Metrics()


def observe_ticks(n: int) -> None:
    METRICS.observe_ticks(n)


def observe_fanout(duration_s: float, symbols_sent: int) -> None:
    METRICS.observe_fanout(duration_s, symbols_sent)


def observe_session_push(duration_s: float, symbols_sent: int) -> None:
    METRICS.observe_session_push(duration_s, symbols_sent)


def observe_reconnect(n: int = 1) -> None:
    METRICS.observe_reconnect(n)


def observe_feed_restart() -> None:
    METRICS.observe_feed_restart()


def observe_malformed(source: str, n: int = 1) -> None:
    METRICS.observe_malformed(source, n)


def observe_gc_pause(generation: int, seconds: float) -> None:
    METRICS.observe_gc_pause(generation, seconds)


def observe_connection_closed(reason: str) -> None:
    METRICS.observe_connection_closed(reason)


def observe_refused(reason: str) -> None:
    METRICS.observe_refused(reason)


def watch_hub(hub: HasHealth | None) -> None:
    METRICS.watch_hub(hub)


def set_source(source: SnapshotSource | None) -> None:
    METRICS.set_source(source)


def render_latest(accept: str | None = None) -> tuple[bytes, str]:
    """The process metrics page: (body, content type)."""
    return METRICS.render(accept)


class MetricsHandler(RequestHandler):
    """``GET /metrics``: Prometheus exposition of the process metrics (or of ``metrics``)."""

    def initialize(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics

    def get(self) -> None:
        metrics = self._metrics or METRICS
        body, content_type = metrics.render(self.request.headers.get("Accept"))
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)
