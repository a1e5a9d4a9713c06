"""The writer thread: trades in (from the feed's thread, cheaply), bars out in batches.

The feed's thread only appends its batch to a deque; every ``flush_s`` the writer
folds what arrived into one-minute bars and merges them into the store in one
commit. So a ``kill -9`` loses at most the last ``flush_s`` of trades, and neither
the event loop nor the feed ever waits on the disk.

A store that cannot be opened or written pauses history: one log line, a note
(:attr:`BarWriter.paused`) that ``/health`` and the status line show, trades dropped
(counted) while paused, and another try every ``retry_s``. Live prices never wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from app.history.bars import Bar, fold
from app.history.store import BarStore, StoreError
from app.ticks import Tick

log = logging.getLogger(__name__)


class BarWriter:
    """Folds trades into bars and writes them from its own thread."""

    def __init__(self, open_store: Callable[[], BarStore], *, flush_s: float = 0.5,
                 days: int = 30, retry_s: float = 30.0, prune_every_s: float = 3600.0,
                 clock: Callable[[], float] = time.time):
        self._open = open_store
        self.flush_s = flush_s
        self.days = days
        self.retry_s = retry_s
        self.prune_every_s = prune_every_s
        self._clock = clock
        self._pending: deque[list[Tick] | tuple[str, list[Bar]]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: BarStore | None = None
        self.paused = ""
        """Why history is paused (one line); empty while it is being written."""
        self.trades_written = 0
        self.trades_dropped = 0
        self.flushes = 0
        self._next_open = 0.0
        self._next_prune = 0.0
        self.logged: set[str] = set()
        """Reasons already logged (shared with the process's readers): one line each."""
        self.on_written: Callable[[list[tuple[str, Bar]]], None] | None = None
        """Called on the writer's thread with each flush's bars as stored (the relay
        puts them into Redis for servers on other hosts)."""

    # -- in (any thread) -----------------------------------------------------------
    def sink(self, ticks: list[Tick]) -> None:
        """Take a batch of trades: O(1), never blocks (deque appends are atomic)."""
        self._pending.append(ticks)

    def backfill(self, symbol: str, bars: list[Bar]) -> None:
        """Store provider bars (for minutes not recorded) on the writer's thread."""
        self._pending.append((symbol, bars))
        self._wake.set()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> BarWriter:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="photon-history-writer",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is pending, then end the thread and close the store."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self) -> None:
        """Write what is pending now (on the caller's thread; tests and shutdown)."""
        self._write_pending()

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self.flush_s)
                self._wake.clear()
                self._write_pending()
            self._write_pending()
        except Exception:  # never die silently: say so, and keep live prices flowing
            log.exception("history writer failed")
            self._pause("the history writer failed (see the log)")
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _ready(self) -> BarStore | None:
        """The open store, opening (or reopening after a pause) when due."""
        if self._store is not None:
            return self._store
        now = time.monotonic()
        if now < self._next_open:
            return None
        try:
            self._store = self._open()
        except StoreError as exc:
            self._next_open = now + self.retry_s
            self._pause(str(exc))
            return None
        if self.paused:
            log.warning("history resumed: writing %s again", self._store.path)
        self.paused = ""
        return self._store

    def _write_pending(self) -> None:
        items = []
        while self._pending:
            items.append(self._pending.popleft())
        store = self._ready()
        if store is None:
            self.trades_dropped += sum(len(i) for i in items if isinstance(i, list))
            return
        bars: dict[tuple[str, int], Bar] = {}
        touched: list[tuple[str, int]] = []
        n = 0
        try:
            for item in items:
                if isinstance(item, tuple):
                    store.backfill(*item)
                    touched.extend((item[0], b.t) for b in item[1])
                else:
                    fold(item, bars)
                    n += len(item)
            store.write(bars)
            self.trades_written += n
            self.flushes += 1
            if self.on_written is not None and (touched or bars):
                self._tell(store.get([*touched, *bars]))
            self._maybe_prune(store)
        except StoreError as exc:
            self.trades_dropped += n
            self._pause(str(exc))
            store.close()
            self._store = None
            self._next_open = time.monotonic() + self.retry_s

    def _tell(self, stored: list[tuple[str, Bar]]) -> None:
        try:
            self.on_written(stored)
        except Exception:  # a listener's fault is not the store's
            log.exception("history: on_written failed")

    def _maybe_prune(self, store: BarStore) -> None:
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + self.prune_every_s
            gone = store.prune(int(self._clock()) - self.days * 86400)
            store.checkpoint()
            if gone:
                log.info("history pruned %d bars older than %d days", gone, self.days)

    def _pause(self, why: str) -> None:
        if self.paused != why and why not in self.logged:
            self.logged.add(why)
            log.error("history paused: %s (live prices go on; retrying every %gs)",
                      why, self.retry_s)
        self.paused = why
