"""The history of one process: the store, the writer (if this process is the one),
sparkline seeding and backfill on a symbol's first subscription.

One writer per file, whatever runs: a process writes only while it holds an
exclusive ``flock`` on ``<file>.lock`` (``panel serve --num-procs``: the first worker
to start writes, the others read); servers that read a relay through Redis never
try (the relay writes). Everyone reads: WAL readers never wait for the writer.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING

from app.history.bars import INTERVALS, Bar, closes, minute, resample
from app.history.store import BarStore, StoreError
from app.history.writer import BarWriter
from app.market_hours import day_window, last_sessions

if TYPE_CHECKING:
    from app.history.backfill import Backfill
    from app.history.shared import SharedBars
    from app.hub.hub import Hub

log = logging.getLogger(__name__)

#: Share of the sparkline's points given to stored history: the rest is for live points.
SEED_SHARE = 0.5
#: How long a backfill's note ("no history on this plan") stays on the row.
NOTE_S = 10.0


def writer_lock(path: Path) -> IO | None:
    """An exclusive lock on ``<path>.lock`` for this process's life; None if another
    process holds it. Raises OSError if the lock file cannot be created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(f"{path}.lock", "a+")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class History:
    """Reads for everyone; writes and backfills only where this process holds the lock."""

    def __init__(self, path: str | Path, *, days: int = 30, write: bool = True,
                 backfill: Backfill | None = None, flush_s: float = 0.5,
                 shared: SharedBars | None = None):
        self.path = Path(path)
        self.days = days
        self.flush_s = flush_s
        self.shared = shared
        """Recent bars in Redis: the writer puts them there, a reader falls back to them."""
        self._open_error = ""
        self._logged: set[str] = set()  # reasons logged by the writer or a reader
        self._lock_file: IO | None = None
        self.writer: BarWriter | None = None
        if write:
            self.claim_writer()
        self.backfill = backfill
        self.follower = None
        """In the relay: what backfills the symbols it streams (app.history.relayed)."""
        self._reader: BarStore | None = None
        self._read_error = ""
        self._reader_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photon-backfill")
        self._backfilled: set[str] = set()
        self._notes: dict[str, tuple[str, float]] = {}
        """{symbol: (text, until)}: a backfill's note, on the row for a few seconds."""
        log.info("history %s: %s", "writer" if self.writer else "reader", self.path)

    def claim_writer(self) -> bool:
        """Become the file's writer if no other process is (a relay taking over)."""
        if self.writer is not None:
            return True
        try:
            self._lock_file = writer_lock(self.path)
        except OSError as exc:
            self._open_error = f"cannot open {self.path}: {exc.strerror or exc}"
            log.error("history paused: %s (live prices go on)", self._open_error)
            return False
        if self._lock_file is None:
            return False
        self._open_error = ""
        self.writer = BarWriter(lambda: BarStore(self.path), flush_s=self.flush_s,
                                days=self.days)
        self.writer.logged = self._logged
        if self.shared is not None:
            self.writer.on_written = self.shared.publish
        self.writer.start()
        return True

    # -- status ----------------------------------------------------------------------
    @property
    def role(self) -> str:
        return "writer" if self.writer is not None else "reader"

    @property
    def paused(self) -> str:
        """Why history is not being written or read (empty while all is well)."""
        return ((self.writer.paused if self.writer else "") or self._open_error
                or self._read_error)

    def note(self) -> str:
        """What the status line adds: empty while all is well."""
        return f"history paused: {self.paused}" if self.paused else ""

    def status(self) -> dict:
        """For ``/health``."""
        w = self.writer
        return {"path": str(self.path), "role": self.role,
                "state": "paused" if self.paused else "on", "detail": self.paused,
                "trades_written": w.trades_written if w else 0,
                "trades_dropped": w.trades_dropped if w else 0,
                "notes": {s: text for s, (text, _) in self._notes.items()}}

    def row_notes(self) -> dict[str, str]:
        """Backfill notes still due on their rows (shown once, for ``NOTE_S``)."""
        now = time.monotonic()
        return {s: text for s, (text, until) in list(self._notes.items()) if until > now}

    # -- reads ---------------------------------------------------------------------
    def _store(self) -> BarStore | None:
        with self._reader_lock:
            if self._reader is None:
                if not self.path.exists():
                    return None  # nothing written yet: empty answers
                try:
                    self._reader = BarStore(self.path, readonly=True)
                    self._read_error = ""
                except StoreError as exc:
                    self._read_failed(exc)
            return self._reader

    def _read_failed(self, exc: StoreError) -> None:
        """One log line per new reason (none if the writer already said the same)."""
        if str(exc) not in self._logged:
            self._logged.add(str(exc))
            log.error("history paused: %s", exc)
        self._read_error = str(exc)

    def bars(self, symbol: str, interval: str = "1m", start: int | None = None,
             end: int | None = None) -> list[Bar]:
        """Bars of ``symbol`` at ``interval`` with ``start <= t < end``, sorted by ``t``."""
        seconds = INTERVALS[interval]
        lo = None if start is None else int(start) - int(start) % seconds
        return resample(self._minutes(symbol, lo, end), seconds)

    def _minutes(self, symbol: str, start: int | None, end: int | None) -> list[Bar]:
        """One-minute bars from the file, or from Redis where the file has none."""
        store = self._store()
        found: list[Bar] = []
        if store is not None:
            try:
                found = store.bars(symbol, start, end)
            except StoreError as exc:
                self._read_failed(exc)
                with self._reader_lock:
                    self._reader = None
        if not found and self.shared is not None and self.writer is None:
            found = self.shared.bars(symbol, start, end)
        return found

    def latest(self, symbol: str) -> int | None:
        """Start of the newest bar of ``symbol`` on record."""
        store = self._store()
        try:
            latest = None if store is None else store.latest(symbol)
        except StoreError:
            latest = None
        if latest is None and self.shared is not None and self.writer is None:
            latest = self.shared.latest(symbol)
        return latest

    def minutes_stored(self, symbol: str, start: int | None, end: int | None) -> int | None:
        """How many one-minute bars of ``symbol`` the file holds in [start, end): one
        indexed count, to refuse an oversized /history query before reading it. None
        when it cannot tell (no file yet, a read error, bars only in Redis)."""
        store = self._store()
        if store is None:
            return None
        try:
            n = store.count(symbol, -(2**62) if start is None else int(start),
                            2**62 if end is None else int(end))
        except StoreError:
            return None
        return n or None

    def last_session(self, symbol: str, end: int | None = None) -> tuple[int, int] | None:
        """(start, end) of ``symbol``'s last session on record (before ``end`` if given):
        what /history answers without ``start`` (stocks: the trading day, extended hours
        included, as the chart's "1 day"). None when nothing is stored."""
        latest = self.latest(symbol)
        if latest is None:
            return None
        at = latest if end is None else min(latest, end - 60)
        for _ in range(10):  # before ``end``, the last trading day that has bars in it
            start, stop = day_window(symbol, at)
            stop = max(stop, int(at) + 60)  # a bar stored outside the calendar's hours too
            window = start, stop if end is None else min(stop, end)
            if end is None or self.minutes_stored(symbol, *window):
                return window
            at = start - 1
        return window

    def day(self, symbol: str, interval: str = "1m") -> list[Bar]:
        """The bars of ``symbol``'s last trading day on record, through its newest bar
        (stocks: from the pre-market, extended hours included; crypto and FX: the UTC
        day; see :func:`app.market_hours.day_window`)."""
        return self.sessions(symbol, 1, interval)

    def sessions(self, symbol: str, n: int, interval: str = "1m") -> list[Bar]:
        """The bars of ``symbol``'s last ``n`` trading days on record, oldest first."""
        latest = self.latest(symbol)
        if latest is None:
            return []
        start = last_sessions(symbol, latest, n)[0][0]
        return self.bars(symbol, interval, start, latest + 60)

    def day_volume(self, symbol: str, now: float) -> tuple[float, tuple[int, int]]:
        """(Volume, day): what ``symbol`` traded on record on its trading day at ``now``
        (:func:`app.market_hours.day_window`) before ``now``'s minute, which live trades
        count from."""
        day = day_window(symbol, now)
        bars = self._minutes(symbol, day[0], min(day[1], minute(now)))
        return sum(b.v for b in bars), day

    def last_prices(self, symbols: list[str]) -> dict[str, float]:
        """The last close on record of each of ``symbols`` that has one (a restarted
        mock carries on from them)."""
        out: dict[str, float] = {}
        for sym in symbols:
            latest = self.latest(sym)
            if latest is not None and (bars := self._minutes(sym, latest, latest + 60)):
                out[sym] = bars[-1].c
        return out

    def resume(self, feed) -> None:
        """Let ``feed`` carry on from the last prices on record (only the mock uses them)."""
        try:
            symbols = [info.symbol for info in feed.universe()]
        except Exception:  # an open universe (a relay) has no list: nothing to resume
            return
        if prices := self.last_prices(symbols):
            feed.resume(prices)
            log.info("history: %s resumes from %d last prices", feed.feed_type, len(prices))

    def request_days(self, symbol: str, n: int) -> bool:
        """Backfill ``symbol``'s earlier days of the last ``n`` (:meth:`backfill_days`)
        without holding up the caller (a session's event loop): a provider's REST calls
        run on the backfill pool. True if bars were fetched or may still arrive."""
        if self.writer is None or self.backfill is None:
            return False
        if self.backfill.is_fast:
            return self.backfill_days(symbol, n) > 0
        self._pool.submit(self.backfill_days, symbol, n)
        return True

    def backfill_days(self, symbol: str, n: int, now: float | None = None) -> int:
        """Fetch the earlier of ``symbol``'s last ``n`` trading days that are not on record
        (the chart's "5 days" asks), where the feed can; how many bars were fetched. Only
        the writer fetches; the bars are written on its thread."""
        if self.writer is None or self.backfill is None \
                or not hasattr(self.backfill, "between"):
            return 0
        now = time.time() if now is None else now
        fetched = 0
        later = self.bars(symbol, "1m", minute(now) - 60, minute(now) + 60)
        close = later[-1].c if later else None
        for start, end in reversed(last_sessions(symbol, now, n)[:-1]):
            stored = self.bars(symbol, "1m", start, end)
            if stored and stored[0].t <= start + 3600:
                close = stored[0].o
                continue
            try:
                got = self.backfill.between(symbol, start, end, close=close)
            except Exception:
                log.exception("history backfill of %s failed", symbol)
                break
            if got.note or not got.bars:
                break
            self.writer.backfill(symbol, got.bars)
            fetched += len(got.bars)
            close = got.bars[0].o
        return fetched

    # -- the hub -----------------------------------------------------------------------
    def attach(self, hub: Hub) -> History:
        """Record the hub's trades (if this process writes), seed and backfill symbols
        on their first subscription, and show a pause on the status line."""
        if self.writer is not None:
            hub.add_trade_sink(self.writer.sink)
        hub.add_watch_hook(lambda symbols: self._first_watch(hub, symbols))
        hub.add_health_note(self.note)
        hub.add_health_detail("history", self.status)
        hub.add_row_notes(self.row_notes)
        return self

    def _first_watch(self, hub: Hub, symbols: list[str]) -> None:
        """Seed the sparklines from the store now; backfill the missing ones."""
        most = max(2, int(hub.history_len * SEED_SHARE))
        missing = []
        now = time.time()
        for sym in symbols:
            day = self.day(sym)
            if day:
                hub.seed_points(sym, closes(day, most))
            hub.set_day_volume(sym, *self.day_volume(sym, now))
            if self.writer is not None and self.backfill is not None \
                    and sym not in self._backfilled:
                missing.append(sym)
        if not missing:
            return
        self._backfilled.update(missing)
        if self.backfill.is_fast:
            self._backfill(hub, missing, most)
        else:
            self._pool.submit(self._backfill, hub, missing, most)

    def _backfill(self, hub: Hub | None, symbols: list[str], most: int) -> None:
        for sym in symbols:
            start, end = self.backfill.window(sym)
            stored = self.bars(sym, "1m", start, end)
            if stored and stored[0].t <= start + 300:
                continue  # the session is on record from its start: nothing to fetch
            try:
                got = self.backfill.session(sym)
            except Exception:
                log.exception("history backfill of %s failed", sym)
                continue
            if got.note:
                self._notes[sym] = (got.note, time.monotonic() + NOTE_S)
            if not got.bars or self.writer is None:
                continue
            self.writer.backfill(sym, got.bars)
            if hub is None:
                continue
            # Seed from what was fetched (the writer stores it on its own thread).
            known = {b.t: b for b in got.bars}
            known.update({b.t: b for b in self.day(sym)})
            bars = sorted(known.values(), key=lambda b: b.t)
            hub.seed_points(sym, closes(bars, most))
            # The day's volume with the fetched minutes (before the live ones).
            now = time.time()
            day = day_window(sym, now)
            hub.set_day_volume(sym, sum(b.v for b in bars if day[0] <= b.t < minute(now)),
                               day)

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.writer is not None:
            self.writer.stop()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


# -- the process-wide instance -------------------------------------------------------
_history: History | None = None


def install(history: History | None) -> None:
    global _history
    _history = history


def get() -> History | None:
    """This process's history, if it keeps one."""
    return _history


def uninstall() -> None:
    global _history
    if _history is not None:
        _history.close()
        _history = None


def open_history(settings, feed) -> History | None:
    """The history ``settings`` ask for (None with ``PHOTON_HISTORY=off``). A process
    that reads a relay through Redis only reads: the relay, which holds the upstream,
    writes and backfills."""
    from app.history.backfill import backfill_for

    if settings.history == "off":
        return None
    if settings.redis_url:
        from app.history.shared import SharedBars

        return History(settings.history, days=settings.history_days, write=False,
                       shared=SharedBars(settings.redis_url))
    history = History(settings.history, days=settings.history_days,
                      backfill=backfill_for(feed, settings))
    history.resume(feed)
    return history
