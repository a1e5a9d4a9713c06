"""The alert store: one SQLite file in Photon's data directory (``alerts.sqlite3``).

It keeps what must outlive a restart: each alert's armed state (so an armed alert is
not lost and a crossing that fired does not fire again), the log of firings with
each delivery's state, and each user's delivery settings with the secret that signs
their webhooks. A plain synchronous API by design: SQLite blocks, so callers on an
event loop run it in an executor. WAL mode lets several processes share the file;
:meth:`AlertStore.fire` is one compare-and-set transaction, so two processes that see
the same crossing record one firing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.alerts.records import Delivery, DeliverySettings, Firing, State
from app.config import data_dir

FILE_NAME = "alerts.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS armed (
    alert_id TEXT PRIMARY KEY, user TEXT NOT NULL, board TEXT NOT NULL,
    condition TEXT NOT NULL, symbol TEXT NOT NULL,
    armed INTEGER NOT NULL, base REAL
);
CREATE INDEX IF NOT EXISTS armed_board ON armed (user, board);
CREATE TABLE IF NOT EXISTS firings (
    id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, user TEXT NOT NULL, board TEXT NOT NULL,
    symbol TEXT NOT NULL, condition TEXT NOT NULL, price REAL NOT NULL,
    trade_time REAL NOT NULL, fired_at REAL NOT NULL, test INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS firings_user ON firings (user, fired_at);
CREATE TABLE IF NOT EXISTS deliveries (
    firing_id TEXT NOT NULL, channel TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL, reason TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (firing_id, channel)
);
CREATE TABLE IF NOT EXISTS delivery_settings (
    user TEXT PRIMARY KEY, webhook TEXT, email TEXT, webhook_secret TEXT NOT NULL
);
"""

_FIRING_COLUMNS = "id, alert_id, user, board, symbol, condition, price, trade_time, fired_at, test"


