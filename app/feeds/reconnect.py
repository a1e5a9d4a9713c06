"""The reconnect loop: connect, read until the connection ends, wait, connect again.

Providers drop connections routinely and sometimes go silent without closing, so
the feed runs its own loop around websocket-client's ``run_forever()`` with a
watchdog (:mod:`app.feeds.watchdog`) beside it. :func:`after_close` is the rule for
how long to wait and what to show meanwhile, pure (the clock and the random
source are parameters) so the schedule is tested without sockets: exponential
backoff with full jitter (:mod:`app.feeds.backoff`), reset once a connection had
stayed up ``stable_after_s``; a refusal that a quick retry cannot fix (a bad key,
a plan without this feed) waits ``auth_retry_s``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import websocket

from app.feeds import backoff, watchdog
from app.feeds.wsconn import Conn, abort, describe
from app.runtime import metrics
from app.ticks import FeedState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retry:
    """What the feed does between a connection ending and the next attempt."""

    delay_s: float
    failures: int
    """Consecutive failures counted for the backoff, this one included."""
    state: FeedState
    text: str
    """``last_error`` while waiting."""
    log_line: str


def after_close(conn: Conn, failures: int, now: float, *, stable_after_s: float,
                auth_retry_s: float, backoff_base_s: float, backoff_cap_s: float,
                rand: Callable[[], float] = random.random) -> Retry:
    """The :class:`Retry` after ``conn`` ended at ``now`` (monotonic), ``failures`` before."""
    if conn.refused is not None:
        state, text = conn.refused
        return Retry(auth_retry_s, failures, state, text,
                     f"{text}; retrying in {auth_retry_s:.0f}s")
    if conn.opened is not None and now - conn.opened >= stable_after_s:
        failures = 0  # it had stayed up: this is a fresh problem
    delay = backoff.full_jitter(failures, backoff_base_s, backoff_cap_s, rand)
    reason = conn.reason or "connection closed"
    return Retry(delay, failures + 1, FeedState.DOWN, f"disconnected: {reason}",
                 f"disconnected ({reason}); retrying in {delay:.1f}s")


class ReconnectLoop:
    """The connection lifecycle of :class:`~app.feeds.streaming.StreamingFeed`.

    A mixin for that class only: it uses the feed's timing parameters, its
    connection lock and state, and the protocol hooks (``_connect_url``,
    ``_on_opened``, ``_handle``, ``_handshake_refused``).
    """

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
        dog = watchdog.Watchdog(
            self._watch, lambda: watchdog.period(self.connect_timeout_s, self.stall_timeout_s),
            name=f"photon-feed-{self.feed_type}-watchdog").start()
        failures = 0
        try:
            while not self._stop.is_set():
                conn = self._connect_once()
                if self._stop.is_set():
                    break
                retry = after_close(
                    conn, failures, time.monotonic(), stable_after_s=self.stable_after_s,
                    auth_retry_s=self.auth_retry_s, backoff_base_s=self.backoff_base_s,
                    backoff_cap_s=self.backoff_cap_s)
                failures = retry.failures
                self.retry_at = time.time() + retry.delay_s
                self._set_ws_state(retry.state, retry.text)
                log.info("%s: %s", self._tag, retry.log_line)
                if self._stop.wait(retry.delay_s):
                    break
                self.reconnects += 1
                metrics.observe_reconnect()
        finally:
            self.retry_at = None
            dog.stop()

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
            conn.reason = conn.reason or describe(e, self._secrets())
        with self._conn_lock:
            self._conn = None
            conn.closed = True
        with self._send_lock:
            self._upstream.clear()
        return conn

    def _watch(self) -> None:
        """The watchdog's check: close a connection that stalls or never becomes ready."""
        with self._conn_lock:
            conn = self._conn
            reason = watchdog.stall_reason(conn, time.monotonic(),
                                           connect_timeout_s=self.connect_timeout_s,
                                           stall_timeout_s=self.stall_timeout_s)
            if reason and conn.reason is None:
                conn.reason = reason
                log.info("%s: %s; closing the connection", self._tag, reason)
        if reason and conn is not None:
            abort(conn.ws)
        self._publish_state()  # also ends rate_limited when its cooldown is over

    # -- websocket callbacks (feed thread) -------------------------------
    def _current(self, ws: websocket.WebSocketApp) -> Conn | None:
        with self._conn_lock:
            conn = self._conn
        return conn if conn is not None and conn.ws is ws else None

    def _on_open(self, ws: websocket.WebSocketApp) -> None:
        conn = self._current(ws)
        if conn is None or self._stop.is_set():
            abort(ws)
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
            self._malformed()
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
            reason = describe(error, self._secrets())
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
