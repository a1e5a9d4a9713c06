"""A board's full state as JSON, made from pieces every session of one hub cycle shares.

A new session's board starts with a snapshot: its symbols' rows with their sparkline
points (a day of them, seeded from history), as JSON text (:class:`BoardView.snapshot
<app.views.board.BoardView>`), plus the same rows without points (what the session
keeps once the browser has them). Made per session, that was the hub's whole history
of ten symbols copied, two ``json.dumps`` of 40-70 kB and, for the page's first
paint, a ``json.loads`` back: 3-4 ms of a session's start (py-spy, bench.sessionprofile).
But within one hub cycle a symbol's row and points are the same for every session, so
each symbol is serialised once per cycle (a :class:`Fragment`) and a session's snapshot
is a join of its symbols' fragments: the same text ``json.dumps`` of the rows gives.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from app.quotes import Quote, quote_row


@dataclass(frozen=True, slots=True)
class Fragment:
    """One symbol's row as of a cycle: shared by every session, never changed."""

    row: dict
    """The board row with its ``points``."""
    full: str
    """``row`` as compact JSON."""
    light: str
    """``row`` without ``points``, as JSON with json's default separators."""


def fragment(row: dict, points: Sequence) -> Fragment:
    """The fragment of a board row (as the hub formats it) and its sparkline points."""
    with_points = {**row, "points": list(points)}
    return Fragment(with_points, json.dumps(with_points, separators=(",", ":")),
                    json.dumps(row))


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    """A board's rows as of ``cycle``, and their two JSON texts."""

    cycle: int
    rows: list[dict]
    """Row dicts with their points, shared with other sessions: read, never change."""
    full: str
    """What :attr:`BoardView.snapshot` sends: ``json.dumps(rows, separators=(",", ":"))``."""
    light: str
    """The rows without points, ``json.dumps`` with its default separators ("" for no
    rows): never equal to a ``full`` text, so setting ``full`` again counts as a change."""


def join(cycle: int, fragments: Sequence[Fragment]) -> BoardSnapshot:
    """A board of ``fragments``, in order."""
    return BoardSnapshot(
        cycle, [f.row for f in fragments],
        "[" + ",".join(f.full for f in fragments) + "]",
        "[" + ", ".join(f.light for f in fragments) + "]" if fragments else "")


class ChangesSource(Protocol):
    """What :class:`Fragments` reads: the hub (:class:`app.hub.hub.Hub`)."""

    @property
    def cycle(self) -> int: ...

    def changes_since(self, cycle: int, symbols): ...


class Fragments:
    """The current cycle's fragments of one hub's symbols, made as sessions ask."""

    #: Attempts to read every symbol within one cycle while the hub publishes.
    TRIES = 3

    def __init__(self):
        self._cycle = -1
        self._kept: dict[str, Fragment] = {}
        self._lock = threading.Lock()
        self.made = 0
        """Fragments made so far (tests and benches read it)."""

    def snapshot(self, hub: ChangesSource, symbols: Sequence[str]) -> BoardSnapshot:
        """The board of ``symbols`` as of ``hub``'s current cycle (a symbol the hub has
        no quote for gets an empty row). Always the same hub (see :func:`fragments_of`)."""
        with self._lock:
            for _ in range(self.TRIES):
                now = hub.cycle
                if now != self._cycle:  # a new cycle: every row may have moved
                    self._kept.clear()
                    self._cycle = now
                missing = [s for s in dict.fromkeys(symbols) if s not in self._kept]
                if not missing:
                    break
                changes = hub.changes_since(0, missing)
                if changes.cycle != self._cycle:  # published meanwhile: read again
                    continue
                by_symbol = {r["symbol"]: r for r in changes.rows}
                for sym in missing:
                    row = by_symbol.get(sym) or quote_row(Quote(sym))
                    self._kept[sym] = fragment(row, changes.points.get(sym, ()))
                    self.made += 1
                break
            else:  # the hub kept publishing: read them all at once, kept for no one
                return self._read_all(hub, symbols)
            return join(self._cycle, [self._kept[s] for s in symbols])

    @staticmethod
    def _read_all(hub: ChangesSource, symbols: Sequence[str]) -> BoardSnapshot:
        changes = hub.changes_since(0, symbols)
        by_symbol = {r["symbol"]: r for r in changes.rows}
        return join(changes.cycle, [fragment(by_symbol.get(s) or quote_row(Quote(s)),
                                             changes.points.get(s, ())) for s in symbols])


_BY_HUB: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BY_HUB_LOCK = threading.Lock()


def fragments_of(hub: ChangesSource) -> Fragments:
    """The process's :class:`Fragments` of ``hub``: one per hub, gone with it."""
    with _BY_HUB_LOCK:
        kept = _BY_HUB.get(hub)
        if kept is None:
            kept = _BY_HUB[hub] = Fragments()
        return kept
