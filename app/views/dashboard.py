"""One viewer's dashboard: ticker picker, board and status, driven by the hub.

A :class:`Dashboard` is per session (per browser tab, or per notebook display
owner). Its picker value *is* its hub subscription. After each hub cycle its
changes go to the browser as one board update: over the fast lane
(:mod:`app.lanes.fastlane`), or through Bokeh, pushed by the Bokeh lane
(:mod:`app.lanes.bokehlane`) in a served session and by a timer of its own in a notebook
(which of these, and the status line's timer: :mod:`app.views.delivery`).
"""

from __future__ import annotations

import contextlib
import json
import time

import panel as pn
import param

from app.hub.hub import Health, Hub, Subscription
from app.lanes import broadcast
from app.lanes.bokehlane import BokehLane
from app.lanes.fastlane import PATH as FAST_PATH
from app.lanes.fastlane import FastLane
from app.runtime import metrics
from app.symbols import parse_symbols
from app.ticks import FeedState
from app.views import theme
from app.views.account import account_bar
from app.views.alerts import AlertList, parse_alerts
from app.views.board import BoardView, delta_json
from app.views.chart import TickerChart
from app.views.delivery import Delivery
from app.views.landmarks import Landmark, TickerPicker
from app.views.snapshot import BoardSnapshot, fragments_of
from app.views.status import StatusView, stale_note
from app.views.urlstate import parse_sort, with_query

#: Refresh the status line (tick age) at most this often.
STATUS_EVERY_MS = broadcast.EVERY_MS


def with_symbols_query(search: str, symbols: list[str]) -> str:
    """``search`` with ``symbols=`` replaced, commas left readable: ``?symbols=AAPL,TSLA``."""
    return with_query(search, symbols=",".join(symbols))


def one_message() -> contextlib.AbstractContextManager:
    """Hold the session's model changes and send them as one message on leaving.

    Each Bokeh model change is a WebSocket message of its own otherwise: a picker
    change went as the board's rows, then the status line, then the URL, some tens
    of ms apart on a busy machine, and the browser showed the new board with the old
    URL in between. Only in a served session that has loaded (its browser connected
    and its onload callbacks run): Panel drops what a hold collects before that,
    counting on the document being sent in full, which a browser that has already
    pulled it never gets again. Elsewhere (building the page, a notebook) a no-op.
    """
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None and pn.state.loaded:
        return pn.io.hold(doc)
    return contextlib.nullcontext()


