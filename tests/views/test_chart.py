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


def test_the_chart_folds_live_trades_into_candles_and_marks_the_last_price(manual_feed):
    T = int(time.time()) // 60 * 60 - 60  # a minute start, a minute ago
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=T + 20)
            chart = TickerChart(hub=hub, symbol="AAPL", range="15 min", theme="light")
            assert chart._last.location == 101.0 and chart._last_mark.text == "$101.00"
            publish(hub, manual_feed, "AAPL", 102.0, ts=T + 21, size=25)
            chart.update()
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
            assert bars["start"] == [T * 1000, (T + 60) * 1000]  # what the tooltip says
            assert chart._x.end == (T + 120) * 1000 and chart._x.start == (T + 120 - 900) * 1000
            assert chart._prev.location == 100.0  # the feed's previous close, a line
            assert chart._last.location == 100.0  # the live price: one line, no series
            assert "$100.00" in chart._title.object and ">2<" in chart._title.object
            chart.close()
            assert not chart.running
    finally:
        hub.stop()


def test_a_day_of_five_minute_candles_folds_trades_into_its_current_one(manual_feed):
    T = int(time.time()) // 300 * 300  # a five-minute start
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=T + 10)
            chart = TickerChart(hub=hub, symbol="AAPL", theme="dark")  # "1 day"
            publish(hub, manual_feed, "AAPL", 103.0, ts=T + 70, size=7)
            publish(hub, manual_feed, "AAPL", 102.0, ts=T + 130, size=3)
            chart.update()
            bars = chart._bars.data
            assert bars["time"] == [T * 1000 + 150_000] and bars["v"] == [10.0]  # 7 + 3
            assert chart._glyphs[0][0].width == 300_000 * 0.7  # bodies five minutes wide
            chart.close()
    finally:
        hub.stop()


def test_the_chart_shows_ranges_of_candles_from_the_store(manual_feed, tmp_path):
    from app.history.bars import Bar
    from app.history.service import History
    from app.history.store import BarStore

    path = tmp_path / "h.sqlite3"
    t0 = 1_795_000_000 // 3600 * 3600
    BarStore(path).backfill("BINANCE:BTCUSDT", [Bar(t0 + 60 * i, 10, 11, 9, 10.5, 1)
                                                for i in range(6 * 60)])
    history = History(path, write=False)
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["BINANCE:BTCUSDT"]):
            chart = TickerChart(hub=hub, symbol="BINANCE:BTCUSDT", history=history)
            seen = {}
            for name in ("1 day", "15 min", "1 h", "5 days"):
                chart.range = name
                seen[name] = (len(chart._bars.data["time"]), chart._x.start, chart._x.end)
            end = (t0 + 6 * 3600) * 1000
            assert seen["1 day"] == (6 * 12, t0 * 1000, end)  # its UTC day: 5-min candles
            assert seen["15 min"] == (15, end - 900_000, end)
            assert seen["1 h"] == (60, end - 3_600_000, end)
            assert seen["5 days"] == (6 * 4, t0 * 1000, end)  # quarter hours
            assert len(set(seen.values())) == 4  # no two buttons show the same picture
            assert chart._bars.data["time"][-1] == end - 450_000
            assert not any(box.visible for box in chart._shades)  # bitcoin: no extended hours
            chart.close()
    finally:
        hub.stop()
        history.close()


def test_five_days_backfills_the_earlier_days_and_shows_them_once_stored(manual_feed,
                                                                         tmp_path):
    from app.feeds.mock import MockFeed
    from app.history.backfill import MockBackfill
    from app.history.service import History
    from app.market_hours import last_sessions

    feed = MockFeed(seed=4, hours="market")
    history = History(tmp_path / "h.sqlite3", flush_s=0.05, backfill=MockBackfill(feed))
    hub = Hub(manual_feed, push_interval_ms=20).start()
    try:
        with hub.subscribe(["AAPL"]):
            publish(hub, manual_feed, "AAPL", 101.0, ts=time.time())
            history.writer.flush()
            chart = TickerChart(hub=hub, symbol="AAPL", history=history)
            chart.range = "5 days"  # asks for the four days before: stored shortly
            first = last_sessions("AAPL", time.time(), 5)[0][0]

            def shown():
                chart.update()
                return chart._bars.data["start"][:1] == [first * 1000]
            wait_until(shown, timeout=10, what="the earliest of five days on the chart")
            assert len(chart._bars.data["time"]) > 4 * 60  # four days of quarter hours
            assert sum(box.visible for box in chart._shades) >= 8  # their extended hours
            # side by side: nights and weekends closed up, a tick naming each day
            assert chart._x.end - chart._x.start < 0.85 * (time.time() - first) * 1000
            assert len(chart._xaxes[0].major_label_overrides) >= 4  # the four fetched
            chart.range = "1 day"  # one day: Bokeh's own time ticks again
            assert chart._xaxes[0].major_label_overrides == {}
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


def test_the_ranges_windows_and_the_shaded_extended_hours():
    from app.history.bars import Bar
    from app.views.candles import RANGES, bucket, candle_columns, extended_hours, x_window

    bars = [Bar(3600 * 10 + 300 * i, 1, 2, 0.5, 1.5, 9) for i in range(3)]
    assert x_window(RANGES["15 min"], bars, 0) == (35760 * 1000.0, 36660 * 1000.0)
    assert x_window(RANGES["1 day"], bars, 0) == (36000 * 1000.0, (36000 + 900) * 1000.0)
    assert x_window(RANGES["1 h"], [], 7200.5) == ((7260 - 3600) * 1000.0, 7260 * 1000.0)
    assert bucket(1000.5, 300) == 900
    cols = candle_columns(bars, 300)
    assert cols["time"][0] == 36000 * 1000 + 150_000 and cols["start"][0] == 36000 * 1000
    # Monday 2026-12-07 in New York: pre-market 04:00-09:30, after hours 16:00-20:00
    day_start, day_end = 1796634000 * 1000, 1796691600 * 1000  # 09:00 UTC to 01:00 UTC
    spans = extended_hours("AAPL", day_start, day_end)
    assert spans == [(day_start, day_start + 5.5 * 3600_000),
                     (day_end - 4 * 3600_000, day_end)]
    assert extended_hours("BINANCE:BTCUSDT", day_start, day_end) == []


def test_several_days_sit_side_by_side_with_nights_and_weekends_closed_up():
    from app.views.candles import GAP_CANDLES, Axis

    day = 86400
    starts = [0, 900, 1800, day, day + 900, 3 * day]  # a night, then a weekend
    axis = Axis.of(starts, 900)
    assert axis.xs == (0, 900, 1800, 1800 + GAP_CANDLES * 900, 1800 + 3 * 900,
                       1800 + 3 * 900 + GAP_CANDLES * 900)
    assert axis.x(450) == 450  # inside a day: its own time
    assert axis.x(day - 1) == 1800 + GAP_CANDLES * 900  # the night: at most its room
    assert axis.x(3 * day + 60) == axis.xs[-1] + 60
    assert axis.next_x(3 * day + 900) == axis.xs[-1] + 900
    assert axis.next_x(5 * day) == axis.xs[-1] + GAP_CANDLES * 900
    labels = axis.day_ticks(lambda t: f"day {t // day}")
    assert labels == {0.0: "day 0", axis.xs[3] * 1000.0: "day 1",
                      axis.xs[5] * 1000.0: "day 3"}
