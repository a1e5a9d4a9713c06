"""The ticker board: one row per watched symbol, rendered by a small JS component.

The whole board is one Bokeh model. Python sends the full board (``snapshot``, JSON
text) only when the selection changes, then one delta per push cycle holding just the symbols that
changed, so one cycle is one WebSocket message. A served session keeps the full board only
until the browser has it (:meth:`BoardView.forget_points`): with a day of sparklines it is
most of what a session holds. A delta is a message to the
browser (``msg:custom``), not a model property: it is transient, so nothing is
kept in the document, and it skips param's and Bokeh's property machinery. It is
JSON text, so Bokeh sends it as it is instead of walking it for model references
and re-encoding it item by item. (With the fast lane, deltas do not go through
Bokeh at all.) Flashing, time formatting
and sparkline drawing happen in the browser. Every string is set with
``textContent``: nothing here is ever parsed as HTML.
"""

from __future__ import annotations

import json
from pathlib import Path

import param
from panel.io.model import apply_changes_without_dispatch

from app.hub.quote_book import Changes
from app.views.esm import SharedSourceComponent

_HERE = Path(__file__).parent


def delta_json(changes: Changes, every_ms: int = 0) -> str:
    """One cycle's changes as the ``delta`` text board.js applies; ``every_ms`` is the
    cadence at the time (the status line shows it: see board.js)."""
    delta = {"cycle": changes.cycle, "at": changes.at, "every": every_ms,
             "rows": changes.rows, "points": changes.points}
    if changes.resets:  # these symbols' points replace the line (board.js)
        delta["resets"] = sorted(changes.resets)
    return json.dumps(delta, separators=(",", ":"))


