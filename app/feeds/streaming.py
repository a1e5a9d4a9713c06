"""The machinery every streaming provider shares, whatever its protocol.

Providers drop connections routinely and sometimes go silent without closing, so
the feed runs its own reconnect loop around websocket-client's ``run_forever()``
(exponential backoff with full jitter, resubscribe everything on each ready
connection) and a watchdog thread that closes a connection that stalls or never
becomes ready. It reconciles subscriptions under a symbol cap, drops repeated
trades, and keeps keys out of logs and messages.

A provider module subclasses :class:`StreamingFeed` and supplies only its protocol:
the connect URL, what to send on open, how to read a frame, the subscribe and
unsubscribe frames, and the REST reference lookup.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import param
import websocket

from app.feeds import backoff
from app.feeds.base import Feed
from app.feeds.restkit import (
    AuthRejected,
    ReferenceClient,
    RestError,
    UpstreamRateLimited,
    redact,
)
from app.runtime import metrics
from app.ticks import FeedState, Reference, Tick

log = logging.getLogger(__name__)


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


# -- keeping keys out of logs ---------------------------------------------------
class _Redactor(logging.Filter):
    """Masks known API keys (and ``token=`` values) in records of chatty loggers."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        if "token=" in text or any(s in text for s in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = redact(text), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "***")
        return True


_REDACTOR = _Redactor()
_REDACTED_LOGGERS = ("websocket", "urllib3.connectionpool", "urllib3.util.retry", "app.feeds")


def protect(secret: str) -> None:
    """Mask ``secret`` in the logs of websocket-client, urllib3 and the feed adapters."""
    if len(secret) >= 4:
        _REDACTOR.secrets.add(secret)
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


# -- the feed -------------------------------------------------------------------
@dataclass
class Conn:
    """Bookkeeping for the one connection attempt in progress."""

    ws: websocket.WebSocketApp
    started: float
    opened: float | None = None
    ready: bool = False
    """Subscriptions may be sent (for some providers only after authenticating)."""
    last_msg: float = 0.0
    reason: str | None = None
    refused: tuple[FeedState, str] | None = None
    """The provider refused us for a reason a quick retry will not fix (bad key, ...):
    show this state and text and wait ``auth_retry_s`` before trying again."""
    closed: bool = False


