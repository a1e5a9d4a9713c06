"""The fast lane: ticks to browsers over a plain WebSocket route, beside Bokeh's.

Through Bokeh every session-cycle is its own model change, serialised and sent
per session. Here each changed symbol is serialised to JSON once per cycle, and
each browser socket gets one message per cycle that is only a join of the
fragments of the symbols it watches. Panel still owns the page, the widgets and
the session: a :class:`~app.views.dashboard.Dashboard` registers its hub
subscription and gets a token; its board opens ``/photon/ticks?token=...``.

A socket that does not keep up is never queued for: while its previous message is
unsent it gets nothing, and then the latest rows of everything it missed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import NamedTuple
from urllib.parse import urlsplit

from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from app.access import session_gate
from app.access.identity import Door, Guarded
from app.hub.hub import Hub, Subscription
from app.lanes.sessions import OnCycle, Sessions
from app.runtime import connections, metrics
from app.runtime.singleton import OnePerProcess

log = logging.getLogger(__name__)

#: Path of the route, relative to the server root.
PATH = "/photon/ticks"


class Registered(NamedTuple):
    """What a token stands for: its session's subscription, the signed-in user it
    belongs to (None: sign-in off), and the Bokeh session whose place in the session
    limits its socket needs (None: none)."""

    subscription: Subscription
    owner: str | None
    session_id: str | None


class FastLane:
    """One per process: cycles from the hub, fanned out to registered sockets."""

    def __init__(self, hub: Hub, loop: IOLoop):
        self.hub = hub
        self.loop = loop
        self._subs: Sessions[str, Registered] = Sessions()
        self._sockets: Sessions[str, TickSocket] = Sessions()
        self._fragments: dict[str, tuple[int, str]] = {}
        """symbol -> (cycle, JSON of its latest row with that cycle's new points)."""
        self.cycle = hub.cycle
        self.rows_sent = 0
        self._cycles = OnCycle(hub, loop, self.fan_out)

    def close(self) -> None:
        self._cycles.close()
        for sock in self._sockets.values():
            sock.close()

    # -- sessions -------------------------------------------------------
    def register(self, subscription: Subscription, owner: str | None = None,
                 session_id: str | None = None) -> str:
        """A token for the socket of the session that owns ``subscription``, good only
        for a socket of the same signed-in user ``owner`` (None: sign-in is off); the
        Bokeh session ``session_id`` holds the place in the session limits it needs."""
        token = secrets.token_urlsafe(18)
        self._subs.add(token, Registered(subscription, owner, session_id))
        return token

    def session_of(self, token: str) -> str | None:
        """The Bokeh session behind ``token`` (None: unknown, or registered without one)."""
        held = self._subs.get(token)
        return None if held is None else held.session_id

    def unregister(self, token: str) -> None:
        """Forget a session; its socket, if any, is closed."""
        self._subs.pop(token)
        sock = self._sockets.pop(token)
        if sock is not None:
            self.loop.add_callback(sock.close)

    def attach(self, token: str, sock: TickSocket) -> Subscription | None:
        """The subscription of the session behind ``token`` (None: unknown, or another
        user's); ``sock`` replaces that session's previous socket, which is closed."""
        held = self._subs.get(token)
        if held is None or held.owner != getattr(sock, "current_user", None):
            return None
        sub = held.subscription
        old = self._sockets.add(token, sock)
        if self._subs.get(token) is None:  # unregistered meanwhile: not ours to keep
            self._sockets.pop(token)
            return None
        if old is not None and old is not sock:
            old.close()
        return sub

    def detach(self, token: str, sock: TickSocket) -> None:
        with self._sockets.locked() as sockets:
            if sockets.get(token) is sock:
                del sockets[token]

    @property
    def sockets(self) -> int:
        return len(self._sockets)

    # -- cycles -----------------------------------------------------------
    def fan_out(self) -> None:
        """IO loop, after a cycle: serialise each changed symbol once, then send every
        socket its join."""
        t0 = time.perf_counter()
        sockets = self._sockets.values()
        watched: set[str] = set()
        for sock in sockets:
            watched.update(sock.symbols)
        changes = self.hub.changes_since(self.cycle, watched)
        self.cycle = changes.cycle
        for row in changes.rows:
            sym = row["symbol"]
            payload = {**row, "points": changes.points.get(sym, [])}
            if sym in changes.resets:  # the whole line, to draw instead (a late backfill)
                payload["reset"] = True
            self._fragments[sym] = (changes.cycle, json.dumps(payload, separators=(",", ":")))
        for gone in [s for s in self._fragments if s not in watched]:
            del self._fragments[gone]
        # The cadence rides along with each update (board.js shows it on the status line)
        # rather than as a status change: that would be a Bokeh message to every
        # session each time the cadence moves, seconds of work with thousands open.
        head = (f'{{"cycle":{changes.cycle},"at":{changes.at:.6f},'
                f'"every":{self.hub.push_interval_ms},"rows":[')
        sent = sum(sock.send_changes(self._fragments, self.cycle, head) for sock in sockets)
        self.rows_sent += sent
        metrics.observe_fanout(time.perf_counter() - t0, sent)
        if changes.at:  # publication to every socket written: what the cadence adapts to
            self.hub.report_delivery(time.time() - changes.at)


class TickSocket(Guarded, WebSocketHandler):
    """``GET /photon/ticks?token=...``: one JSON message per cycle with changes; only to
    the signed-in user whose session the token is (refused at the handshake otherwise)."""

    photon_door = Door.SOCKET

    lane: FastLane | None = None  # set by install()
    embed_origins: frozenset[str] = frozenset()
    """Other sites' pages that may open it (PHOTON_EMBED_ORIGINS), as ``host:port``."""

    def check_origin(self, origin: str) -> bool:
        """The server's own pages (Tornado's check), and the allowed embedding sites."""
        if super().check_origin(origin):
            return True
        return urlsplit(origin).netloc.lower() in type(self).embed_origins

    def initialize(self) -> None:
        self.token = ""
        self.sub: Subscription | None = None
        self.sent_cycle = 0
        self.busy = False

    async def get(self, *args, **kwargs) -> None:
        """Refused at the handshake when the session behind the token holds no place in
        the session limits and its client can take none (its tab was closed, say)."""
        lane = type(self).lane
        session_id = lane.session_of(self.get_query_argument("token", "")) if lane else None
        if session_id is not None:
            refusal = await session_gate.admit_socket(self, session_id)
            if refusal is not None:
                session_gate.write_refusal(self, refusal, page=False)
                return
        await super().get(*args, **kwargs)

    @property
    def symbols(self) -> tuple[str, ...]:
        sub = self.sub
        return () if sub is None or sub.closed else sub.symbols

    def open(self) -> None:
        lane = type(self).lane
        self.token = self.get_query_argument("token", "")
        self.sub = lane.attach(self.token, self) if lane is not None and self.token else None
        if self.sub is None:
            self.close(4001, "unknown session")
            return
        self.sent_cycle = lane.cycle
        self.set_nodelay(True)

    def on_message(self, message: str | bytes) -> None:
        """Clients only listen; anything sent is ignored."""

    def on_close(self) -> None:
        lane = type(self).lane
        if lane is not None and self.sub is not None:
            lane.detach(self.token, self)

    def send_changes(self, fragments: dict[str, tuple[int, str]], cycle: int,
                     head: str) -> int:
        """Send rows changed since this socket's last message; skip while one is in flight.
        A socket whose browser stopped reading is closed once its unsent data passes
        the process's bound."""
        if self.sub is None or not connections.within_bound(self) or self.busy:
            return 0
        parts = [frag[1] for sym in self.symbols
                 if (frag := fragments.get(sym)) is not None and frag[0] > self.sent_cycle]
        self.sent_cycle = cycle
        if not parts:
            return 0
        try:
            future = self.write_message(f'{head}{",".join(parts)}]}}')
        except WebSocketClosedError:
            return 0
        self.busy = True
        future.add_done_callback(self._sent)
        return len(parts)

    def _sent(self, future) -> None:
        self.busy = False
        if future.exception() is not None:
            log.debug("fast lane write failed: %s", future.exception())


_one: OnePerProcess[FastLane] = OnePerProcess()


def install(hub: Hub, loop: IOLoop | None = None) -> FastLane:
    """Create the process's fast lane on the server's IO loop (idempotent)."""
    lane = _one.start(lambda: FastLane(hub, loop or IOLoop.current()))
    TickSocket.lane = lane
    return lane


def get() -> FastLane | None:
    """The fast lane, if this process serves one."""
    return _one.get()


def uninstall() -> None:
    _one.stop()
    TickSocket.lane = None