class BoardView(SharedSourceComponent):
    """Browser side of the board; fed by :class:`~app.views.dashboard.Dashboard`."""

    snapshot = param.String(default="[]", doc="Full board state as JSON text: the row "
                            "dicts, each with its points (see :attr:`rows`).")
    max_points = param.Integer(default=240, doc="Sparkline length kept in the browser.")
    flash_ms = param.Integer(default=600, doc="How long a price flash lasts.")
    fast_url = param.String(default="", doc="Fast-lane WebSocket (relative URL with token); "
                            "empty: changes come as deltas through Bokeh.")
    stale_note = param.String(default="", doc="Set while prices are not live: why (plain text).")
    message = param.String(default="", doc="A notice above the board, e.g. about refused "
                           "input (plain text; not shown in compact form).")
    compact = param.Boolean(default=False, doc="One line per symbol, no header: for embeds.")
    spark_width = param.Integer(default=120, bounds=(20, 2000), doc="Sparkline width, px.")
    spark_height = param.Integer(default=28, bounds=(8, 800), doc="Sparkline height, px.")
    sort = param.String(default="", doc="Row order, e.g. '-change' (app/views/urlstate.py); "
                        "the browser sets it when a column header is clicked.")
    alerts = param.String(default="[]", doc="The page's price alerts as JSON text "
                          "([{key, symbol, op, value}], app/views/alerts.py); the browser "
                          "evaluates them on every price.")
    shortcuts = param.Boolean(default=False, doc="Page-wide keyboard shortcuts (/, ?, j/k): "
                              "on a page of its own, not inside a notebook.")
    page_heading = param.String(default="", doc="When the board alone is a page (the "
                                "/sparkline iframe page): the page's h1, seen only by screen "
                                "readers, and the board its main landmark. Empty: a part of "
                                "another page (the dashboard, a script embed, a notebook), "
                                "which has the landmarks and headings.")

    # One module of six files: spark.js, alerts.js, delay.js and comm_resync.js (pure,
    # also run on their own in the tests), board_ui.js (sorting, shortcuts help, alert
    # editor) and board.js (the rows).
    _esm = "\n".join((_HERE / name).read_text() for name in
                      ("spark.js", "alerts.js", "delay.js", "comm_resync.js", "board_ui.js",
                       "board.js"))
    _stylesheets = [(_HERE / "price.css").read_text() + (_HERE / "board.css").read_text()]

    def __init__(self, **params):
        super().__init__(**params)
        self._handlers: dict[str, list] = {"snapshot": [], "fast_failed": [], "chart": [],
                                           "close_chart": [], "remove": [], "alerts": []}
        self.last_delta = ""
        """The last delta sent (for notebooks and tests to look at)."""
        self._without_points = ""

    @property
    def rows(self) -> list[dict]:
        """The full board state: row dicts, each with its sparkline points (without
        them once :meth:`forget_points` has run)."""
        return json.loads(self.snapshot)

    @rows.setter
    def rows(self, rows: list[dict]) -> None:
        # Kept as one string, not as nested lists: a board's history (hundreds of
        # [time, price] pairs) would otherwise be thousands of objects per session that
        # the garbage collector walks and Bokeh validates, and nothing reads it again.
        # What forget_points() keeps: the rows alone, with json's default separators,
        # so that it never equals a snapshot sent (compact): a later snapshot equal to
        # it would otherwise not count as a change and never be sent.
        self.set_snapshot(json.dumps(rows, separators=(",", ":")), json.dumps(
            [{k: v for k, v in r.items() if k != "points"} for r in rows]) if rows else "")

    def set_snapshot(self, full: str, light: str) -> None:
        """Send the board ``full`` (the JSON :attr:`rows` makes) and keep ``light``, the
        same rows without points, for :meth:`forget_points` (texts made once for many
        sessions: app/views/snapshot.py)."""
        self.snapshot = full
        self._without_points = light

    def forget_points(self) -> None:
        """Keep the rows but not their sparkline points in this (server) side's copy of
        :attr:`snapshot`, and send nothing: for a browser that has the full snapshot.

        A snapshot carries up to ``max_points`` points per symbol (a day, seeded from
        history): 40-70 kB per session with 10 symbols, held by the session's document
        for as long as it lives, though the browser needs it only once (when it pulls
        the document, and when its view asks for a fresh one: board.js). Should the
        browser pull the document again (a reconnect to the same session), it shows
        the rows and its view asks for the full snapshot, as every new view does.
        """
        light = self._without_points
        if not light or self.snapshot == light:
            return
        for model, _ in list(self._models.values()):
            if model.document is None:
                model.data.snapshot = light
            else:  # the browser's copy stays as it is
                apply_changes_without_dispatch(model.document, model.data,
                                               {"snapshot": light})
        with param.parameterized.discard_events(self):
            self.snapshot = light

    def send_delta(self, delta: str) -> None:
        """Send one cycle's changes (:func:`delta_json`) to every view of the board."""
        self.last_delta = delta
        self._send_msg(delta)

    def on_snapshot_request(self, callback) -> None:
        """Call ``callback()`` when a freshly rendered view asks for the full state."""
        self._handlers["snapshot"].append(callback)

    def on_fast_lane_failure(self, callback) -> None:
        """Call ``callback()`` when the browser cannot use the fast lane."""
        self._handlers["fast_failed"].append(callback)

    def on_chart_request(self, callback) -> None:
        """Call ``callback(symbol)`` when the viewer opens a row's chart."""
        self._handlers["chart"].append(callback)

    def on_close_chart_request(self, callback) -> None:
        """Call ``callback()`` when the viewer closes the chart (Escape)."""
        self._handlers["close_chart"].append(callback)

    def on_remove_request(self, callback) -> None:
        """Call ``callback(symbol)`` when the viewer removes a row (Delete)."""
        self._handlers["remove"].append(callback)

    def on_alerts_request(self, callback) -> None:
        """Call ``callback(text)`` with the alert list the viewer edited (``AAPL>1,...``)."""
        self._handlers["alerts"].append(callback)

    #: Messages that carry one string, and the field that holds it.
    _ARG = {"chart": "symbol", "remove": "symbol", "alerts": "text"}

    def _handle_msg(self, data) -> None:
        kind = data.get("type") if isinstance(data, dict) else None
        if kind in self._ARG:
            value = data.get(self._ARG[kind])
            if isinstance(value, str) and len(value) <= 10_000:
                for cb in self._handlers[kind]:
                    cb(value)
            return
        for cb in self._handlers.get(kind, []):
            cb()
