"""The live chart of one row (app.views.chart) and how a Dashboard opens and closes it."""

from __future__ import annotations

import pytest

from app.hub import Hub
from app.views.chart import price_columns, volume_step
from app.views.dashboard import Dashboard
from tests.conftest import ManualFeed


@pytest.fixture
def hub():
    feed = ManualFeed()
    h = Hub(feed, push_interval_s=3600)
    feed.start(h._on_ticks)
    yield h
    h.stop()


def test_price_columns_are_in_milliseconds():
    assert price_columns([(1.5, 10.0), (2.0, 11.0)]) == {"time": [1500.0, 2000.0],
                                                        "price": [10.0, 11.0]}


def test_volume_step_is_what_traded_since_last_cycle():
    assert volume_step(None, 500.0) == 0.0  # first sight: no step known
    assert volume_step(500.0, 700.0) == 200.0
    assert volume_step(700.0, 50.0) == 50.0  # a new day's running volume


def test_a_row_chart_streams_each_cycle_and_closing_releases_it(hub):
    feed = hub.feed
    dash = Dashboard(hub=hub, symbols=["AAPL", "TSLA"], push_interval_ms=1000)
    feed.push("AAPL", 100.0, ts=1.0, size=10)
    hub.publish()
    dash._board._handle_msg({"type": "chart", "symbol": "AAPL"})  # what a click sends
    chart = dash.chart
    assert chart is not None and chart.symbol == "AAPL"
    assert chart.price.data["price"] == [100.0]  # seeded from the hub's history
    assert dash._chart_slot.visible and len(dash._chart_slot.objects) == 2
    feed.push("AAPL", 101.0, ts=2.0, size=30)
    feed.push("TSLA", 5.0, ts=2.0, size=1)
    hub.publish()
    chart.push()
    assert chart.price.data["price"] == [100.0, 101.0]
    assert chart.price.data["time"] == [1000.0, 2000.0]
    assert chart.volume.data["volume"] == [30.0]
    chart.push()  # nothing new: nothing streamed
    assert chart.price.data["price"] == [100.0, 101.0]
    dash._board._handle_msg({"type": "chart", "symbol": "NOPE"})  # not on the board
    assert dash.chart is chart
    dash.close_chart()
    assert dash.chart is None and not dash._chart_slot.visible
    assert dash._chart_callback is None  # no timer left running
    dash._board._handle_msg({"type": "chart", "symbol": "TSLA"})
    dash.symbols = ["AAPL"]  # its row leaves the board: the chart goes too
    assert dash.chart is None
    dash.close()
