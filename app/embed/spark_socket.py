"""``/photon/spark?symbol=AAPL``: one symbol's ticks for an embed, without a Bokeh session.

An embedded sparkline needs one symbol's rows, the feed's state and nothing else, so
it does without BokehJS and Panel (600 kB of scripts) and without a Bokeh session:
the socket *is* the session. Opening it subscribes the symbol on the hub; closing it
(the page goes, the tab sleeps, the network drops) releases it, so nothing is held
for a browser that never came or left without a word. Its ticks come through the
fast lane like a board's (one serialisation per symbol per cycle, a socket that
lags gets the latest and nothing queued); the feed's state comes from the process's
status broadcast when what a viewer would see changes.

Messages, JSON, server to browser only:

* ``{"snapshot": row, "state": ..., "note": ...}`` first, with the row's sparkline
  ``points`` (the day so far, when history is on);
* ``{"cycle", "at", "every", "rows": [row]}`` each cycle the symbol changed (the fast
  lane's own message);
* ``{"state", "note"}`` when the feed's state changes (``note`` is what the board
  says over prices that are not live; empty while live).
"""

from __future__ import annotations

import contextlib
import json
import logging

from tornado.websocket import WebSocketClosedError

from app.hub.health import Health
from app.hub.hub import Hub, get_hub
from app.lanes import broadcast, fastlane
from app.lanes.fastlane import TickSocket
from app.quotes import Quote, quote_row
from app.symbols import parse_symbols
from app.ticks import FeedState
from app.views.status import stale_note

log = logging.getLogger(__name__)

#: Path of the route, relative to the server root.
PATH = "/photon/spark"

#: Close codes (4000-4999: the application's own), read by the embed's script.
UNKNOWN_SYMBOL = 4004
NO_LANE = 4503


def embed_symbol(hub: Hub, raw: str) -> str | None:
    """The one symbol ``raw`` names if the feed can show it (upper-cased), else None."""
    known = None if hub.feed.open_universe else {i.symbol for i in hub.feed.universe()}
    chosen = parse_symbols(raw, known, cap=1)
    if chosen.invalid or chosen.unknown or chosen.over_cap or not chosen.symbols:
        return None
    return chosen.symbols[0]


def snapshot_row(hub: Hub, symbol: str) -> tuple[dict, int]:
    """``symbol``'s row as of now with its sparkline ``points``, and the hub's cycle.

    A symbol watched a moment ago has no published row yet: its newest quote (the
    reference price, once loaded) stands in, as on the board's first paint.
    """
    changes = hub.changes_since(0, [symbol])
    row = next((r for r in changes.rows if r["symbol"] == symbol), None)
    if row is None:
        row = quote_row(hub.latest_quote(symbol) or Quote(symbol))
    return {**row, "points": changes.points.get(symbol, [])}, changes.cycle


def state_message(health: Health) -> dict[str, str]:
    state = FeedState(health.state)
    return {"state": state.value, "note": stale_note(state)}


class SparkSocket(TickSocket):
    """One embed's live row: subscribes on open, releases on close."""

    photon_embed = True  # PHOTON_EMBED_PUBLIC=1 opens it to anyone

    hub: Hub | None = None
    """The hub to read (tests set one); the process's own otherwise."""

    def initialize(self) -> None:
        super().initialize()
        self.symbol = ""
        self.shown_state: dict[str, str] | None = None

    def open(self) -> None:
        lane = fastlane.get()
        hub = type(self).hub or get_hub()
        if lane is None:  # a server without Photon's start-up hooks
            self.close(NO_LANE, "no fast lane on this server")
            return
        symbol = embed_symbol(hub, self.get_query_argument("symbol", ""))
        if symbol is None:
            self.close(UNKNOWN_SYMBOL, "unknown symbol")
            return
        self.symbol = symbol
        sub = hub.subscribe([symbol])
        self.token = lane.register(sub, self.current_user)
        self.sub = lane.attach(self.token, self)
        if self.sub is None:  # cannot happen on the loop; never leak the claim
            sub.close()
            return
        self.set_nodelay(True)
        row, self.sent_cycle = snapshot_row(hub, symbol)
        health = hub.health()
        self.shown_state = state_message(health)
        self._send({"snapshot": row, **self.shown_state})
        if (caster := broadcast.get()) is not None:
            caster.add(id(self), None, self.show_health)

    def show_health(self, health: Health) -> None:
        """The broadcast's call (IO loop) when the feed's visible state may have changed."""
        message = state_message(health)
        if message != self.shown_state:
            self.shown_state = message
            self._send(message)

    def _send(self, message: dict) -> None:
        with contextlib.suppress(WebSocketClosedError):  # gone: on_close cleans up
            self.write_message(json.dumps(message, separators=(",", ":")))

    def on_close(self) -> None:
        if (caster := broadcast.get()) is not None:
            caster.discard(id(self))
        sub = self.sub
        lane = fastlane.get()
        if lane is not None and self.token:
            lane.unregister(self.token)
        if sub is not None:
            sub.close()
        self.sub = None
