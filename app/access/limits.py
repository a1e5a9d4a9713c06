"""How many sessions (tabs) one client, and the whole process, may hold.

A *place* is held from the moment a page builds a session until that session's
socket closes (or, for a page whose socket never came, until the server reaps the
session). Closing a tab frees its place at once: Bokeh keeps the closed session a
few seconds more before reaping it, but that is its business, not the viewer's.

A socket for a session that holds no place (a reconnect after the place was freed,
or a token made up by hand - Bokeh builds a session for any token it is shown) must
take a place like a page does, or is refused.

Everything here is plain data behind one lock: the Tornado hooks that use it are in
:mod:`app.access.session_gate`.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass

#: Seconds a browser is told to wait when the process is full.
FULL_RETRY_AFTER_S = 60


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a new session gets no place: the HTTP status, a sentence for the viewer, and
    when to try again (seconds; None: when a tab is closed)."""

    status: int
    message: str
    retry_after_s: int | None = None


def too_many_tabs(limit: int) -> Refusal:
    tabs = "1 Photon tab is" if limit == 1 else f"{limit} Photon tabs are"
    return Refusal(429, f"{tabs} open for you; close one to open another.")


def full() -> Refusal:
    return Refusal(503, "Photon is full, try again in a minute.", FULL_RETRY_AFTER_S)


class SessionLimits:
    """Places held by session id, counted per client and in all; safe from any thread."""

    def __init__(self, per_client: int, total: int):
        self.per_client = per_client
        self.total = total
        self._lock = threading.Lock()
        self._owner: dict[str, str] = {}  # place (a session id, or a reservation) -> client
        self._count: Counter[str] = Counter()
        self._reservations = itertools.count(1)

    def _refusal(self, client: str) -> Refusal | None:
        if self._count[client] >= self.per_client:
            return too_many_tabs(self.per_client)
        if len(self._owner) >= self.total:
            return full()
        return None

    def _hold(self, place: str, client: str) -> None:
        self._owner[place] = client
        self._count[client] += 1

    def admit(self, client: str, session_id: str) -> Refusal | None:
        """Hold a place for ``session_id`` under ``client``; the refusal if none is left.
        A session that holds a place already keeps it (whoever asks)."""
        with self._lock:
            if session_id in self._owner:
                return None
            refusal = self._refusal(client)
            if refusal is None:
                self._hold(session_id, client)
            return refusal

    def reserve(self, client: str) -> tuple[str | None, Refusal | None]:
        """(a reservation, None), or (None, the refusal): a place for a session about
        to be built, whose id is not known yet. :meth:`settle` names it once built;
        :meth:`release` gives it back if the build fails."""
        with self._lock:
            refusal = self._refusal(client)
            if refusal is not None:
                return None, refusal
            place = f"reserved:{next(self._reservations)}"
            self._hold(place, client)
            return place, None

    def settle(self, reservation: str, session_id: str) -> None:
        """The reserved place now belongs to ``session_id``."""
        with self._lock:
            client = self._owner.pop(reservation, None)
            if client is None:
                return
            if session_id in self._owner:  # already held: one place is enough
                self._drop(client)
                return
            self._owner[session_id] = client

    def release(self, place: str) -> bool:
        """Free ``place`` (a session id or a reservation); False if it held none."""
        with self._lock:
            client = self._owner.pop(place, None)
            if client is None:
                return False
            self._drop(client)
            return True

    def _drop(self, client: str) -> None:
        self._count[client] -= 1
        if self._count[client] <= 0:
            del self._count[client]

    def holds(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._owner

    def held_by(self, client: str) -> int:
        with self._lock:
            return self._count[client]

    def __len__(self) -> int:
        with self._lock:
            return len(self._owner)