class StreamingFeed(Feed):
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
            protect(secret)
        self._rest = self._make_rest()
        self._conn: Conn | None = None
        self._conn_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._upstream: set[str] = set()  # subscribed on the current connection
        self._waiting: dict[str, None] = {}  # wanted but over the symbol limit, oldest first
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
        _abort(conn.ws)

    def _drop(self, conn: Conn, reason: str) -> None:
        """End this connection; reconnect with backoff."""
        with self._conn_lock:
            if conn.reason is None:
                conn.reason = reason
        log.info("%s: %s; closing the connection", self._tag, reason)
        _abort(conn.ws)

    def _send_frame(self, conn: Conn, frame: dict) -> bool:
        """Send one frame on ``conn`` outside subscription bookkeeping (e.g. a login)."""
        return _send(conn.ws, frame)

    def _upstream_error(self, text: str) -> None:
        """An error the provider reported on a connection that stays open."""
        text = self._clean(text)[:300]
        self.last_error = f"{self.label}: {text}"
        log.warning("%s: upstream error: %s", self._tag, text)

    def _deliver(self, ticks: list[Tick], bad: int = 0) -> None:
        """Hand parsed trades on, minus unwanted symbols and repeats."""
        self.malformed_count += bad
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
            _abort(conn.ws)
        super().stop(timeout)

    def _run(self) -> None:
        if not all(self._secrets()) or not self._secrets():
            self._set_ws_state(FeedState.AUTH_FAILED, self.no_key_text)
            log.warning("%s: %s; not connecting", self._tag, self.no_key_text)
            self._stop.wait()
            return
        if websocket.getdefaulttimeout() is None:
            # Process-wide in websocket-client; bounds the TCP connect, which the
            # watchdog cannot interrupt. The watchdog enforces our own deadline.
            websocket.setdefaulttimeout(self.connect_timeout_s)
        watchdog = threading.Thread(target=self._watchdog, daemon=True,
                                    name=f"photon-feed-{self.feed_type}-watchdog")
        watchdog.start()
        failures = 0
        try:
            while not self._stop.is_set():
                conn = self._connect_once()
                if self._stop.is_set():
                    break
                if conn.refused is not None:
                    state, text = conn.refused
                    delay = self.auth_retry_s
                    self.retry_at = time.time() + delay
                    self._set_ws_state(state, text)
                    log.info("%s: %s; retrying in %.0fs", self._tag, text, delay)
                else:
                    if (conn.opened is not None
                            and time.monotonic() - conn.opened >= self.stable_after_s):
                        failures = 0  # it had stayed up: this is a fresh problem
                    delay = backoff.full_jitter(failures, self.backoff_base_s,
                                                self.backoff_cap_s)
                    failures += 1
                    reason = conn.reason or "connection closed"
                    self.retry_at = time.time() + delay
                    self._set_ws_state(FeedState.DOWN, f"disconnected: {reason}")
                    log.info("%s: disconnected (%s); retrying in %.1fs", self._tag, reason,
                             delay)
                if self._stop.wait(delay):
                    break
                self.reconnects += 1
                metrics.observe_reconnect()
        finally:
            self.retry_at = None
            watchdog.join(5)

    def _connect_once(self) -> Conn:
        """One connection, from handshake to close; returns how it went."""
        ws = websocket.WebSocketApp(
            self._connect_url(),
            on_open=self._on_open, on_message=self._on_message,
            on_error=self._on_error, on_close=self._on_close,
        )
        conn = Conn(ws, started=time.monotonic())
        with self._conn_lock:
            self._conn = conn
            if self._stop.is_set():  # stop() came before it could see this connection
                self._conn = None
                return conn
        if self._ws_state is not FeedState.AUTH_FAILED:  # keep showing why we wait
            self._set_ws_state(FeedState.CONNECTING)
        self.connects += 1
        log.info("%s: connecting to %s", self._tag, self.ws_url)
        try:
            ws.run_forever()
        except Exception as e:  # run_forever catches most; be sure the loop survives
            conn.reason = conn.reason or _describe(e, self._secrets())
        with self._conn_lock:
            self._conn = None
            conn.closed = True
        with self._send_lock:
            self._upstream.clear()
        return conn

    def _watchdog(self) -> None:
        """Close connections that stall or never become ready; expire rate limits."""
        while not self._stop.wait(max(0.05, min(1.0, self.stall_timeout_s / 4,
                                                self.connect_timeout_s / 4))):
            now = time.monotonic()
            with self._conn_lock:
                conn = self._conn
                if conn is None or conn.closed:
                    reason = None
                elif not conn.ready and now - conn.started > self.connect_timeout_s:
                    reason = f"handshake timed out after {self.connect_timeout_s:g}s"
                elif conn.opened is not None and now - conn.last_msg > self.stall_timeout_s:
                    reason = f"no message for {self.stall_timeout_s:g}s (stalled)"
                else:
                    reason = None
                if reason and conn.reason is None:
                    conn.reason = reason
                    log.info("%s: %s; closing the connection", self._tag, reason)
            if reason and conn is not None:
                _abort(conn.ws)
            self._publish_state()

    # -- websocket callbacks (feed thread) -------------------------------
    def _current(self, ws: websocket.WebSocketApp) -> Conn | None:
        with self._conn_lock:
            conn = self._conn
        return conn if conn is not None and conn.ws is ws else None

    def _on_open(self, ws: websocket.WebSocketApp) -> None:
        conn = self._current(ws)
        if conn is None or self._stop.is_set():
            _abort(ws)
            return
        with self._conn_lock:
            conn.opened = conn.last_msg = time.monotonic()
        self._on_opened(conn)

    def _on_message(self, ws: websocket.WebSocketApp, raw: str | bytes) -> None:
        conn = self._current(ws)
        if conn is None:
            return
        conn.last_msg = self.last_message_mono = time.monotonic()  # any sign of life
        self.messages += 1
        try:
            msg = json.loads(raw)
        except (ValueError, TypeError):
            self.malformed_count += 1
            log.debug("%s: skipped a message that is not JSON", self._tag)
            return
        self._handle(conn, msg)

    def _on_error(self, ws: websocket.WebSocketApp, error: BaseException) -> None:
        conn = self._current(ws)
        if conn is None:
            return
        if isinstance(error, websocket.WebSocketBadStatusException):
            self._handshake_refused(conn, error.status_code)
            reason = f"handshake refused with HTTP {error.status_code}"
        else:
            reason = _describe(error, self._secrets())
        with self._conn_lock:
            if conn.reason is None:
                conn.reason = reason

    def _on_close(self, ws: websocket.WebSocketApp, code: int | None, msg: str | None) -> None:
        conn = self._current(ws)
        if conn is None:
            return
        with self._conn_lock:
            conn.closed = True
            if conn.reason is None:
                detail = f": {self._clean(str(msg))[:100]}" if msg else ""
                conn.reason = (f"closed by server (code {code}{detail})" if code
                               else "connection closed")
        with self._send_lock:
            self._upstream.clear()

    # -- subscriptions ---------------------------------------------------
    def subscribe(self, symbols: Iterable[str]) -> None:
        """Ask for ``symbols``; those beyond ``max_symbols`` wait, refused before the
        provider does. A waiting symbol is streamed as soon as another one makes room.
        """
        accepted: list[str] = []
        refused: list[str] = []
        with self._sym_lock:
            room = self.max_symbols - len(self._symbols)
            for sym in dict.fromkeys(symbols):
                if sym in self._symbols or sym in self._waiting:
                    continue
                (accepted if len(accepted) < room else refused).append(sym)
            self._symbols.update(accepted)
            self._waiting.update(dict.fromkeys(refused))
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
            for sym in symbols:
                self._waiting.pop(sym, None)
        super().unsubscribe(symbols)
        with self._sym_lock:
            room = self.max_symbols - len(self._symbols)
            promoted = list(self._waiting)[:max(room, 0)]
            for sym in promoted:
                del self._waiting[sym]
            self._symbols.update(promoted)
            still_waiting = bool(self._waiting)
        if not still_waiting and self.last_error.startswith("symbol limit"):
            self.last_error = ""
        if promoted:
            log.info("%s: streaming %s now that the symbol limit has room", self._tag,
                     ", ".join(promoted))
            self._send_subscribe(promoted)

    def unavailable(self) -> dict[str, str]:
        with self._sym_lock:
            waiting = list(self._waiting)
        reason = f"not streamed: the plan's {self.max_symbols}-symbol limit is reached"
        return dict.fromkeys(waiting, reason)

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
                    if not _send(conn.ws, frame):
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
                        _describe(e, self._secrets()))
            return None
        if self._rest_limited_until:
            self._rest_limited_until = 0.0
            self._publish_state()
        return ref


def _send(ws: websocket.WebSocketApp, message: dict) -> bool:
    """Send one frame; False if the connection is gone (never raises for that)."""
    try:
        ws.send(json.dumps(message))
        return True
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketException,
            OSError):
        return False


def _abort(ws: websocket.WebSocketApp) -> None:
    """Shut the socket down from any thread: the reading thread wakes and tears down."""
    ws.keep_running = False
    sock = ws.sock
    raw = getattr(sock, "sock", None) if sock is not None else None
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def _describe(error: BaseException, secrets: list[str]) -> str:
    """A short, key-free description of a connection error."""
    text = redact(str(error), *secrets).strip()
    name = type(error).__name__
    return f"{name}: {text[:200]}" if text else name