class AlertStoreError(Exception):
    """The store cannot be opened, read or written; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class ArmedAlert:
    """One saved alert and where it stands."""

    alert_id: str
    user: str
    board: str
    condition: str
    symbol: str
    armed: bool
    base: float | None
    """The price a move alert (``~``) is measured from; None until the first trade."""


def default_path() -> Path:
    return data_dir() / FILE_NAME


def _firing(row: tuple) -> Firing:
    fid, aid, user, board, symbol, condition, price, trade_time, fired_at, test = row
    return Firing(user, board, symbol, condition, price, trade_time, fired_at, fid, aid,
                  bool(test))


class AlertStore:
    """One connection to the alert file; thread-safe (calls are serialised on a lock)."""

    def __init__(self, path: str | Path | None = None, *, timeout_s: float = 5.0):
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private(self.path)
            self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False,
                                       isolation_level=None)  # explicit BEGIN/COMMIT below
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise AlertStoreError(f"cannot open {self.path}: {_why(exc)}") from None

    def __repr__(self) -> str:
        return f"AlertStore({str(self.path)!r})"

    def _tx(self, fn):
        """Run ``fn(db)`` in one write transaction (taken at once: no upgrade deadlock)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return out
            except (sqlite3.Error, OSError) as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise AlertStoreError(f"{self.path}: {_why(exc)}") from None

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise AlertStoreError(f"{self.path}: {_why(exc)}") from None

    # -- armed state ---------------------------------------------------------------
    def armed_alerts(self) -> list[ArmedAlert]:
        """Every saved alert, as the engine loads them on start."""
        rows = self._read("SELECT alert_id, user, board, condition, symbol, armed, base "
                          "FROM armed ORDER BY user, board, condition")
        return [ArmedAlert(a, u, b, c, s, bool(armed), base) for a, u, b, c, s, armed, base in rows]

    def set_board_alerts(self, user: str, board: str,
                         alerts: Iterable[tuple[str, str, str, float | None]]) -> None:
        """Make ``(alert_id, condition, symbol, base)`` the alerts of one board: alerts
        already saved keep their state, new ones start armed, the others go."""
        rows = list(alerts)

        def go(db: sqlite3.Connection) -> None:
            keep = {r[0] for r in rows}
            for (old,) in db.execute("SELECT alert_id FROM armed WHERE user = ? AND board = ?",
                                     (user, board)).fetchall():
                if old not in keep:
                    db.execute("DELETE FROM armed WHERE alert_id = ?", (old,))
            db.executemany("INSERT OR IGNORE INTO armed (alert_id, user, board, condition, "
                           "symbol, armed, base) VALUES (?, ?, ?, ?, ?, 1, ?)",
                           [(a, user, board, c, s, base) for a, c, s, base in rows])
        self._tx(go)

    def save_state(self, alert_id: str, armed: bool, base: float | None) -> None:
        """An alert re-armed, or a move alert's base found."""
        self._tx(lambda db: db.execute("UPDATE armed SET armed = ?, base = ? WHERE alert_id = ?",
                                       (int(armed), base, alert_id)))

    def fire(self, firing: Firing) -> bool:
        """Disarm the alert and log the firing, in one transaction, if it was armed.

        False: it was not armed any more (another process, or this one before a
        restart, fired for this crossing already), so nothing is logged or sent.
        Each channel the user set gets a pending delivery in the same transaction, so
        a process that dies before delivering leaves work :meth:`pending` finds.
        """
        def go(db: sqlite3.Connection) -> bool:
            won = db.execute("UPDATE armed SET armed = 0 WHERE alert_id = ? AND armed = 1",
                             (firing.alert_id,)).rowcount == 1
            if won:
                self._insert_firing(db, firing)
                row = db.execute("SELECT webhook, email FROM delivery_settings WHERE user = ?",
                                 (firing.user,)).fetchone() or (None, None)
                db.executemany(
                    "INSERT INTO deliveries (firing_id, channel, state, attempts, reason, "
                    "updated_at) VALUES (?, ?, ?, 0, '', ?)",
                    [(firing.id, channel, str(State.PENDING), firing.fired_at)
                     for channel, where in zip(("webhook", "email"), row, strict=True) if where])
            return won
        return self._tx(go)

    def log_test(self, firing: Firing) -> None:
        """A test alert: logged like a firing, tied to no saved alert."""
        self._tx(lambda db: self._insert_firing(db, firing))

    @staticmethod
    def _insert_firing(db: sqlite3.Connection, f: Firing) -> None:
        db.execute(f"INSERT INTO firings ({_FIRING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (f.id, f.alert_id, f.user, f.board, f.symbol, f.condition, f.price,
                    f.trade_time, f.fired_at, int(f.test)))

    # -- deliveries ----------------------------------------------------------------
    def set_delivery(self, firing_id: str, delivery: Delivery) -> None:
        self._tx(lambda db: db.execute(
            "INSERT INTO deliveries (firing_id, channel, state, attempts, reason, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (firing_id, channel) DO UPDATE SET "
            "state = excluded.state, attempts = excluded.attempts, reason = excluded.reason, "
            "updated_at = excluded.updated_at",
            (firing_id, delivery.channel, str(delivery.state), delivery.attempts,
             delivery.reason, time.time())))

    def deliveries(self, firing_id: str) -> dict[str, Delivery]:
        rows = self._read("SELECT channel, state, attempts, reason FROM deliveries "
                          "WHERE firing_id = ?", (firing_id,))
        return {c: Delivery(c, State(s), n, r) for c, s, n, r in rows}

    def pending(self) -> list[tuple[Firing, Delivery]]:
        """Deliveries not finished (a restart came in between): to be resumed."""
        rows = self._read(
            f"SELECT {', '.join('f.' + c.strip() for c in _FIRING_COLUMNS.split(','))}, "
            "d.channel, d.state, d.attempts, d.reason FROM deliveries d "
            "JOIN firings f ON f.id = d.firing_id WHERE d.state = ? ORDER BY f.fired_at",
            (str(State.PENDING),))
        return [(_firing(r[:10]), Delivery(r[10], State(r[11]), r[12], r[13])) for r in rows]

    def log(self, user: str, limit: int = 100) -> list[tuple[Firing, dict[str, Delivery]]]:
        """A user's firings, newest first, each with its deliveries."""
        rows = self._read(f"SELECT {_FIRING_COLUMNS} FROM firings WHERE user = ? "
                          "ORDER BY fired_at DESC, rowid DESC LIMIT ?", (user, limit))
        return [(f, self.deliveries(f.id)) for f in map(_firing, rows)]

    # -- delivery settings ---------------------------------------------------------
    def delivery_settings(self, user: str) -> DeliverySettings:
        """A user's settings; the first call makes their webhook secret."""
        def go(db: sqlite3.Connection) -> tuple:
            db.execute("INSERT OR IGNORE INTO delivery_settings (user, webhook_secret) "
                       "VALUES (?, ?)", (user, secrets.token_urlsafe(32)))
            return db.execute("SELECT webhook, email, webhook_secret FROM delivery_settings "
                              "WHERE user = ?", (user,)).fetchone()
        webhook, email, secret = self._tx(go)
        return DeliverySettings(user, webhook, email, secret)

    def set_delivery_settings(self, user: str, webhook: str | None,
                              email: str | None) -> DeliverySettings:
        """Set where a user's alerts go (validated by the caller); the secret stays."""
        self.delivery_settings(user)
        self._tx(lambda db: db.execute(
            "UPDATE delivery_settings SET webhook = ?, email = ? WHERE user = ?",
            (webhook, email, user)))
        return self.delivery_settings(user)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _private(path: Path) -> None:
    """The file holds users' webhook secrets: mode 0600 (SQLite gives its -wal and
    -shm files the same mode)."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
