"""The live chart of one ticker (app.views.chart) and its place on the board."""

from __future__ import annotations

from app.hub.hub import Hub
from app.views.chart import TickerChart
from app.views.dashboard import Dashboard
from tests.support import wait_until


def publish(hub, feed, symbol, price, ts, size=10):
    cycle = hub.cycle
    feed.push(symbol, price, ts=ts, size=size)
    wait_until(lambda: hub.cycle > cycle and hub.quote(symbol).last == price, what="a cycle")


def test_the_chart_streams_prices_and_the_volume_between_updates(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=1000.0)
            chart = TickerChart(hub=hub, symbol="AAPL")
            prices = chart._prices.data
            assert prices["price"] == [101.0] and prices["time"] == [1_000_000.0]
            publish(hub, manual_feed, "AAPL", 102.0, ts=1001.0, size=25)
            chart.update()
            assert chart._prices.data["price"] == [101.0, 102.0]
            assert chart._volume.data["volume"] == [25.0]  # traded since the chart opened
            assert "$102.00" in chart._title.object and ">2<" in chart._title.object
            chart.close()
            assert not chart.running
    finally:
        hub.stop()


def test_the_board_opens_one_chart_of_its_own_tickers_and_closes_it(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=20).start()
    dash = Dashboard(hub=hub, symbols=["AAPL", "TSLA"])
    try:
        dash.open_chart("MSFT")  # not on this board: nothing
        assert dash.chart is None
        dash.board._handle_msg({"type": "chart", "symbol": "AAPL"})  # a row was clicked
        first = dash.chart
        assert first is not None and first.symbol == "AAPL" and first.running
        dash.open_chart("TSLA")  # one at a time: the first one stops
        assert not first.running and dash.chart.symbol == "TSLA"
        dash.select(["AAPL"])  # its ticker leaves the board: the chart goes too
        assert dash.chart is None
        dash.open_chart("AAPL")
        chart = dash.chart
        dash.close()
        assert not chart.running
    finally:
        dash.close()
        hub.stop()
