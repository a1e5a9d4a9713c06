"""Silent and slow clients: what the server no longer waits for.

* A WebSocket whose unsent data passes a bound (its browser stopped reading: a
  frozen tab, a client that only connects) is closed. *Unsent* counts what
  Tornado still holds for it and what the kernel has not had acknowledged
  (``SIOCOUTQ``): a non-reading peer first fills the kernel's send buffer, which can
  take megabytes, before Tornado holds anything.
* A WebSocket that leaves a ping unanswered is closed (Tornado's
  ``websocket_ping_interval`` / ``websocket_ping_timeout`` application settings).
* An HTTP connection that sends no complete request head within a timeout is closed
  (Tornado's ``idle_connection_timeout``, which is the HTTP/1 header timeout): half-open
  and slow-header connections, and keep-alive connections left idle.

Each closing is counted in ``/metrics`` (``photon_connections_closed_total{reason}``).
The patches go in before ``panel serve`` builds its server (``app_hooks.py``'s body);
the values are read from the settings when the server is built.
"""

from __future__ import annotations

import fcntl
import logging
import struct
import termios
import time
from collections.abc import Callable

from tornado.websocket import WebSocketHandler

from app.runtime import metrics

log = logging.getLogger(__name__)

#: Linux's ioctl for the bytes in a TCP socket's send queue not yet acknowledged.
SIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)
#: A socket's unsent data is looked at no more often than this (seconds).
CHECK_EVERY_S = 0.5


def kernel_unsent(fd: int) -> int:
    """Bytes in the kernel's send queue of socket ``fd`` (0 where it cannot tell)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, SIOCOUTQ, b"\0\0\0\0"))[0]
    except (OSError, ValueError):
        return 0


def unsent_bytes(handler: WebSocketHandler) -> int:
    """What ``handler``'s browser has not received yet: Tornado's write buffer plus the
    kernel's send queue. 0 for a socket that is gone."""
    conn = handler.ws_connection
    stream = getattr(conn, "stream", None)
    if stream is None or stream.closed():
        return 0
    held = stream._total_write_index - stream._total_write_done_index
    fd = stream.fileno()
    return held + (kernel_unsent(fd) if isinstance(fd, int) else kernel_unsent(fd.fileno()))


class UnsentBound:
    """Closes a WebSocket whose unsent data passes ``limit`` bytes (looked at every
    ``CHECK_EVERY_S`` at most, so calling :meth:`check` before each write is cheap)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.clock = clock

    def check(self, handler: WebSocketHandler) -> bool:
        """False if ``handler`` was closed for passing the bound (now or before); True
        otherwise (a socket closing for another reason is the write path's business)."""
        if getattr(handler, "_photon_too_slow", False):
            return False
        conn = getattr(handler, "ws_connection", None)
        if conn is None or conn.is_closing():
            return True
        now = self.clock()
        if now - getattr(handler, "_photon_unsent_checked", 0.0) < CHECK_EVERY_S:
            return True
        handler._photon_unsent_checked = now  # type: ignore[attr-defined]
        unsent = unsent_bytes(handler)
        if unsent <= self.limit:
            return True
        log.info("closing a WebSocket of %s: %d bytes unsent (bound %d)",
                 type(handler).__name__, unsent, self.limit)
        metrics.observe_connection_closed("ws_unsent")
        handler._photon_too_slow = True  # type: ignore[attr-defined]
        abort(handler)
        return False


def abort(handler: WebSocketHandler) -> None:
    """Close ``handler``'s socket now, without waiting for its browser's close frame
    (a browser that does not read never sends one); its ``on_close`` runs."""
    conn = handler.ws_connection
    stream = getattr(conn, "stream", None)
    handler.close(1008, "too far behind")
    if stream is not None and not stream.closed():
        stream.close()


#: The process's bound (its limit set from the settings by :func:`install`).
BOUND = UnsentBound(1_048_576)


def within_bound(handler: WebSocketHandler) -> bool:
    """The process bound's check: True if ``handler`` may be written to."""
    return BOUND.check(handler)


# -- patches: Tornado's and Bokeh's servers --------------------------------------------
def _settings():
    """The settings, or the defaults where they are bad (start-up reports those)."""
    from app.config import SettingError, Settings, get_settings

    try:
        return get_settings()
    except SettingError:
        return Settings()


def server_options(settings) -> tuple[dict, dict]:
    """(Tornado application settings, HTTPServer keyword arguments) for ``settings``."""
    ping = settings.ws_ping_timeout_s
    return ({"websocket_ping_interval": ping, "websocket_ping_timeout": ping},
            {"idle_connection_timeout": settings.http_header_timeout_s})


def install() -> None:
    """Pings, ping timeouts and header timeouts on the server ``panel serve`` builds
    after this call, counted; the unsent bound on Bokeh's own socket. Idempotent."""
    from bokeh.server.server import Server
    from bokeh.server.tornado import BokehTornado
    from bokeh.server.views.ws import WSHandler

    if getattr(Server.__init__, "_photon_timeouts", False):
        return
    original_app, original_server = BokehTornado.__init__, Server.__init__

    def app_init(self, *args, **kwargs):
        app_settings, _ = server_options(_settings())
        for key, value in app_settings.items():
            kwargs.setdefault(key, value)
        original_app(self, *args, **kwargs)

    def server_init(self, *args, **kwargs):
        settings = _settings()
        BOUND.limit = settings.ws_max_unsent_bytes
        _, http = server_options(settings)
        kwargs["http_server_kwargs"] = {**http, **(kwargs.get("http_server_kwargs") or {})}
        original_server(self, *args, **kwargs)

    original_write = WSHandler.write_message

    async def write_message(self, message, binary=False, locked=True):
        if not within_bound(self):
            from tornado.websocket import WebSocketClosedError

            raise WebSocketClosedError()  # Bokeh's send_message takes this as "gone"
        await original_write(self, message, binary, locked)

    server_init._photon_timeouts = True  # type: ignore[attr-defined]
    BokehTornado.__init__ = app_init  # type: ignore[method-assign]
    Server.__init__ = server_init  # type: ignore[method-assign]
    WSHandler.write_message = write_message  # type: ignore[method-assign]
    count_timeouts()


def count_timeouts() -> None:
    """Count Tornado's own closings: WebSocket ping timeouts and HTTP header timeouts
    (``photon_connections_closed_total``). Idempotent."""
    from tornado.http1connection import HTTP1Connection
    from tornado.websocket import WebSocketProtocol13

    if getattr(WebSocketProtocol13.periodic_ping, "_photon_counted", False):
        return
    original_ping = WebSocketProtocol13.periodic_ping

    async def periodic_ping(self) -> None:
        await original_ping(self)  # returns only when a ping went unanswered
        log.info("closing a WebSocket: ping unanswered for %.0f s", self.ping_timeout)
        metrics.observe_connection_closed("ws_ping_timeout")

    original_read = HTTP1Connection._read_message_inner

    async def _read_message_inner(self, delegate, num_1xx=0):
        loop = self.stream.io_loop  # the stream is gone afterwards if it was upgraded
        started = loop.time()
        done = await original_read(self, delegate, num_1xx)
        timeout = self.params.header_timeout
        if not done and not self.is_client and timeout and loop.time() - started >= timeout:
            metrics.observe_connection_closed("http_header_timeout")
        return done

    periodic_ping._photon_counted = True  # type: ignore[attr-defined]
    WebSocketProtocol13.periodic_ping = periodic_ping  # type: ignore[method-assign]
    HTTP1Connection._read_message_inner = _read_message_inner  # type: ignore[method-assign]
