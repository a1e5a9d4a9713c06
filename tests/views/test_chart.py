"""The live chart of one ticker (app.views.chart) and its place on the board."""

from __future__ import annotations

import time

from app.hub.hub import Hub
from app.views.chart import DOWN, TickerChart
from app.views.dashboard import Dashboard
from tests.support import wait_until


def publish(hub, feed, symbol, price, ts, size=10):
    cycle = hub.cycle
    feed.push(symbol, price, ts=ts, size=size)
    wait_until(lambda: hub.cycle > cycle and hub.quote(symbol).last == price, what="a cycle")


def test_the_chart_streams_prices_and_folds_the_current_candle(manual_feed):
    T = int(time.time()) // 60 * 60 - 60  # a minute start, a minute ago
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=T + 20)
            chart = TickerChart(hub=hub, symbol="AAPL")
            prices = chart._prices.data
            assert prices["price"] == [101.0] and prices["time"] == [(T + 20) * 1000]
            publish(hub, manual_feed, "AAPL", 102.0, ts=T + 21, size=25)
            chart.update()
            assert chart._prices.data["price"] == [101.0, 102.0]
            bars = chart._bars.data  # no store: the live candle only
            assert (bars["o"], bars["c"], bars["v"]) == ([102.0], [102.0], [25.0])
            publish(hub, manual_feed, "AAPL", 99.0, ts=T + 30, size=5)  # same minute
            chart.update()
            assert (bars["h"], bars["l"], bars["c"], bars["v"]) == ([102.0], [99.0], [99.0],
                                                                   [30.0])
            assert bars["color"] == [DOWN]
            publish(hub, manual_feed, "AAPL", 100.0, ts=T + 80, size=1)  # the next minute
            chart.update()
            assert bars["time"] == [T * 1000 + 30_000, (T + 60) * 1000 + 30_000]
            assert chart._prev.location == 100.0  # the feed's previous close, a line
            assert "$100.00" in chart._title.object and ">4<" in chart._title.object
            chart.close()
            assert not chart.running
    finally:
        hub.stop()


def test_a_day_seeded_late_redraws_the_charts_line(manual_feed):
    T = int(time.time()) // 60 * 60 - 60
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=T + 20)
            chart = TickerChart(hub=hub, symbol="AAPL")
            publish(hub, manual_feed, "AAPL", 102.0, ts=T + 21)
            chart.update()
            assert chart._prices.data["price"] == [101.0, 102.0]
            cycle = hub.cycle
            hub.seed_points("AAPL", [(T - 600 + 60 * m, 90.0) for m in range(5)])
            wait_until(lambda: hub.cycle > cycle, what="the seeded cycle")
            chart.update()
            assert chart._prices.data["price"] == [90.0] * 5 + [101.0, 102.0]
            assert chart._prices.data["time"][0] == (T - 600) * 1000
            chart.close()
    finally:
        hub.stop()


def test_the_chart_shows_ranges_of_candles_from_the_store(manual_feed, tmp_path):
    from app.history.bars import Bar
    from app.history.service import History
    from app.history.store import BarStore

    path = tmp_path / "h.sqlite3"
    t0 = 1_795_000_000 // 60 * 60
    BarStore(path).backfill("BINANCE:BTCUSDT", [Bar(t0 + 60 * i, 10, 11, 9, 10.5, 1)
                                                for i in range(6 * 60)])
    history = History(path, write=False)
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["BINANCE:BTCUSDT"]):
            chart = TickerChart(hub=hub, symbol="BINANCE:BTCUSDT", history=history)
            assert len(chart._bars.data["time"]) == 360  # "1 day": the last 24 h on record
            chart.range = "15 min"
            assert len(chart._bars.data["time"]) == 15
            assert chart._bars.data["time"][-1] == (t0 + 60 * 359) * 1000 + 30_000
            chart.range = "1 h"
            assert len(chart._bars.data["time"]) == 60
            chart.close()
    finally:
        hub.stop()
        history.close()


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


def test_the_view_ends_where_the_session_does_not_after_a_gap():
    from app.history.bars import Bar
    from app.views.chart import contiguous_end

    day = [Bar(60 * i, 1, 1, 1, 1, 1) for i in range(390)]
    assert contiguous_end(day) == 60 * 389
    assert contiguous_end([*day, Bar(60 * 389 + 86400, 1, 1, 1, 1, 1)]) == 60 * 389
