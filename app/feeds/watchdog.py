"""The watchdog: providers sometimes go silent without closing, or never finish a handshake.

:func:`stall_reason` is the rule (pure, tested without sockets); :class:`Watchdog`
runs a check on its own thread for as long as one run of a feed's loop lasts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.feeds.wsconn import Conn

log = logging.getLogger(__name__)


def stall_reason(conn: Conn | None, now: float, *, connect_timeout_s: float,
                 stall_timeout_s: float) -> str | None:
    """Why ``conn`` should be closed at ``now`` (monotonic), or None while it is fine."""
    if conn is None or conn.closed:
        return None
    if not conn.ready and now - conn.started > connect_timeout_s:
        return f"handshake timed out after {connect_timeout_s:g}s"
    if conn.opened is not None and now - conn.last_msg > stall_timeout_s:
        return f"no message for {stall_timeout_s:g}s (stalled)"
    return None


def period(connect_timeout_s: float, stall_timeout_s: float) -> float:
    """How often to look: a quarter of the shortest deadline, within [0.05, 1] s."""
    return max(0.05, min(1.0, stall_timeout_s / 4, connect_timeout_s / 4))


class Watchdog:
    """Calls ``check()`` every ``period_s`` on a daemon thread until :meth:`stop`."""

    def __init__(self, check: Callable[[], None], period_s: Callable[[], float], name: str):
        self._check = check
        self._period_s = period_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._done.wait(self._period_s()):
            try:
                self._check()
            except Exception:  # a watchdog that dies silently watches nothing
                log.exception("watchdog check failed")
