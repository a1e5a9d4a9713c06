"""The board store: one SQLite file in WAL mode, one row per (user, board name).

SQLite for the reasons of the bar store (:mod:`app.history.store`): one file in the
data directory that every process of the host reads, readers that never wait for
the writer, a commit that survives the process. Each thread gets its own connection,
so a session reading its board while a save is being written does not wait for it.

Names are unique per user whatever their case (``Tech`` is ``tech``), and keep the
case they were given. ``last_used`` remembers the board a user last opened: plain
``/app`` opens it. :meth:`BoardStore.alerts` lists every board's alerts, for the
server's own evaluation.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from app.boards.fields import Board, BoardError, board_name

#: Most boards one user keeps.
MAX_BOARDS = 50

SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    owner TEXT NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    symbols TEXT NOT NULL,          -- comma separated, in board order
    sort TEXT NOT NULL,
    alerts TEXT NOT NULL,           -- as ?alerts= holds them
    theme TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS last_used (
    owner TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
"""

_COLUMNS = "name, symbols, sort, alerts, theme, shared, updated_at"


class StoreError(Exception):
    """The store cannot be opened, read or written; the message says why in one line."""


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


def _board(row: tuple) -> Board:
    name, symbols, sort, alerts, theme, shared, updated_at = row
    return Board(name, tuple(s for s in symbols.split(",") if s), sort, alerts, theme,
                 bool(shared), float(updated_at))


class BoardStore:
    """Every user's saved boards, in the SQLite file ``path``; thread-safe."""

    def __init__(self, path: str | Path, *, timeout_s: float = 5.0):
        self.path = Path(path)
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._write = threading.Lock()  # one writer per process; SQLite orders processes
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._db()
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {self.path}: {_why(exc)}") from None

    def __repr__(self) -> str:
        return f"BoardStore({str(self.path)!r})"

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (made on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._timeout_s, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")  # in WAL: a commit survives a kill -9
            self._local.db = db
        return db

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {_why(exc)}") from None

    # -- reading -------------------------------------------------------------
    def names(self, owner: str) -> list[str]:
        """``owner``'s board names, A to Z."""
        return [r[0] for r in self._read(
            "SELECT name FROM boards WHERE owner = ? ORDER BY name", (owner,))]

    def get(self, owner: str, name: str) -> Board | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM boards WHERE owner = ? AND name = ?",
                          (owner, name))
        return _board(rows[0]) if rows else None

    def last_used(self, owner: str) -> Board | None:
        """The board ``owner`` last opened; else their first by name; None if none."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM boards WHERE owner = ? ORDER BY "
            "name = (SELECT name FROM last_used WHERE owner = ?) DESC, name LIMIT 1",
            (owner, owner))
        return _board(rows[0]) if rows else None

    def alerts(self) -> Iterator[tuple[str, str, str]]:
        """``(owner, board, alerts)`` of every saved board with alerts."""
        yield from self._read("SELECT owner, name, alerts FROM boards WHERE alerts != '' "
                              "ORDER BY owner, name")

    # -- writing -------------------------------------------------------------
    def put(self, owner: str, board: Board) -> Board:
        """Save ``board`` (made, or replaced whole); the board as stored."""
        name = board_name(board.name)
        now = time.time()
        with self._transaction() as db:
            exists = db.execute("SELECT 1 FROM boards WHERE owner = ? AND name = ?",
                                (owner, name)).fetchone()
            if not exists:
                count = db.execute("SELECT count(*) FROM boards WHERE owner = ?",
                                   (owner,)).fetchone()[0]
                if count >= MAX_BOARDS:
                    raise BoardError(f"at most {MAX_BOARDS} boards a user")
            # An existing board keeps the case of its name; a new one takes the given.
            db.execute(
                "INSERT INTO boards (owner, name, symbols, sort, alerts, theme, shared, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO "
                "UPDATE SET symbols = excluded.symbols, sort = excluded.sort, alerts = "
                "excluded.alerts, theme = excluded.theme, shared = excluded.shared, "
                "updated_at = excluded.updated_at",
                (owner, name, ",".join(board.symbols), board.sort, board.alerts,
                 board.theme, int(board.shared), now))
        return self.get(owner, name)  # type: ignore[return-value]

    def delete(self, owner: str, name: str) -> bool:
        """Forget ``owner``'s board ``name``; False if there was none."""
        with self._transaction() as db:
            gone = db.execute("DELETE FROM boards WHERE owner = ? AND name = ?",
                              (owner, name)).rowcount
        return gone > 0

    def rename(self, owner: str, old: str, new: str) -> Board:
        """Give ``owner``'s board ``old`` the name ``new`` (:class:`BoardError` if there
        is no ``old`` or already a ``new``)."""
        new = board_name(new)
        with self._transaction() as db:
            if not db.execute("SELECT 1 FROM boards WHERE owner = ? AND name = ?",
                              (owner, old)).fetchone():
                raise BoardError("no such board")
            if new.lower() != old.lower() and db.execute(
                    "SELECT 1 FROM boards WHERE owner = ? AND name = ?",
                    (owner, new)).fetchone():
                raise BoardError("there is a board of that name already")
            db.execute("UPDATE boards SET name = ?, updated_at = ? WHERE owner = ? AND "
                       "name = ?", (new, time.time(), owner, old))
            db.execute("UPDATE last_used SET name = ? WHERE owner = ? AND name = ?",
                       (new, owner, old))
        return self.get(owner, new)  # type: ignore[return-value]

    def set_last_used(self, owner: str, name: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO last_used (owner, name) VALUES (?, ?) ON CONFLICT "
                       "(owner) DO UPDATE SET name = excluded.name", (owner, name))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: two processes saving at once queue
        instead of failing), committed on leaving, rolled back on an error."""
        with self._write:
            db = self._db()
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"cannot write {self.path}: {_why(exc)}") from None
                raise

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

