"""The Finnhub adapter: trades over WebSocket, reference prices over REST.

Finnhub drops connections routinely and sometimes goes silent without closing,
so the adapter runs its own reconnect loop around websocket-client's
``run_forever()`` (exponential backoff with full jitter, resubscribe everything on
each open) and a watchdog thread that closes a connection that stalls or never
finishes its handshake. The API key travels in the WebSocket URL, so that URL is
never logged and every message that could contain it is redacted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import param
import websocket

from app import metrics
from app.config import Secret, Settings
from app.feeds.backoff import full_jitter
from app.feeds.base import Feed, FeedState, Reference, SymbolInfo, Tick
from app.feeds.finnhub_rest import (
    AuthRejected,
    QuoteClient,
    RestError,
    UpstreamRateLimited,
    redact,
)
from app.feeds.mock import UNIVERSE

log = logging.getLogger(__name__)

AUTH_FAILED = "authentication failed: check FINNHUB_API_KEY"
NO_KEY = "FINNHUB_API_KEY is not set"


# -- parsing --------------------------------------------------------------------
def parse_trades(data: object) -> tuple[list[Tick], int]:
    """Ticks from a trade message's ``data`` list, and how many entries were unusable."""
    if not isinstance(data, list):
        return [], 1
    ticks: list[Tick] = []
    bad = 0
    for item in data:
        try:
            symbol = item["s"]
            price = float(item["p"])
            ts = float(item["t"]) / 1000.0  # Finnhub sends milliseconds
            size = float(item.get("v") or 0.0)  # FX/crypto venues may send 0 or nothing
        except (KeyError, TypeError, ValueError, AttributeError):
            bad += 1
            continue
        if not (isinstance(symbol, str) and symbol and math.isfinite(price) and price > 0
                and math.isfinite(ts) and ts > 0 and math.isfinite(size) and size >= 0):
            bad += 1
            continue
        ticks.append(Tick(symbol, price, size, ts))
    return ticks, bad


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


# -- keeping the key out of logs ------------------------------------------------
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
_REDACTED_LOGGERS = ("websocket", "urllib3.connectionpool", "urllib3.util.retry", __name__,
                     "app.feeds.finnhub_rest")


def _protect(secret: str) -> None:
    """Mask ``secret`` in the logs of websocket-client, urllib3 and this adapter."""
    if len(secret) >= 4:
        _REDACTOR.secrets.add(secret)
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


# -- the feed -------------------------------------------------------------------
@dataclass
class _Conn:
    """Bookkeeping for the one connection attempt in progress."""

    ws: websocket.WebSocketApp
    started: float
    opened: float | None = None
    last_msg: float = 0.0
    reason: str | None = None
    auth_failed: bool = False
    closed: bool = False


