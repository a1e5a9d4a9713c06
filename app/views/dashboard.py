"""One viewer's dashboard: ticker picker, board and status, driven by the hub.

A :class:`Dashboard` is per session (per browser tab, or per notebook display
owner). Its picker value *is* its hub subscription. A periodic callback at the
push interval selects this session's changes from the hub's cycle and sends them
as one board update.
"""

from __future__ import annotations

import html
import logging
import time
from urllib.parse import parse_qsl, urlencode

import panel as pn
import param

from app import metrics
from app.feeds.base import FeedState
from app.hub import Hub, Subscription
from app.quotes import Quote, quote_row
from app.symbols import parse_symbols
from app.views.board import BoardView
from app.views.status import StatusView, stale_note

log = logging.getLogger(__name__)

#: Refresh the status line (tick age) at most this often.
STATUS_EVERY_MS = 1000


def with_symbols_query(search: str, symbols: list[str]) -> str:
    """``search`` with ``symbols=`` replaced, commas left readable: ``?symbols=AAPL,TSLA``."""
    params = [(k, v) for k, v in parse_qsl(search.lstrip("?"), keep_blank_values=True)
              if k != "symbols"]
    params.append(("symbols", ",".join(symbols)))
    return "?" + urlencode(params, safe=",:")


class Dashboard(pn.viewable.Viewer):
    """Picker + status + board for one viewer, bound to the process hub."""

    hub = param.ClassSelector(class_=Hub, doc="The process hub to read from.")
    symbols = param.List(default=[], item_type=str, doc="Watched symbols, in board order.")
    max_symbols = param.Integer(default=50, bounds=(1, None), doc="Per-session symbol cap.")
    push_interval_ms = param.Integer(default=250, bounds=(20, None), doc="Push cadence.")
    message = param.String(default="", doc="Plain-text notice about refused input.")
    sync_url = param.Boolean(default=False, doc="Mirror the selection in ?symbols= of the URL.")

    def __init__(self, **params):
        requested = params.pop("symbols", [])
        super().__init__(**params)
        universe = self.hub.feed.universe()
        self._known = (None if self.hub.feed.open_universe
                       else frozenset(info.symbol for info in universe))
        options = {f"{i.symbol} · {i.name}": i.symbol for i in universe}
        self._picker = pn.widgets.MultiChoice(
            label="Tickers", options=options, max_items=self.max_symbols,
            placeholder="Search tickers…", sizing_mode="stretch_width",
            search_option_limit=len(options),
        )
        self._notice = pn.pane.HTML("", visible=False, sizing_mode="stretch_width",
                                    css_classes=["photon-message"])
        self._board = BoardView(max_points=self.hub.history_len, sizing_mode="stretch_width")
        self._status = StatusView(sizing_mode="stretch_width")
        self._board.on_snapshot_request(self._send_snapshot)
        self._sub: Subscription = self.hub.subscribe()
        self._cycle = 0
        self._since_status_ms = STATUS_EVERY_MS
        self._callback = None
        self._setting = False
        self.select(requested)
        self._picker.param.watch(self._on_pick, "value")
        self._layout = pn.Column(self._status, self._picker, self._notice, self._board,
                                 sizing_mode="stretch_width", css_classes=["photon-dashboard"])

    # -- selection ---------------------------------------------------------
    def select(self, raw) -> None:
        """Watch the symbols in ``raw`` (a list or ``"AAPL,TSLA"``), keeping the valid ones."""
        picked = parse_symbols(raw, self._known, self.max_symbols)
        self.message = picked.message()
        self._apply(list(picked.symbols))

    def _on_pick(self, event: param.parameterized.Event) -> None:
        if not self._setting:
            self.select(event.new)

    @param.depends("symbols", watch=True)
    def _on_symbols(self) -> None:
        """``dash.symbols = [...]`` (e.g. from a notebook) re-subscribes like the picker."""
        if not self._setting:
            self.select(self.symbols)

    def _apply(self, symbols: list[str]) -> None:
        self._sub.update(symbols)
        self._setting = True
        try:
            offered = set(self._picker.options.values())
            extra = {s: s for s in symbols if s not in offered}  # open-universe feeds
            if extra:
                self._picker.options = {**self._picker.options, **extra}
            self.symbols = symbols
            self._picker.value = symbols
        finally:
            self._setting = False
        self._send_snapshot()
        self._show_status()
        if self.sync_url and pn.state.location is not None:
            loc = pn.state.location
            loc.search = with_symbols_query(loc.search, symbols)

    @param.depends("message", watch=True)
    def _show_message(self) -> None:
        self._notice.object = (
            f'<div class="photon-message" role="alert">{html.escape(self.message)}</div>'
            if self.message else ""
        )
        self._notice.visible = bool(self.message)

    # -- pushing -------------------------------------------------------------
    def _send_snapshot(self) -> None:
        """Send the full board for the current selection (rows in picker order)."""
        changes = self.hub.changes_since(0, self._sub.symbols)
        by_symbol = {r["symbol"]: r for r in changes.rows}
        rows = []
        for sym in self._sub.symbols:
            row = dict(by_symbol.get(sym) or quote_row(Quote(sym)))
            row["points"] = changes.points.get(sym, [])
            rows.append(row)
        self._cycle = changes.cycle
        self._board.rows = rows

    def push(self) -> None:
        """One push cycle: send what changed for this session's symbols, if anything."""
        t0 = time.perf_counter()
        changes = self.hub.changes_since(self._cycle, self._sub.symbols)
        self._cycle = changes.cycle
        self._since_status_ms += self.push_interval_ms
        with pn.io.hold():
            if changes.rows:
                self._board.delta = {"cycle": changes.cycle, "rows": changes.rows,
                                     "points": changes.points}
            if self._since_status_ms >= STATUS_EVERY_MS:
                self._show_status()
        metrics.observe_push(time.perf_counter() - t0, len(changes.rows))

    def _show_status(self) -> None:
        self._since_status_ms = 0
        health = self.hub.health()
        self._status.show(health, len(self._sub.symbols))
        self._board.stale_note = stale_note(FeedState(health.state))

    def start(self) -> Dashboard:
        """Start pushing (idempotent); stops and releases with the session."""
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(self.push, self.push_interval_ms)
            if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
                pn.state.on_session_destroyed(lambda _ctx: self.close())
        return self

    def close(self) -> None:
        """Stop pushing and give the hub back every symbol (safe to repeat)."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self._sub.close()

    @property
    def status(self) -> StatusView:
        return self._status

    @property
    def subscription(self) -> Subscription:
        return self._sub

    def __panel__(self):
        return self._layout
