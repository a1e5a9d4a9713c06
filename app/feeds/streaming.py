"""The machinery every streaming provider shares, whatever its protocol.

Providers drop connections routinely and sometimes go silent without closing, so
the feed runs its own reconnect loop around websocket-client's ``run_forever()``
(exponential backoff with full jitter, resubscribe everything on each ready
connection) and a watchdog thread that closes a connection that stalls or never
becomes ready. It reconciles subscriptions under a symbol cap, drops repeated
trades, and keeps keys out of logs and messages.

A provider module subclasses :class:`StreamingFeed` and supplies only its protocol:
the connect URL, what to send on open, how to read a frame, the subscribe and
unsubscribe frames, and the REST reference lookup. Each concern has its module:
:mod:`~app.feeds.reconnect` (the loop and its backoff), :mod:`~app.feeds.watchdog`,
:mod:`~app.feeds.symbol_cap`, :mod:`~app.feeds.dedup`, :mod:`~app.feeds.wsconn`
(one connection), and :mod:`app.runtime.logs` (keys masked in every log line).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import ClassVar

import param

from app.feeds.base import Feed
from app.feeds.dedup import RecentTrades
from app.feeds.reconnect import ReconnectLoop
from app.feeds.restkit import (
    AuthRejected,
    ReferenceClient,
    RestError,
    UpstreamRateLimited,
    redact,
)
from app.feeds.symbol_cap import SymbolCap
from app.feeds.wsconn import Conn, abort, describe, send
from app.runtime import logs, metrics
from app.ticks import FeedState, Reference, Tick

__all__ = ["Conn", "RecentTrades", "StreamingFeed"]

log = logging.getLogger(__name__)


class StreamingFeed(ReconnectLoop, Feed):
    """A WebSocket trade stream plus REST reference prices, provider-neutral."""

    open_universe = True
    #: Page text when the provider refused the key, and when no key is configured.
    auth_failed_text: ClassVar[str] = "authentication failed"
    no_key_text: ClassVar[str] = "no API key is set"

    ws_url = param.String(default="", doc="WebSocket endpoint, without credentials.")
    rest_url = param.String(default="", doc="REST base URL.")
    max_symbols = param.Integer(default=50, bounds=(1, None),
                                doc="Symbols per connection the plan allows.")
    stall_timeout_s = param.Number(default=150.0, bounds=(0.05, None),
                                   doc="No message at all (pings included) this long: reconnect.")
    connect_timeout_s = param.Number(default=10.0, bounds=(0.05, None),
                                     doc="Give up on a handshake (and login) after this long.")
    backoff_base_s = param.Number(default=1.0, bounds=(0.0, None), doc="First retry delay cap.")
    backoff_cap_s = param.Number(default=60.0, bounds=(0.0, None), doc="Longest retry delay.")
    stable_after_s = param.Number(default=30.0, bounds=(0.0, None),
                                  doc="A connection up this long resets the backoff.")
    auth_retry_s = param.Number(default=300.0, bounds=(0.01, None),
                                doc="Retry interval after the key was refused.")
    rest_timeout_s = param.Number(default=5.0, bounds=(0.01, None), doc="REST call timeout.")
    rest_per_minute = param.Number(default=60, bounds=(0.01, None),
                                   doc="Client-side REST call budget.")
    reference_ttl_s = param.Number(default=30.0, bounds=(0.0, None),
                                   doc="How long a reference answer is reused.")
    rate_limit_cooldown_s = param.Number(default=60.0, bounds=(0.0, None),
                                         doc="How long a REST 429 shows as rate_limited.")

    def __init__(self, **params):
        super().__init__(**params)
        for secret in self._secrets():
            logs.protect(secret)
        self._rest = self._make_rest()
        self._conn: Conn | None = None
        self._conn_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._upstream: set[str] = set()  # subscribed on the current connection
        self._cap = SymbolCap()  # wanted but over the symbol limit
        self._recent = RecentTrades()
        self._ws_state = FeedState.CONNECTING
        self._rest_limited_until = 0.0
        self._state_lock = threading.Lock()
        self._conn_error = ""  # the last_error the connection itself set
        #: Counters for operators and tests.
        self.messages = 0
        self.malformed_count = 0
        self.duplicate_count = 0
        self.unknown_count = 0
        self.connects = 0
        self.reconnects = 0

    # -- the protocol: what a provider module supplies --------------------
    def _secrets(self) -> list[str]:
        """Every credential, to be masked wherever text leaves the feed."""
        return []

    def _make_rest(self) -> ReferenceClient:  # pragma: no cover - abstract
        raise NotImplementedError

    def _connect_url(self) -> str:
        """The URL to open (may carry credentials: it is never logged)."""
        return self.ws_url

    def _on_opened(self, conn: Conn) -> None:
        """The socket is open: log in if the protocol needs it, else be ready."""
        self._ready(conn)

    def _handle(self, conn: Conn, msg: object) -> None:  # pragma: no cover - abstract
        """One decoded JSON frame from the provider."""
        raise NotImplementedError

    def _frames(self, kind: str, symbols: list[str]) -> list[dict]:  # pragma: no cover
        """The frames that ``kind`` ("subscribe"/"unsubscribe") ``symbols``."""
        raise NotImplementedError

    def _handshake_refused(self, conn: Conn, status: int) -> None:
        """The HTTP upgrade was answered ``status``: 401 means a wrong key."""
        if status == 401:
            conn.refused = (FeedState.AUTH_FAILED, self.auth_failed_text)

    # -- for provider modules ----------------------------------------------
    @property
    def _tag(self) -> str:
        return self.feed_type

    def _clean(self, text: str) -> str:
        return redact(text, *self._secrets())

    def _ready(self, conn: Conn) -> None:
        """The connection may carry subscriptions now: go live and resubscribe."""
        with self._conn_lock:
            conn.ready = True
        self._set_ws_state(FeedState.LIVE, "")
        sent = self._reconcile(fresh=True)
        log.info("%s: connected; subscribed %d symbol(s)", self._tag, sent)

    def _refuse(self, conn: Conn, state: FeedState, text: str) -> None:
        """End this connection; wait ``auth_retry_s`` showing ``state`` and ``text``."""
        with self._conn_lock:
            conn.refused = (state, text)
            if conn.reason is None:
                conn.reason = text
        abort(conn.ws)

    def _drop(self, conn: Conn, reason: str) -> None:
        """End this connection; reconnect with backoff."""
        with self._conn_lock:
            if conn.reason is None:
                conn.reason = reason
        log.info("%s: %s; closing the connection", self._tag, reason)
        abort(conn.ws)

    def _send_frame(self, conn: Conn, frame: dict) -> bool:
        """Send one frame on ``conn`` outside subscription bookkeeping (e.g. a login)."""
        return send(conn.ws, frame)

    def _upstream_error(self, text: str) -> None:
        """An error the provider reported on a connection that stays open."""
        text = self._clean(text)[:300]
        self.last_error = f"{self.label}: {text}"
        log.warning("%s: upstream error: %s", self._tag, text)

    def _malformed(self, n: int = 1) -> None:
        """``n`` frames or entries did not match the protocol: dropped and counted."""
        if n > 0:
            self.malformed_count += n
            metrics.observe_malformed(self.feed_type, n)

    def _deliver(self, ticks: list[Tick], bad: int = 0) -> None:
        """Hand parsed trades on, minus unwanted symbols and repeats."""
        self._malformed(bad)
        wanted = self.symbols
        fresh: list[Tick] = []
        for tick in ticks:
            if tick.symbol not in wanted:
                continue  # in flight after an unsubscribe; not worth remembering
            if self._recent.is_repeat(tick):
                self.duplicate_count += 1
            else:
                fresh.append(tick)
        try:
            self._emit(fresh)
        except Exception:  # a failing sink must not take the connection down
            log.exception("%s: tick sink failed", self._tag)

    # -- lifecycle -------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> None:
        """Stop promptly: shut the socket so ``run_forever`` returns at once."""
        self._stop.set()
        with self._conn_lock:
            conn = self._conn
        if conn is not None:
            abort(conn.ws)
        super().stop(timeout)

    # -- subscriptions ---------------------------------------------------
    def subscribe(self, symbols: Iterable[str]) -> None:
        """Ask for ``symbols``; those beyond ``max_symbols`` wait, refused before the
        provider does. A waiting symbol is streamed as soon as another one makes room.
        """
        with self._sym_lock:
            accepted, refused = self._cap.admit(self._symbols, symbols, self.max_symbols)
        if refused:
            self.last_error = (f"symbol limit of {self.max_symbols} reached; "
                               f"refused: {', '.join(refused)}")
            log.info("%s: %s", self._tag, self.last_error)
        if accepted:
            self._send_subscribe(accepted)

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        """Drop ``symbols``; the longest-waiting refused symbols take the room freed."""
        symbols = list(symbols)
        with self._sym_lock:
            self._cap.withdraw(symbols)
        super().unsubscribe(symbols)
        with self._sym_lock:
            promoted = self._cap.promote(self._symbols, self.max_symbols)
            still_waiting = bool(self._cap.waiting)
        if not still_waiting and self.last_error.startswith("symbol limit"):
            self.last_error = ""
        if promoted:
            log.info("%s: streaming %s now that the symbol limit has room", self._tag,
                     ", ".join(promoted))
            self._send_subscribe(promoted)

    def unavailable(self) -> dict[str, str]:
        with self._sym_lock:
            waiting = self._cap.waiting
        return dict.fromkeys(waiting, SymbolCap.reason(self.max_symbols))

    def _send_subscribe(self, symbols: list[str]) -> None:
        self._reconcile()

    def _send_unsubscribe(self, symbols: list[str]) -> None:
        self._recent.forget(symbols)
        self._reconcile()

    def _reconcile(self, fresh: bool = False) -> int:
        """Make the connection's subscriptions match ``self.symbols``; count subscribes.

        Called after every change and on every ready connection, from any thread:
        diffing under one lock means a symbol is never subscribed twice on a
        connection, and a change made while disconnected is applied on the next one.
        """
        sent = 0
        with self._send_lock:
            with self._conn_lock:
                conn = self._conn
                live = conn is not None and conn.ready and not conn.closed
            if not live:
                return 0
            if fresh:
                self._upstream.clear()
            wanted = self.symbols
            for kind, todo in (("unsubscribe", sorted(self._upstream - wanted)),
                               ("subscribe", sorted(wanted - self._upstream))):
                if not todo:
                    continue
                for frame in self._frames(kind, todo):
                    if not send(conn.ws, frame):
                        return sent  # dropped meanwhile: the next open resubscribes
                if kind == "subscribe":
                    self._upstream.update(todo)
                    sent += len(todo)
                else:
                    self._upstream.difference_update(todo)
        return sent

    # -- state -----------------------------------------------------------
    def _set_ws_state(self, state: FeedState, error: str | None = None) -> None:
        if self._stop.is_set():
            return
        if state not in (FeedState.DOWN, FeedState.AUTH_FAILED):
            self.retry_at = None  # cleared with the state, so a reader never sees down without it
        self._ws_state = state
        if error:
            self.last_error = self._conn_error = error
        elif error == "" and self.last_error == self._conn_error:
            self.last_error = ""  # the connection problem is over; keep any other news
        self._publish_state()

    def _publish_state(self) -> None:
        """``state`` = the connection's state, or rate_limited while REST says 429."""
        with self._state_lock:
            if self._stop.is_set():
                return
            state = self._ws_state
            if state is FeedState.LIVE and time.monotonic() < self._rest_limited_until:
                state = FeedState.RATE_LIMITED
            if self.state != state:
                self.state = state

    # -- reference data --------------------------------------------------
    def reference(self, symbol: str) -> Reference | None:
        """Reference prices over REST; None on any failure (never raises)."""
        try:
            ref = self._rest.quote(symbol)
        except UpstreamRateLimited as e:
            self._rest_limited_until = time.monotonic() + self.rate_limit_cooldown_s
            self.last_error = str(e)
            log.info("%s: %s", self._tag, e)
            self._publish_state()
            return None
        except AuthRejected as e:  # same cause as a refused stream: say it the same way
            self.last_error = f"{self.auth_failed_text} ({e})"
            log.info("%s: %s", self._tag, self.last_error)
            return None
        except RestError as e:
            self.last_error = str(e)
            log.info("%s: %s", self._tag, e)
            return None
        except Exception as e:
            self.last_error = f"reference for {symbol} failed: {type(e).__name__}"
            log.warning("%s: reference for %s failed: %s", self._tag, symbol,
                        describe(e, self._secrets()))
            return None
        if self._rest_limited_until:
            self._rest_limited_until = 0.0
            self._publish_state()
        return ref