class Dashboard(pn.viewable.Viewer):
    """Picker + status + board for one viewer, bound to the process hub."""

    hub = param.ClassSelector(class_=Hub, doc="The process hub to read from.")
    symbols = param.List(default=[], item_type=str, doc="Watched symbols, in board order.")
    max_symbols = param.Integer(default=50, bounds=(1, None), doc="Per-session symbol cap.")
    message = param.String(default="", doc="Plain-text notice about refused input.")
    sort = param.String(default="", doc="Row order: a column (symbol, last, change, "
                        "volume), '-' in front for descending; '' keeps the picker's order.")
    alerts = param.String(default="", doc="Price alerts, as ?alerts= holds them "
                          "(app/views/alerts.py); set with :meth:`set_alerts`.")
    sync_url = param.Boolean(default=False, doc="Mirror the selection, sort and alerts in "
                             "the URL (?symbols=, ?sort=, ?alerts=); turns on the board's "
                             "keyboard shortcuts too (a page of its own).")
    fast_lane = param.ClassSelector(class_=FastLane, default=None, allow_None=True,
                                    doc="Send ticks over the fast lane instead of Bokeh.")
    fast_path = param.String(default="." + FAST_PATH,
                             doc="The fast-lane route relative to the page.")
    compact = param.Boolean(default=False, doc="Only the board, one line per symbol (an "
                            "embed): no picker, status line or notices.")
    bokeh_lane = param.ClassSelector(class_=BokehLane, default=None, allow_None=True,
                                     doc="Push Bokeh updates after each hub cycle (served "
                                     "sessions); without it, on a timer of our own.")
    max_width = param.Integer(default=None, allow_None=True, doc="Widest the page grows, px.")
    toolbar = param.List(default=[], doc="Shown above the status line (the saved boards' "
                         "switcher, app/views/boards.py).")

    def __init__(self, **params):
        requested = params.pop("symbols", [])
        requested_alerts = params.pop("alerts", "")
        requested_sort = params.pop("sort", "")
        super().__init__(**params)
        universe = self.hub.feed.universe()
        self._known = (None if self.hub.feed.open_universe
                       else frozenset(info.symbol for info in universe))
        options = {f"{i.symbol} · {i.name}": i.symbol for i in universe}
        # A page of its own has landmarks (status: banner, in status.js; picker: search;
        # board and chart: main); in a notebook the page around it has them.
        own_page = self.sync_url and not self.compact
        self._picker = TickerPicker(
            label="Tickers", options=options, max_items=self.max_symbols,
            placeholder="Search tickers…", sizing_mode="stretch_width",
            # at least 1: a relay that has not said its universe yet gives no options
            search_option_limit=max(1, len(options)), stylesheets=[theme.PICKER_CSS],
            html_attributes={"role": "search"} if own_page else {},
        )
        self._board = BoardView(max_points=self.hub.history_len, compact=self.compact,
                                shortcuts=self.sync_url and not self.compact,
                                sizing_mode="stretch_width")
        self._status = StatusView(cadence_ms=self.hub.push_interval_ms,
                                  sizing_mode="stretch_width")
        self._board.on_snapshot_request(self._send_snapshot)
        self._board.on_fast_lane_failure(self._use_bokeh)
        self._board.on_chart_request(self.open_chart)
        self._board.on_close_chart_request(self.close_chart)
        self._board.on_remove_request(self.remove)
        self._board.on_alerts_request(self.set_alerts)
        self._alert_list = AlertList(())
        self._messages = {"symbols": "", "alerts": ""}
        self._chart: TickerChart | None = None
        self._chart_view = None  # the chart's object in the layout while open
        self._started = False
        self._sub: Subscription = self.hub.subscribe()
        self._delivery = Delivery(
            owner=id(self), hub=self.hub, subscription=self._sub, board=self._board,
            push=self.push, show_status=self._show_status, show_health=self._show_health,
            send_snapshot=self._send_snapshot, fast_lane=self.fast_lane,
            fast_path=self.fast_path, bokeh_lane=self.bokeh_lane)
        self._cycle = 0
        self._since_status_ms = STATUS_EVERY_MS
        self._setting = False
        self._doc = None  # a served session's document, once its browser has pulled it
        self._shown: BoardSnapshot | None = None
        self._forget_due = False
        self.select(requested)
        self.set_alerts(requested_alerts)
        self.set_sort(requested_sort)
        self._picker.param.watch(self._on_pick, "value")
        self._board.param.watch(lambda e: self.set_sort(e.new), "sort")  # a header click
        # As few Panel objects as a page needs: each is Bokeh models, stylesheets and
        # watchers built for every session (notices live in the board, the title in the
        # status line, and the chart joins the column only while open). A page of its
        # own has one more: its main landmark, a column holding board and chart.
        self._main = Landmark(self._board, sizing_mode="stretch_width",
                              html_attributes={"role": "main"}) if own_page else None
        self._layout = self._board if self.compact else pn.Column(
            *account_bar(),  # who is signed in, and "Sign out" (none with sign-in off)
            *self.toolbar,
            self._status, self._picker, self._board if self._main is None else self._main,
            sizing_mode="stretch_width",
            max_width=self.max_width, css_classes=["photon-dashboard"])

    # -- selection ---------------------------------------------------------
    def select(self, raw) -> None:
        """Watch the symbols in ``raw`` (a list or ``"AAPL,TSLA"``), keeping the valid ones."""
        picked = parse_symbols(raw, self._known, self.max_symbols)
        with one_message():  # board, status, notice and URL reach the browser together
            self._say("symbols", picked.message())
            self._apply(list(picked.symbols))

    def remove(self, symbol: str) -> None:
        """Stop watching ``symbol`` (the board's Delete key), as a picker change would."""
        if symbol in self.symbols:
            self.select([s for s in self.symbols if s != symbol])

    def set_alerts(self, raw: str | None) -> None:
        """Keep the valid alerts of ``raw`` (``AAPL>230.5,NVDA~2%``) on watched symbols;
        name the others in the notice."""
        parsed = parse_alerts(raw, watched=set(self._sub.symbols))
        with one_message():
            self._say("alerts", parsed.message())
            self._set_alert_list(parsed)

    def _set_alert_list(self, parsed: AlertList) -> None:
        self._alert_list = parsed
        self._board.alerts = json.dumps([a.as_json() for a in parsed.alerts])
        self.alerts = parsed.text()
        self._sync_url()

    def set_sort(self, raw: str | None) -> None:
        """Order rows by a column (``-change``: descending); anything unknown: picker order."""
        with one_message():
            self.sort = parse_sort(raw)
            if self._board.sort != self.sort:
                self._board.sort = self.sort
            self._sync_url()

    def _say(self, topic: str, text: str) -> None:
        self._messages[topic] = text
        self.message = " ".join(m for m in self._messages.values() if m)

    def _show_url(self) -> None:
        """Send the URL as kept to the browser once it is connected: what was set while
        the page was being built equals the server's copy, so it was never sent."""
        self._sync_url()
        if self.sync_url and pn.state.location is not None:
            pn.state.location.param.trigger("search")

    def _sync_url(self) -> None:
        if self.sync_url and pn.state.location is not None:
            loc = pn.state.location
            loc.search = with_query(loc.search, symbols=",".join(self.symbols),
                                    sort=self.sort, alerts=self.alerts)

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
        if self._chart is not None and self._chart.symbol not in symbols:
            self.close_chart()  # its ticker left the board
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
        kept = [a for a in self._alert_list.alerts if a.symbol in symbols]
        if len(kept) != len(self._alert_list.alerts):  # a row went, and its alerts with it
            self._set_alert_list(AlertList(tuple(kept)))
        else:
            self._sync_url()

    @param.depends("message", watch=True)
    def _show_message(self) -> None:
        self._board.message = self.message  # plain text: board.js sets textContent

    # -- pushing -------------------------------------------------------------
    def _send_snapshot(self) -> None:
        """Send the full board for the current selection (rows in picker order), made
        of the pieces every session of this hub cycle shares (app/views/snapshot.py)."""
        shown = fragments_of(self.hub).snapshot(self.hub, self._sub.symbols)
        self._cycle = shown.cycle
        self._board.set_snapshot(shown.full, shown.light)
        self._shown = shown if self._doc is None else None  # for the first paint only
        self._forget_points_soon()

    @property
    def shown_rows(self) -> list[dict]:
        """The rows (with points) last sent, while the page is being built: for its
        first paint (app/views/first_paint.py), without parsing the snapshot again.
        Shared with other sessions: read them, never change them."""
        return self._shown.rows if self._shown is not None else self._board.rows

    def _browser_connected(self, doc) -> None:
        """The browser has pulled the document (and with it the board's snapshot)."""
        self._doc = doc
        self._shown = None
        self._forget_points_soon()

    def _forget_points_soon(self) -> None:
        """Once the browser has the board, drop the server's copy of its sparkline points
        (:meth:`BoardView.forget_points`), after the change just made has gone out: on
        the next tick, behind any update Panel put off until then."""
        if self._doc is None or self._forget_due:
            return
        self._forget_due = True

        def forget() -> None:
            self._forget_due = False
            if not self._sub.closed:
                self._board.forget_points()

        self._doc.add_next_tick_callback(forget)

    def push(self) -> None:
        """One push cycle: send what changed for this session's symbols, if anything."""
        t0 = time.perf_counter()
        changes = self.hub.changes_since(self._cycle, self._sub.symbols)
        self._cycle = changes.cycle
        self._since_status_ms += self.hub.push_interval_ms
        with pn.io.hold():
            if changes.rows:
                self._board.send_delta(delta_json(changes, self.hub.push_interval_ms))
            if self._since_status_ms >= STATUS_EVERY_MS and self._delivery.broadcaster is None:
                self._show_status()  # no process-wide broadcaster here (a notebook)
        metrics.observe_session_push(time.perf_counter() - t0, len(changes.rows))

    @property
    def transport(self) -> str:
        """"fast" while ticks go over the fast lane, else "bokeh"."""
        return self._delivery.transport

    def _show_status(self) -> None:
        self._show_health(self.hub.health())

    def _show_health(self, health: Health) -> None:
        self._since_status_ms = 0
        self._status.show(health, len(self._sub.symbols))
        self._board.stale_note = stale_note(FeedState(health.state))

    def start(self) -> Dashboard:
        """Start pushing (idempotent); stops and releases with the session."""
        if self._started:
            return self
        doc = pn.state.curdoc
        served = doc is not None and doc.session_context is not None
        self._delivery.start(doc, served)
        if served:
            pn.state.onload(lambda: self._browser_connected(doc))
            pn.state.on_session_destroyed(lambda _ctx: self.close())
            if self.sync_url:  # the URL as kept: refused entries out, alerts canonical
                pn.state.onload(self._show_url)
        self._started = True
        return self

    def _use_bokeh(self) -> None:
        """The browser could not use the fast lane: push through Bokeh instead."""
        self._delivery.fall_back_to_bokeh()

    @property
    def _callback(self):
        """The session's own timer, if any (a notebook's pushes): see :mod:`.delivery`."""
        return self._delivery.callback

    # -- the live chart of one ticker ---------------------------------------
    def open_chart(self, symbol: str) -> None:
        """Show a live chart of ``symbol`` (one of this board's) under the board."""
        if symbol not in self._sub.symbols:
            return
        self.close_chart()
        self._chart = TickerChart(hub=self.hub, symbol=symbol)
        self._chart.on_close(self.close_chart)
        if (column := self._chart_column()) is not None:
            column.append(self._chart)
            self._chart_view = column[-1]  # what the column made of the chart

    def close_chart(self) -> None:
        """Remove the chart and stop its timer (only an open chart costs anything)."""
        if self._chart is not None:
            self._chart.close()
            if self._chart_view is not None:
                self._chart_column().remove(self._chart_view)
                self._chart_view = None
            self._chart = None

    def _chart_column(self) -> pn.Column | None:
        """Where the chart goes: under the board, in the page's main landmark if any."""
        if self._main is not None:
            return self._main
        return self._layout if isinstance(self._layout, pn.Column) else None

    @property
    def chart(self) -> TickerChart | None:
        return self._chart

    def close(self) -> None:
        """Stop pushing and give the hub back every symbol (safe to repeat).

        Runs when the session is destroyed, when its models can no longer be
        changed: it touches hub and fast lane only, and releases symbols first.
        """
        try:
            self._sub.close()
        finally:
            self._delivery.stop()
            if self._chart is not None:
                self._chart.close()

    @property
    def status(self) -> StatusView:
        return self._status

    @property
    def board(self) -> BoardView:
        return self._board

    @property
    def subscription(self) -> Subscription:
        return self._sub

    def __panel__(self):
        return self._layout