class FinnhubFeed(Feed):
    """Finnhub real-time trades (WebSocket) and reference prices (REST ``/quote``)."""

    feed_type = "finnhub"
    label = "Finnhub"
    open_universe = True  # any ticker or EXCHANGE:PAIR Finnhub knows, not just our list

    ws_url = param.String(default="wss://ws.finnhub.io", doc="WebSocket endpoint, no token.")
    rest_url = param.String(default="https://finnhub.io/api/v1", doc="REST base URL.")
    max_symbols = param.Integer(default=50, bounds=(1, None),
                                doc="Symbols per connection the plan allows (free: 50).")
    stall_timeout_s = param.Number(default=150.0, bounds=(0.05, None),
                                   doc="No message at all (pings included) this long: reconnect.")
    connect_timeout_s = param.Number(default=10.0, bounds=(0.05, None),
                                     doc="Give up on a handshake after this long.")
    backoff_base_s = param.Number(default=1.0, bounds=(0.0, None), doc="First retry delay cap.")
    backoff_cap_s = param.Number(default=60.0, bounds=(0.0, None), doc="Longest retry delay.")
    stable_after_s = param.Number(default=30.0, bounds=(0.0, None),
                                  doc="A connection up this long resets the backoff.")
    auth_retry_s = param.Number(default=300.0, bounds=(0.01, None),
                                doc="Retry interval after the key was refused.")
    rest_timeout_s = param.Number(default=5.0, bounds=(0.01, None), doc="REST call timeout.")
    rest_per_minute = param.Number(default=60, bounds=(0.01, None),
                                   doc="Client-side REST call budget (free plan: 60/min).")
    reference_ttl_s = param.Number(default=30.0, bounds=(0.0, None),
                                   doc="How long a reference answer is reused.")
    rate_limit_cooldown_s = param.Number(default=60.0, bounds=(0.0, None),
                                         doc="How long a REST 429 shows as rate_limited.")

    def __init__(self, api_key: Secret | str = "", **params):
        super().__init__(**params)
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        _protect(self._key.reveal())
        self._rest = QuoteClient(self._key.reveal(), self.rest_url, timeout_s=self.rest_timeout_s,
                                 per_minute=self.rest_per_minute,
                                 cache_ttl_s=self.reference_ttl_s)
        self._conn: _Conn | None = None
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

    @classmethod
    def from_settings(cls, settings: Settings) -> FinnhubFeed:
        return cls(api_key=settings.finnhub_api_key, ws_url=settings.finnhub_ws_url,
                   rest_url=settings.finnhub_rest_url,
                   max_symbols=settings.finnhub_max_symbols)

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
        if not self._key:
            self._set_ws_state(FeedState.AUTH_FAILED, NO_KEY)
            log.warning("finnhub: %s; not connecting", NO_KEY)
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
                if conn.auth_failed:
                    delay = self.auth_retry_s
                    self.retry_at = time.time() + delay
                    self._set_ws_state(FeedState.AUTH_FAILED, AUTH_FAILED)
                    log.info("finnhub: %s; retrying in %.0fs", AUTH_FAILED, delay)
                else:
                    if (conn.opened is not None
                            and time.monotonic() - conn.opened >= self.stable_after_s):
                        failures = 0  # it had stayed up: this is a fresh problem
                    delay = full_jitter(failures, self.backoff_base_s, self.backoff_cap_s)
                    failures += 1
                    reason = conn.reason or "connection closed"
                    self.retry_at = time.time() + delay
                    self._set_ws_state(FeedState.DOWN, f"disconnected: {reason}")
                    log.info("finnhub: disconnected (%s); retrying in %.1fs", reason, delay)
                if self._stop.wait(delay):
                    break
                self.reconnects += 1
                metrics.observe_reconnect()
        finally:
            self.retry_at = None
            watchdog.join(5)

    def _connect_once(self) -> _Conn:
        """One connection, from handshake to close; returns how it went."""
        sep = "&" if "?" in self.ws_url else "?"
        ws = websocket.WebSocketApp(
            f"{self.ws_url}{sep}token={self._key.reveal()}",
            on_open=self._on_open, on_message=self._on_message,
            on_error=self._on_error, on_close=self._on_close,
        )
        conn = _Conn(ws, started=time.monotonic())
        with self._conn_lock:
            self._conn = conn
            if self._stop.is_set():  # stop() came before it could see this connection
                self._conn = None
                return conn
        if self._ws_state is not FeedState.AUTH_FAILED:  # keep showing why we wait
            self._set_ws_state(FeedState.CONNECTING)
        self.connects += 1
        log.info("finnhub: connecting to %s", self.ws_url)
        try:
            ws.run_forever()
        except Exception as e:  # run_forever catches most; be sure the loop survives
            conn.reason = conn.reason or _describe(e, self._key.reveal())
        with self._conn_lock:
            self._conn = None
            conn.closed = True
        with self._send_lock:
            self._upstream.clear()
        return conn

    def _watchdog(self) -> None:
        """Close connections that stall or hang in the handshake; expire rate limits."""
        while not self._stop.wait(max(0.05, min(1.0, self.stall_timeout_s / 4,
                                                self.connect_timeout_s / 4))):
            now = time.monotonic()
            with self._conn_lock:
                conn = self._conn
                if conn is None or conn.closed:
                    reason = None
                elif conn.opened is None and now - conn.started > self.connect_timeout_s:
                    reason = f"handshake timed out after {self.connect_timeout_s:g}s"
                elif conn.opened is not None and now - conn.last_msg > self.stall_timeout_s:
                    reason = f"no message for {self.stall_timeout_s:g}s (stalled)"
                else:
                    reason = None
                if reason and conn.reason is None:
                    conn.reason = reason
                    log.info("finnhub: %s; closing the connection", reason)
            if reason and conn is not None:
                _abort(conn.ws)
            self._publish_state()

    # -- websocket callbacks (feed thread) -------------------------------
    def _current(self, ws: websocket.WebSocketApp) -> _Conn | None:
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
        self._set_ws_state(FeedState.LIVE, "")
        sent = self._reconcile(fresh=True)
        log.info("finnhub: connected; subscribed %d symbol(s)", sent)

    def _on_message(self, ws: websocket.WebSocketApp, raw: str | bytes) -> None:
        conn = self._current(ws)
        if conn is not None:
            conn.last_msg = self.last_message_mono = time.monotonic()  # any sign of life
        self.messages += 1
        try:
            msg = json.loads(raw)
        except (ValueError, TypeError):
            self.malformed_count += 1
            log.debug("finnhub: skipped a message that is not JSON")
            return
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "trade":
            self._on_trades(msg.get("data"))
        elif kind == "ping":
            pass
        elif kind == "error":
            text = redact(str(msg.get("msg") or "unspecified error"), self._key.reveal())[:300]
            self.last_error = f"Finnhub: {text}"
            log.warning("finnhub: upstream error: %s", text)
        elif isinstance(msg, dict):
            self.unknown_count += 1
            log.debug("finnhub: ignored a message of type %r", str(kind)[:40])
        else:
            self.malformed_count += 1

    def _on_trades(self, data: object) -> None:
        ticks, bad = parse_trades(data)
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
            log.exception("finnhub: tick sink failed")

    def _on_error(self, ws: websocket.WebSocketApp, error: BaseException) -> None:
        conn = self._current(ws)
        if conn is None:
            return
        if isinstance(error, websocket.WebSocketBadStatusException):
            if error.status_code == 401:
                conn.auth_failed = True
            reason = f"handshake refused with HTTP {error.status_code}"
        else:
            reason = _describe(error, self._key.reveal())
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
                detail = f": {redact(str(msg), self._key.reveal())[:100]}" if msg else ""
                conn.reason = (f"closed by server (code {code}{detail})" if code
                               else "connection closed")
        with self._send_lock:
            self._upstream.clear()

    # -- subscriptions ---------------------------------------------------
    def subscribe(self, symbols: Iterable[str]) -> None:
        """Ask for ``symbols``; those beyond ``max_symbols`` wait, refused before Finnhub does.

        A waiting symbol is streamed as soon as another one is dropped and makes room.
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
            log.info("finnhub: %s", self.last_error)
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
            log.info("finnhub: streaming %s now that the symbol limit has room",
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

        Called after every change and on every open, from any thread: diffing under
        one lock means a symbol is never subscribed twice on a connection, and a
        change made while disconnected is simply applied on the next open.
        """
        sent = 0
        with self._send_lock:
            with self._conn_lock:
                conn = self._conn
                live = conn is not None and conn.opened is not None and not conn.closed
            if not live:
                return 0
            if fresh:
                self._upstream.clear()
            wanted = self.symbols
            for kind, todo in (("unsubscribe", sorted(self._upstream - wanted)),
                               ("subscribe", sorted(wanted - self._upstream))):
                for sym in todo:
                    if not _send(conn.ws, {"type": kind, "symbol": sym}):
                        return sent  # dropped meanwhile: the next open resubscribes
                    if kind == "subscribe":
                        self._upstream.add(sym)
                        sent += 1
                    else:
                        self._upstream.discard(sym)
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
    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo(i.symbol, i.name) for i in UNIVERSE]

    def reference(self, symbol: str) -> Reference | None:
        """Previous close etc. from ``/quote``; None on any failure (never raises)."""
        try:
            ref = self._rest.quote(symbol)
        except UpstreamRateLimited as e:
            self._rest_limited_until = time.monotonic() + self.rate_limit_cooldown_s
            self.last_error = str(e)
            log.info("finnhub: %s", e)
            self._publish_state()
            return None
        except AuthRejected as e:  # same cause as a 401 on the stream: say it the same way
            self.last_error = f"{AUTH_FAILED} ({e})"
            log.info("finnhub: %s", self.last_error)
            return None
        except RestError as e:
            self.last_error = str(e)
            log.info("finnhub: %s", e)
            return None
        except Exception as e:
            self.last_error = f"reference for {symbol} failed: {type(e).__name__}"
            log.warning("finnhub: reference for %s failed: %s", symbol,
                        _describe(e, self._key.reveal()))
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


def _describe(error: BaseException, secret: str) -> str:
    """A short, key-free description of a connection error."""
    text = redact(str(error), secret).strip()
    name = type(error).__name__
    return f"{name}: {text[:200]}" if text else name
