"""The chart of one ticker, opened from its row on the board.

Candles with their volume below, over a range the viewer picks (15 min and 1 h of
one-minute candles, the last trading day in five-minute ones with its extended hours
shaded, five days in quarter hours) read from the history store (:mod:`app.history`);
the previous close as a dashed line; the live price as a marked line across the plot.
Each cycle the hub's changes fold into the current candle (``patch``) or open the next
one (``stream``), on a timer of its own that exists only while the chart is open:
sessions that never open a chart pay nothing. The chart follows the page's theme.
"""

from __future__ import annotations

import html
import time

import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import (
    BoxAnnotation,
    ColumnDataSource,
    CrosshairTool,
    FixedTicker,
    HoverTool,
    Label,
    NumeralTickFormatter,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from app.history import service
from app.history.bars import Bar
from app.history.service import History
from app.hub.hub import Hub
from app.quotes import format_price
from app.views import theme
from app.views.candles import (
    DOWN,
    RANGES,
    UP,
    Axis,
    bucket,
    candle_columns,
    extended_hours,
    x_window,
)

__all__ = ["DOWN", "RANGES", "UP", "TickerChart", "candle_columns"]

#: Seconds after asking for earlier days at which the chart reads the store again (the
#: writer stores a backfill on its own thread).
RELOAD_AFTER_S = (1.0, 4.0, 12.0)
#: Shades of the extended hours (one object per stretch on view; few).
MAX_SHADES = 12


class TickerChart(pn.viewable.Viewer):
    """Candles, volume, previous close and the live price of ``symbol``."""

    hub = param.ClassSelector(class_=Hub)
    symbol = param.String()
    history = param.ClassSelector(class_=History, default=None, allow_None=True,
                                  doc="Where the candles come from (default: the process's).")
    range = param.Selector(default="1 day", objects=list(RANGES))
    theme = param.Selector(default=None, objects=[None, *theme.THEMES], allow_None=True,
                           doc="light, dark or auto (the browser's); default: the page's "
                           "?theme=.")

    def __init__(self, **params):
        super().__init__(**params)
        if self.history is None:
            self.history = service.get()
        if self.theme is None:
            self.theme = theme.theme_from_arg(pn.state.session_args.get("theme", [b""])[0]
                                              .decode("utf-8", "replace"))
        self._colors = theme.chart_colors(self.theme)
        self._bars = ColumnDataSource(candle_columns([]))
        self._x = Range1d(0, 1)  # the range's window (x_window), not the data's extent
        q = self.hub.quote(self.symbol)
        self._last_volume = q.traded if q else 0.0
        self._prev = Span(dimension="width", line_dash="dashed", line_alpha=0.7,
                          line_color="#888888", location=None)
        # The live price: a dotted line across the plot, its price marked at the right.
        self._last = Span(dimension="width", line_dash="dotted", line_width=1,
                          line_color=self._colors["last"], location=None)
        self._last_mark = Label(x=0, y=0, text="", visible=False, x_offset=-2,
                                text_align="right", text_baseline="middle",
                                text_font_size="11px", text_color="#ffffff",
                                background_fill_color=self._colors["last"],
                                background_fill_alpha=0.9)
        self._shades = [BoxAnnotation(visible=False, fill_alpha=self._colors["shade_alpha"],
                                      fill_color=self._colors["shade"], line_alpha=0,
                                      level="underlay") for _ in range(MAX_SHADES)]
        self._glyphs: list = []  # (glyph, share of a candle's time it is wide)
        self._axis: Axis | None = None  # several days: nights and weekends closed up
        self._xaxes: list = []  # the time axes, and their own ticker (set in _figure)
        self._auto_ticker = None
        self._reloads: list[float] = []
        self._cycle = self.hub.cycle
        self._load_bars()
        self._title = pn.pane.HTML(self._caption(), css_classes=["photon-chart-title"],
                                   styles={"flex": "1 1 16em"},  # the rest of the line
                                   stylesheets=[theme.TEXT_CSS])
        self._ranges = pn.widgets.RadioButtonGroup.from_param(
            self.param.range, css_classes=["photon-chart-ranges"], name="", width=260,
            stylesheets=[theme.BUTTONS_CSS])
        self._close = pn.widgets.Button(label="Close chart", width=110,
                                        stylesheets=[theme.BUTTONS_CSS])
        self._callback = pn.state.add_periodic_callback(self.update,
                                                        self.hub.push_interval_floor_ms)
        self._layout = pn.Column(
            # wraps on a phone: the caption above the buttons, not squeezed beside them
            # (a Row that wraps: Panel's FlexBox evaluates strings, which the CSP refuses)
            pn.Row(self._title, self._ranges, self._close, sizing_mode="stretch_width",
                   styles={"flex-wrap": "wrap", "align-items": "center"}),
            pn.pane.Bokeh(self._figure(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width", css_classes=["photon-chart"])

    def on_close(self, callback) -> None:
        """Call ``callback()`` when the viewer presses Close."""
        self._close.on_click(lambda _event: callback())

    # -- data -------------------------------------------------------------------
    @property
    def seconds(self) -> int:
        """Length of one candle in the range on view."""
        return RANGES[self.range].seconds

    @param.depends("range", watch=True)
    def _load_bars(self) -> None:
        """Candles of the chosen range from the store (none without a store)."""
        spec = RANGES[self.range]
        bars: list[Bar] = []
        store = self.history
        if store is not None:
            if spec.days:
                if spec.days > 1 and store.request_days(self.symbol, spec.days):
                    now = time.monotonic()  # fetched: the writer stores them shortly
                    self._reloads = [now + d for d in RELOAD_AFTER_S]
                bars = store.sessions(self.symbol, spec.days, spec.interval)
            else:
                latest = store.latest(self.symbol)
                end = (latest if latest is not None else int(self._now())) + 60
                bars = store.bars(self.symbol, spec.interval, end - spec.span_s, end)
        self._axis = Axis.of([b.t for b in bars], spec.seconds) \
            if spec.days > 1 and bars else None
        self._bars.data = candle_columns(bars, spec.seconds,
                                         self._axis.xs if self._axis else None)
        for glyph, share in self._glyphs:
            glyph.width = spec.seconds * 1000 * share
        start, end = x_window(spec, bars, self._now())
        if self._axis is not None:
            start, end = self._axis.xs[0] * 1000.0, (self._axis.xs[-1] + spec.seconds) * 1e3
        self._x.update(start=start, end=end, reset_start=start, reset_end=end)
        self._shade(bars[0].t * 1000.0 if self._axis else start,
                    bars[-1].t * 1000.0 + spec.seconds * 1e3 if self._axis else end)
        self._label_days()
        q = self.hub.quote(self.symbol)
        self._prev.location = q.prev_close if q and q.prev_close else None
        if q is not None and q.last is not None:
            self._mark_last(q.last)
        if hasattr(self, "_title"):  # built (the first load comes before the caption)
            self._title.object = self._caption()

    def _shade(self, start: float, end: float) -> None:
        """Shade the extended hours between ``start`` and ``end`` (ms, real time)."""
        spans = extended_hours(self.symbol, start, end)[:MAX_SHADES]
        x = (lambda ms: self._axis.x(ms / 1000) * 1000) if self._axis else (lambda ms: ms)
        for i, box in enumerate(self._shades):
            if i < len(spans):
                box.update(left=x(spans[i][0]), right=x(spans[i][1]), visible=True)
            else:
                box.visible = False

    def _label_days(self) -> None:
        """Several days closed up: a tick at each day's first candle, named by its date;
        otherwise Bokeh's own time ticks."""
        if not self._xaxes:
            return
        ticks = self._axis.day_ticks(
            lambda t: time.strftime("%a %d %b", time.gmtime(t))) if self._axis else {}
        for axis in self._xaxes:
            if ticks:
                axis.update(ticker=FixedTicker(ticks=list(ticks)),
                            major_label_overrides=ticks)
            else:
                axis.update(ticker=self._auto_ticker, major_label_overrides={})

    def _mark_last(self, price: float) -> None:
        self._last.location = price
        self._last_mark.update(x=self._x.end, y=price, text=format_price(price),
                               visible=True)

    def _now(self) -> float:
        q = self.hub.quote(self.symbol)
        return q.ts if q and q.ts else time.time()

    def _fold_quote(self, price: float, ts: float, traded: float) -> None:
        """The current candle follows the live price; a new one opens after it."""
        step = self.seconds
        t = bucket(ts, step)
        data = self._bars.data
        times, starts = data["time"], data["start"]
        x = self._axis.next_x(t) if self._axis else t
        centre = x * 1000 + step * 500
        if starts and starts[-1] == t * 1000:
            i = len(times) - 1
            o, h, lo = data["o"][i], max(data["h"][i], price), min(data["l"][i], price)
            self._bars.patch({"h": [(i, h)], "l": [(i, lo)], "c": [(i, price)],
                              "v": [(i, data["v"][i] + traded)],
                              "top": [(i, max(o, price))], "bottom": [(i, min(o, price))],
                              "color": [(i, UP if price >= o else DOWN)]})
        elif not starts or t * 1000 > starts[-1]:
            # Follow a new candle at the chart's right edge (not a closed market's gap).
            follow = not times or centre - 3 * step * 1000 <= self._x.end
            if self._axis is not None:
                self._axis = Axis.of([*self._axis.starts, t], step)
            self._bars.stream(candle_columns([Bar(t, price, price, price, price, traded)],
                                             step, (x,)))
            if follow:
                end = (x + step) * 1000
                shift = end - self._x.end if RANGES[self.range].span_s else 0
                self._x.update(start=self._x.start + max(shift, 0), end=max(end, self._x.end))

    # -- the figure --------------------------------------------------------------
    def _figure(self):
        colors = self._colors
        crosshair = Span(dimension="height", line_dash="dashed", line_alpha=0.5,
                         line_color=colors["axis"])
        style = {"background_fill_alpha": 0.0, "border_fill_alpha": 0.0,
                 "outline_line_color": None, "sizing_mode": "stretch_width",
                 "x_axis_type": "datetime"}
        price = figure(height=260, x_range=self._x, tools="pan,xwheel_zoom,reset",
                       toolbar_location="right", y_axis_label="price", **style)
        price.segment("time", "h", "time", "l", source=self._bars, color="color")
        bodies = price.vbar("time", width=self.seconds * 1000 * 0.7, top="top",
                            bottom="bottom", source=self._bars, fill_color="color",
                            line_color="color")
        # What the hover answers to: each candle's whole stretch of time, unseen, so a
        # pointer between two bodies still gets the candle it is in.
        spans = price.vbar("time", width=self.seconds * 1000, top="h", bottom="l",
                           source=self._bars, fill_alpha=0, line_alpha=0)
        for box in self._shades:
            price.add_layout(box)
        price.add_layout(self._prev)
        price.add_layout(self._last)
        price.add_layout(self._last_mark)
        # One tooltip, the candle's: only the spans answer the hover (wicks and bodies
        # share their source; without this each would add a box of its own). "vline":
        # the candle at the pointer's time ("hline" would stack every candle crossing
        # the pointer's price in one box).
        price.add_tools(CrosshairTool(overlay=crosshair), HoverTool(
            renderers=[spans], mode="vline", point_policy="follow_mouse",
            tooltips=[("time", "@start{%a %H:%M}"), ("open", "@o{0,0.00[00]}"),
                      ("high", "@h{0,0.00[00]}"), ("low", "@l{0,0.00[00]}"),
                      ("close", "@c{0,0.00[00]}"), ("volume", "@v{0,0}")],
            formatters={"@start": "datetime"}))
        volume = figure(height=90, x_range=price.x_range, tools="", toolbar_location=None,
                        y_axis_label="volume", **style)
        bars = volume.vbar("time", top="v", width=self.seconds * 1000 * 0.7,
                           source=self._bars, fill_color="color", line_color=None,
                           fill_alpha=0.6)
        self._glyphs = [(bodies.glyph, 0.7), (bars.glyph, 0.7), (spans.glyph, 1.0)]
        volume.yaxis.formatter = NumeralTickFormatter(format="0.[0]a")
        volume.yaxis.ticker.desired_num_ticks = 3
        volume.add_tools(CrosshairTool(overlay=crosshair))
        for fig in (price, volume):
            theme.style_axes(fig, colors)
        self._xaxes = [price.xaxis[0], volume.xaxis[0]]
        self._auto_ticker = price.xaxis[0].ticker
        self._label_days()
        return column(price, volume, sizing_mode="stretch_width")

    def _caption(self) -> str:
        q = self.hub.quote(self.symbol)
        candles = len(self._bars.data["time"])
        return (f"<span class='photon-chart-caption'><b>{html.escape(self.symbol)}</b> · last "
                f"<span class='photon-chart-last'>{format_price(q.last if q else None)}</span>"
                f" · <span class='photon-chart-candles'>{candles}</span> candles"
                f" of {html.escape(RANGES[self.range].interval)}</span>")

    def update(self) -> None:
        """Fold what the hub published since the last call into the candles."""
        if self._reloads and time.monotonic() >= self._reloads[0]:
            self._reloads.pop(0)
            self._load_bars()
        changes = self.hub.changes_since(self._cycle, [self.symbol])
        self._cycle = changes.cycle
        for q in changes.quotes:
            traded = max(q.traded - self._last_volume, 0.0)
            self._last_volume = q.traded
            if q.last is not None and q.ts:
                self._fold_quote(q.last, q.ts, traded)
                self._mark_last(q.last)
            if q.prev_close and self._prev.location != q.prev_close:
                self._prev.location = q.prev_close
        if changes.quotes:
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
