"""A live chart of one symbol: price line over the last minutes, volume beneath.

Built from the hub's history, then fed each cycle's new points with
``ColumnDataSource.stream(..., rollover=...)``: only new points cross the wire.
Volume is what traded between two cycles (the quote's running volume, differenced),
so it needs nothing from the hub beyond what a board row already carries.
"""

from __future__ import annotations

import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CrosshairTool, HoverTool, Span
from bokeh.plotting import figure

from app.hub import Changes, Hub


def price_columns(points: list[tuple[float, float]]) -> dict[str, list[float]]:
    """Hub points (Unix s, price) as the chart's columns (Bokeh wants ms)."""
    return {"time": [t * 1000 for t, _ in points], "price": [p for _, p in points]}


def volume_step(previous: float | None, volume: float) -> float:
    """Volume traded since the last cycle (a new day's reset counts as all of it)."""
    if previous is None:
        return 0.0
    return volume - previous if volume >= previous else volume


def price_figure(symbol: str, source: ColumnDataSource, height: int = 280,
                 volume: ColumnDataSource | None = None):
    """Price line (and volume bars when given) with a crosshair and time/price hover."""
    price = figure(title=f"{symbol} · live", x_axis_type="datetime", height=height,
                   sizing_mode="stretch_width", tools="pan,wheel_zoom,reset",
                   name="photon-chart-price")
    price.line("time", "price", source=source, line_width=2)
    shared = Span(dimension="height", line_dash="dotted")
    price.add_tools(CrosshairTool(overlay=[shared, Span(dimension="width", line_dash="dotted")]),
                    HoverTool(tooltips=[("time", "@time{%H:%M:%S}"), ("price", "@price{0,0.00}")],
                              formatters={"@time": "datetime"}, mode="vline"))
    if volume is None:
        return price
    vol = figure(x_axis_type="datetime", height=max(60, height // 3), x_range=price.x_range,
                 sizing_mode="stretch_width", tools="", toolbar_location=None)
    vol.vbar("time", top="volume", width=400, source=volume, alpha=0.6)
    vol.add_tools(CrosshairTool(overlay=shared),
                  HoverTool(tooltips=[("time", "@time{%H:%M:%S}"), ("volume", "@volume{0,0}")],
                            formatters={"@time": "datetime"}, mode="vline"))
    vol.yaxis.axis_label = "volume"
    vol.yaxis.ticker.desired_num_ticks = 2
    vol.yaxis.minor_tick_line_color = None
    price.xaxis.visible = False
    return column(price, vol, sizing_mode="stretch_width")


class LiveChart(pn.viewable.Viewer):
    """One symbol's live chart for one session; :meth:`update` with each cycle's changes."""

    hub = param.ClassSelector(class_=Hub)
    symbol = param.String()
    rollover = param.Integer(default=600, doc="Points kept: the last minutes at the cadence.")

    def __init__(self, **params):
        super().__init__(**params)
        history = self.hub.history(self.symbol)
        self.price = ColumnDataSource(price_columns(history[-self.rollover:]),
                                      name="photon-chart-source")
        self.volume = ColumnDataSource({"time": [], "volume": []}, name="photon-chart-volume")
        self.cycle = self.hub.cycle
        quote = self.hub.changes_since(0, [self.symbol]).quotes
        self._last_volume: float | None = quote[0].volume if quote else None
        self._pane = pn.pane.Bokeh(price_figure(self.symbol, self.price, 260, self.volume),
                                   sizing_mode="stretch_width")

    def update(self, changes: Changes) -> None:
        """Stream this symbol's new points and the volume traded since the last cycle."""
        pts = changes.points.get(self.symbol)
        if pts:
            self.price.stream(price_columns(pts), rollover=self.rollover)
        for q in changes.quotes:
            if q.symbol == self.symbol and q.ts:
                step = volume_step(self._last_volume, q.volume)
                self._last_volume = q.volume
                if step > 0:
                    self.volume.stream({"time": [q.ts * 1000], "volume": [step]},
                                       rollover=self.rollover)

    def push(self) -> None:
        """Read this chart's changes from the hub and stream them (one cycle)."""
        changes = self.hub.changes_since(self.cycle, [self.symbol])
        self.cycle = changes.cycle
        self.update(changes)

    def __panel__(self):
        return self._pane
