"""The chart of one ticker, opened from its row on the board.

One-minute candles with their volume below, over a range the viewer picks (15 min,
1 h, the day, 5 days) read from the history store (:mod:`app.history`); the previous
close as a dashed line; the live price as a thin line on top. Each cycle the hub's
changes fold into the current candle (``patch``) or open the next one (``stream``),
on a timer of its own that exists only while the chart is open: sessions that never
open a chart pay nothing.
"""

from __future__ import annotations

import html
import time

import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import (
    ColumnDataSource,
    CrosshairTool,
    HoverTool,
    NumeralTickFormatter,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from app.history import service
from app.history.bars import Bar, minute
from app.history.service import History
from app.hub.hub import Hub
from app.quotes import format_price
from app.views import theme

#: Live price points a chart keeps (at the default 100 ms cadence, a few minutes).
KEEP = 1200
#: The ranges offered, in seconds; "1 day" is the last session on record.
RANGES = {"15 min": 900, "1 h": 3600, "1 day": 86400, "5 days": 5 * 86400}
UP, DOWN = "#26a269", "#c01c28"
#: How far back the thin live-price line starts when the chart opens.
LIVE_LINE_S = 15 * 60
CANDLE_MS = 60_000


def candle_columns(bars: list[Bar]) -> dict[str, list]:
    """Columns of the candle source: centre time (ms), OHLCV, body and colour."""
    return {
        "time": [b.t * 1000 + CANDLE_MS / 2 for b in bars],
        "o": [b.o for b in bars], "h": [b.h for b in bars], "l": [b.l for b in bars],
        "c": [b.c for b in bars], "v": [b.v for b in bars],
        "top": [max(b.o, b.c) for b in bars], "bottom": [min(b.o, b.c) for b in bars],
        "color": [UP if b.c >= b.o else DOWN for b in bars],
    }


def contiguous_end(bars: list[Bar], gap_s: int = 3600) -> int:
    """Start of the last bar before the first gap longer than ``gap_s``: the end of the
    session on view, leaving out trades after a closed market's gap (a mock weekend)."""
    for a, b in zip(bars, bars[1:], strict=False):
        if b.t - a.t > gap_s:
            return a.t
    return bars[-1].t


def window(range_s: int, latest: int | None, now: float) -> tuple[int, int]:
    """(start, end) of a range ending at the newest bar on record, or now without one."""
    end = latest + 60 if latest is not None else minute(now) + 60
    return end - range_s, end


class TickerChart(pn.viewable.Viewer):
    """Candles, volume, previous close and the live price of ``symbol``."""

    hub = param.ClassSelector(class_=Hub)
    symbol = param.String()
    history = param.ClassSelector(class_=History, default=None, allow_None=True,
                                  doc="Where the candles come from (default: the process's).")
    range = param.Selector(default="1 day", objects=list(RANGES))

    def __init__(self, **params):
        super().__init__(**params)
        if self.history is None:
            self.history = service.get()
        # The live line: recent points only (the day is in the candles).
        recent = time.time() - LIVE_LINE_S
        points = [(t, p) for t, p in self.hub.history(self.symbol) if t >= recent]
        self._prices = ColumnDataSource({"time": [t * 1000 for t, _ in points],
                                         "price": [p for _, p in points]})
        self._bars = ColumnDataSource(candle_columns([]))
        self._x = Range1d(0, 1)  # follows the candles: a closed market's gap stays out
        q = self.hub.quote(self.symbol)
        self._last_volume = q.traded if q else 0.0
        self._prev = Span(dimension="width", line_dash="dashed", line_alpha=0.7,
                          line_color="#888888", location=None)
        self._cycle = self.hub.cycle
        self._load_bars()
        self._title = pn.pane.HTML(self._caption(), css_classes=["photon-chart-title"],
                                   sizing_mode="stretch_width", stylesheets=[theme.TEXT_CSS])
        self._ranges = pn.widgets.RadioButtonGroup.from_param(
            self.param.range, color="light", css_classes=["photon-chart-ranges"],
            name="", width=260)
        self._close = pn.widgets.Button(label="Close chart", color="light", width=110)
        self._callback = pn.state.add_periodic_callback(self.update,
                                                        self.hub.push_interval_floor_ms)
        self._layout = pn.Column(
            pn.Row(self._title, self._ranges, self._close, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self._figure(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width", css_classes=["photon-chart"])

    def on_close(self, callback) -> None:
        """Call ``callback()`` when the viewer presses Close."""
        self._close.on_click(lambda _event: callback())

    # -- data -------------------------------------------------------------------
    @param.depends("range", watch=True)
    def _load_bars(self) -> None:
        """Candles of the chosen range from the store (none without a store)."""
        bars: list[Bar] = []
        store = self.history
        if store is not None:
            if self.range == "1 day":
                bars = store.day(self.symbol)
            else:
                start, end = window(RANGES[self.range], store.latest(self.symbol),
                                    self._now())
                bars = store.bars(self.symbol, "1m", start, end)
        self._bars.data = candle_columns(bars)
        if bars:
            self._x.update(start=bars[0].t * 1000, end=(contiguous_end(bars) + 60) * 1000)
        else:
            now = self._now()
            self._x.update(start=(now - 900) * 1000, end=(minute(now) + 120) * 1000)
        q = self.hub.quote(self.symbol)
        self._prev.location = q.prev_close if q and q.prev_close else None

    def _now(self) -> float:
        q = self.hub.quote(self.symbol)
        return q.ts if q and q.ts else time.time()

    def _fold_quote(self, price: float, ts: float, traded: float) -> None:
        """The current candle follows the live price; a new minute opens the next one."""
        t = minute(ts)
        data = self._bars.data
        times = data["time"]
        centre = t * 1000 + CANDLE_MS / 2
        if times and times[-1] == centre:
            i = len(times) - 1
            o, h, lo = data["o"][i], max(data["h"][i], price), min(data["l"][i], price)
            self._bars.patch({"h": [(i, h)], "l": [(i, lo)], "c": [(i, price)],
                              "v": [(i, data["v"][i] + traded)],
                              "top": [(i, max(o, price))], "bottom": [(i, min(o, price))],
                              "color": [(i, UP if price >= o else DOWN)]})
        elif not times or centre > times[-1]:
            # Follow a new minute at the chart's right edge (not a closed market's gap).
            follow = not times or centre - 3 * CANDLE_MS <= self._x.end
            self._bars.stream(candle_columns([Bar(t, price, price, price, price, traded)]))
            if follow:
                self._x.end = centre + CANDLE_MS

    # -- the figure --------------------------------------------------------------
    def _figure(self):
        crosshair = Span(dimension="height", line_dash="dashed", line_alpha=0.5)
        price = figure(x_axis_type="datetime", height=260, sizing_mode="stretch_width",
                       x_range=self._x,
                       tools="pan,xwheel_zoom,reset", toolbar_location="right",
                       y_axis_label="price")
        price.segment("time", "h", "time", "l", source=self._bars, color="color")
        price.vbar("time", width=CANDLE_MS * 0.7, top="top", bottom="bottom",
                   source=self._bars, fill_color="color", line_color="color")
        price.line("time", "price", source=self._prices, line_width=1, line_alpha=0.6,
                   line_color="#1c71d8")
        price.add_layout(self._prev)
        price.add_tools(CrosshairTool(overlay=crosshair), HoverTool(
            tooltips=[("time", "@time{%H:%M}"), ("open", "@o{0,0.00[00]}"),
                      ("high", "@h{0,0.00[00]}"), ("low", "@l{0,0.00[00]}"),
                      ("close", "@c{0,0.00[00]}"), ("volume", "@v{0,0}")],
            formatters={"@time": "datetime"}, mode="vline"))
        volume = figure(x_axis_type="datetime", height=90, sizing_mode="stretch_width",
                        x_range=price.x_range, tools="", toolbar_location=None,
                        y_axis_label="volume")
        volume.vbar("time", top="v", width=CANDLE_MS * 0.7, source=self._bars,
                    fill_color="color", line_color=None, fill_alpha=0.6)
        volume.yaxis.formatter = NumeralTickFormatter(format="0.[0]a")
        volume.yaxis.ticker.desired_num_ticks = 3
        volume.add_tools(CrosshairTool(overlay=crosshair))
        return column(price, volume, sizing_mode="stretch_width")

    def _caption(self) -> str:
        q = self.hub.quote(self.symbol)
        points = len(self._prices.data["price"])
        candles = len(self._bars.data["time"])
        return (f"<span class='photon-chart-caption'><b>{html.escape(self.symbol)}</b> · last "
                f"<span class='photon-chart-last'>{format_price(q.last if q else None)}</span>"
                f" · <span class='photon-chart-candles'>{candles}</span> candles"
                f" · <span class='photon-chart-points'>{points}</span> points</span>")

    def update(self) -> None:
        """Stream what the hub published since the last call."""
        changes = self.hub.changes_since(self._cycle, [self.symbol])
        self._cycle = changes.cycle
        pts = changes.points.get(self.symbol)
        if pts:
            new = {"time": [t * 1000 for t, _ in pts], "price": [p for _, p in pts]}
            if self.symbol in changes.resets:  # the whole line (a late backfill)
                self._prices.data = {k: v[-KEEP:] for k, v in new.items()}
            else:
                self._prices.stream(new, rollover=KEEP)
        for q in changes.quotes:
            traded = max(q.traded - self._last_volume, 0.0)
            self._last_volume = q.traded
            if q.last is not None and q.ts:
                self._fold_quote(q.last, q.ts, traded)
            if q.prev_close and self._prev.location != q.prev_close:
                self._prev.location = q.prev_close
        if changes.quotes or pts:
            self._title.object = self._caption()

    def close(self) -> None:
        """Stop the timer; nothing of the chart runs after this."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None

    @property
    def running(self) -> bool:
        return self._callback is not None

    def __panel__(self):
        return self._layout
