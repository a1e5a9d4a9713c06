"""A live chart of one ticker, opened from its row on the board.

Prices of the last minutes as a line, with the volume traded between two updates
as bars below, a crosshair and a hover with time and price. It streams new points
(``ColumnDataSource.stream`` with a rollover) on a timer of its own that exists
only while the chart is open: sessions that never open a chart pay nothing.
"""

from __future__ import annotations

import html

import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CrosshairTool, HoverTool, Span
from bokeh.plotting import figure

from app.hub.hub import Hub
from app.quotes import format_price
from app.views import theme

#: Points a chart keeps (at the default 100 ms cadence, a few minutes of a busy name).
KEEP = 1200


class TickerChart(pn.viewable.Viewer):
    """Live price and volume of ``symbol``, read from the hub on the push cadence."""

    hub = param.ClassSelector(class_=Hub)
    symbol = param.String()

    def __init__(self, **params):
        super().__init__(**params)
        points = self.hub.history(self.symbol)
        self._prices = ColumnDataSource({"time": [t * 1000 for t, _ in points],
                                         "price": [p for _, p in points]})
        self._volume = ColumnDataSource({"time": [], "volume": []})
        q = self.hub.quote(self.symbol)
        self._last_volume = q.volume if q else 0.0
        self._cycle = self.hub.cycle
        self._title = pn.pane.HTML(self._caption(), css_classes=["photon-chart-title"],
                                   sizing_mode="stretch_width", stylesheets=[theme.TEXT_CSS])
        self._close = pn.widgets.Button(label="Close chart", color="light", width=110)
        self._callback = pn.state.add_periodic_callback(self.update,
                                                        self.hub.push_interval_floor_ms)
        self._layout = pn.Column(
            pn.Row(self._title, self._close, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self._figure(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width", css_classes=["photon-chart"])

    def on_close(self, callback) -> None:
        """Call ``callback()`` when the viewer presses Close."""
        self._close.on_click(lambda _event: callback())

    def _figure(self):
        crosshair = Span(dimension="height", line_dash="dashed", line_alpha=0.5)
        price = figure(x_axis_type="datetime", height=240, sizing_mode="stretch_width",
                       tools="pan,wheel_zoom,reset", toolbar_location="right",
                       y_axis_label="price")
        price.line("time", "price", source=self._prices, line_width=2)
        price.add_tools(CrosshairTool(overlay=crosshair), HoverTool(
            tooltips=[("time", "@time{%H:%M:%S}"), ("price", "@price{0,0.00[00]}")],
            formatters={"@time": "datetime"}, mode="vline"))
        volume = figure(x_axis_type="datetime", height=90, sizing_mode="stretch_width",
                        x_range=price.x_range, tools="", toolbar_location=None,
                        y_axis_label="volume")
        volume.vbar("time", top="volume", width=self.hub.push_interval_floor_ms * 0.8,
                    source=self._volume, fill_alpha=0.6)
        volume.add_tools(CrosshairTool(overlay=crosshair))
        return column(price, volume, sizing_mode="stretch_width")

    def _caption(self) -> str:
        q = self.hub.quote(self.symbol)
        points = len(self._prices.data["price"])
        return (f"<span class='photon-chart-caption'><b>{html.escape(self.symbol)}</b> · last "
                f"<span class='photon-chart-last'>{format_price(q.last if q else None)}</span>"
                f" · <span class='photon-chart-points'>{points}</span> points</span>")

    def update(self) -> None:
        """Stream what the hub published since the last call."""
        changes = self.hub.changes_since(self._cycle, [self.symbol])
        self._cycle = changes.cycle
        pts = changes.points.get(self.symbol)
        if pts:
            self._prices.stream({"time": [t * 1000 for t, _ in pts],
                                 "price": [p for _, p in pts]}, rollover=KEEP)
        for q in changes.quotes:
            traded = max(q.volume - self._last_volume, 0.0)
            self._last_volume = q.volume
            if traded and q.ts:
                self._volume.stream({"time": [q.ts * 1000], "volume": [traded]},
                                    rollover=KEEP)
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
