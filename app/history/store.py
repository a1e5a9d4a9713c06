"""The bar store: one SQLite file in WAL mode, from the standard library.

Why SQLite in WAL mode: readers (``/history``, sparkline seeding, notebooks, other
server processes) never block the one writer nor each other; a commit is durable
once it returns, so a killed process loses only the batch it had not written yet;
and it is one file with no server to run and no dependency to install.

One row per (symbol, minute) in a ``WITHOUT ROWID`` table keyed by both, so a
day's bars of one symbol are one contiguous range of the primary key.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.history.bars import Bar

SCHEMA = """
CREATE TABLE IF NOT EXISTS bars (
    symbol TEXT NOT NULL,
    t INTEGER NOT NULL,
    o REAL NOT NULL, h REAL NOT NULL, l REAL NOT NULL, c REAL NOT NULL, v REAL NOT NULL,
    PRIMARY KEY (symbol, t)
) WITHOUT ROWID
"""

#: A batch of trades folded later into a bar already stored: first open stays, last close wins.
_MERGE = """
INSERT INTO bars (symbol, t, o, h, l, c, v) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (symbol, t) DO UPDATE SET
    h = max(h, excluded.h), l = min(l, excluded.l), c = excluded.c, v = v + excluded.v
"""

#: Provider bars never overwrite minutes recorded from live trades.
_BACKFILL = "INSERT OR IGNORE INTO bars (symbol, t, o, h, l, c, v) VALUES (?, ?, ?, ?, ?, ?, ?)"


class StoreError(Exception):
    """The store cannot be opened, read or written; the message says why in one line."""


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


class BarStore:
    """One connection to the bar file; thread-safe (calls are serialised on a lock).

    Give each thread that writes its own store (the writer thread), and share one for
    reads: WAL lets them run side by side.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout_s: float = 5.0):
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                           timeout=timeout_s, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=timeout_s,
                                           check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL: a commit survives the process dying (kill -9); only a
                # power loss can take the last commits back. That is the promise made.
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(SCHEMA)
                self._db.commit()
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {self.path}: {_why(exc)}") from None

    def __repr__(self) -> str:
        return f"BarStore({str(self.path)!r}, readonly={self.readonly})"

    def _run(self, fn, empty=None):
        with self._lock:
            try:
                return fn(self._db)
            except sqlite3.OperationalError as exc:
                if empty is not None and "no such table" in str(exc):
                    return empty()  # a reader came before the writer made the table
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()
                raise StoreError(f"{self.path}: {_why(exc)}") from None
            except (sqlite3.Error, OSError) as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.rollback()
                raise StoreError(f"{self.path}: {_why(exc)}") from None

    # -- writes ----------------------------------------------------------------
    def write(self, bars: Mapping[tuple[str, int], Bar]) -> None:
        """Merge a batch of freshly folded bars into the stored ones, in one commit."""
        rows = [(sym, b.t, b.o, b.h, b.l, b.c, b.v) for (sym, _), b in bars.items()]

        def go(db: sqlite3.Connection) -> None:
            with db:
                db.executemany(_MERGE, rows)
        if rows:
            self._run(go)

    def backfill(self, symbol: str, bars: Iterable[Bar]) -> int:
        """Store provider bars for minutes not recorded yet; how many were new."""
        rows = [(symbol, b.t, b.o, b.h, b.l, b.c, b.v) for b in bars]

        def go(db: sqlite3.Connection) -> int:
            with db:
                before = db.total_changes
                db.executemany(_BACKFILL, rows)
                return db.total_changes - before
        return self._run(go) if rows else 0

    def prune(self, before: int) -> int:
        """Delete bars starting before ``before`` (epoch s); how many went."""
        def go(db: sqlite3.Connection) -> int:
            with db:
                return db.execute("DELETE FROM bars WHERE t < ?", (before,)).rowcount
        return self._run(go)

    # -- reads -----------------------------------------------------------------
    def bars(self, symbol: str, start: int | None = None, end: int | None = None) -> list[Bar]:
        """One-minute bars of ``symbol`` with ``start <= t < end``, sorted by ``t``."""
        lo = -(2**62) if start is None else int(start)
        hi = 2**62 if end is None else int(end)

        def go(db: sqlite3.Connection) -> list[Bar]:
            cur = db.execute("SELECT t, o, h, l, c, v FROM bars WHERE symbol = ? AND t >= ? "
                             "AND t < ? ORDER BY t", (symbol, lo, hi))
            return [Bar(*row) for row in cur]
        return self._run(go, list)

    def get(self, keys: Iterable[tuple[str, int]]) -> list[tuple[str, Bar]]:
        """The stored bars at (symbol, start) keys, as they are now."""
        def go(db: sqlite3.Connection) -> list[tuple[str, Bar]]:
            out = []
            for sym, t in keys:
                row = db.execute("SELECT t, o, h, l, c, v FROM bars WHERE symbol = ? AND t = ?",
                                 (sym, t)).fetchone()
                if row is not None:
                    out.append((sym, Bar(*row)))
            return out
        return self._run(go, list)

    def latest(self, symbol: str) -> int | None:
        """Start of the newest bar of ``symbol``, if any."""
        return self._run(lambda db: db.execute(
            "SELECT max(t) FROM bars WHERE symbol = ?", (symbol,)).fetchone()[0], lambda: None)

    def count(self, symbol: str, start: int, end: int) -> int:
        return self._run(lambda db: db.execute(
            "SELECT count(*) FROM bars WHERE symbol = ? AND t >= ? AND t < ?",
            (symbol, start, end)).fetchone()[0], lambda: 0)

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file (cheap; keeps the -wal file small)."""
        self._run(lambda db: db.execute("PRAGMA wal_checkpoint(PASSIVE)"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
