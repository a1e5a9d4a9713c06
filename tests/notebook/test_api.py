"""The notebook API (app.notebook): a live board, its streaming DataFrame and charts."""

from __future__ import annotations

import math

import pandas as pd
import panel as pn
import pytest
from bokeh.models import ColumnDataSource

import app as photon
from app.history.bars import Bar
from app.history.store import BarStore
from app.hub.hub import Hub
from app.views.chart import TickerChart
from tests.support import wait_until


@pytest.fixture
def board(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=50).start()
    b = photon.board(["AAPL", "TSLA"], hub=hub)
    yield b
    b.close()
    hub.stop()


def trade(board, feed, symbol, price, ts):
    cycle = board.hub.cycle
    feed.push(symbol, price, ts=ts, size=10)
    wait_until(lambda: board.hub.cycle > cycle and board.hub.quote(symbol)
               and board.hub.quote(symbol).last == price, what=f"{symbol} at {price}")
    board._on_cycle()  # what the board's periodic callback does each cycle


def test_the_frame_is_one_row_per_symbol_and_streams_into_the_table(board, manual_feed):
    assert list(board.frame["symbol"]) == ["AAPL", "TSLA"]
    assert list(board.frame.columns) == ["symbol", "last", "change", "change_pct", "volume",
                                         "time"]
    trade(board, manual_feed, "AAPL", 101.0, ts=1_700_000_000.0)
    row = board.frame.set_index("symbol").loc["AAPL"]
    assert (row["last"], row["change"], row["volume"]) == (101.0, 1.0, 10.0)
    assert row["change_pct"] == pytest.approx(1.0)
    assert row["time"] == pd.Timestamp(1_700_000_000, unit="s", tz="UTC")
    shown = board.table.value.set_index("symbol").loc["AAPL"]  # patched, not rebuilt
    assert (shown["last"], shown["volume"]) == (101.0, 10.0)
    assert math.isnan(board.table.value.set_index("symbol").loc["TSLA"]["last"])


def test_watch_and_unwatch_follow_through_to_the_hub(board, manual_feed):
    board.watch("msft")
    assert board.symbols == ["AAPL", "TSLA", "MSFT"] and board.hub.refcount("MSFT") == 1
    assert list(board.table.value["symbol"]) == ["AAPL", "TSLA", "MSFT"]
    trade(board, manual_feed, "MSFT", 401.25, ts=1_700_000_000.123456)  # sub-second time
    shown = board.table.value.set_index("symbol").loc["MSFT"]
    assert shown["last"] == 401.25
    assert shown["time"] == pd.Timestamp(1_700_000_000.123456, unit="s", tz="UTC")
    board.unwatch("AAPL", "TSLA")
    assert board.symbols == ["MSFT"] and board.hub.refcounts() == {"MSFT": 1}


def test_history_and_ticks(board, manual_feed):
    trade(board, manual_feed, "AAPL", 101.0, ts=1_700_000_000.0)
    trade(board, manual_feed, "AAPL", 102.5, ts=1_700_000_001.0)
    history = board.history("AAPL")
    assert list(history.columns) == ["time", "price"] and list(history["price"]) == [101.0,
                                                                                   102.5]
    trade(board, manual_feed, "TSLA", 99.0, ts=1_700_000_002.0)
    ticks = board.ticks()
    assert list(ticks.columns) == ["time", "symbol", "price"]
    assert list(ticks["symbol"]) == ["AAPL", "AAPL", "TSLA"]


def test_the_table_shows_whole_times_and_volumes_with_separators(board):
    """The table is built before any quote: fitted to its data, the time column would be
    as wide as "NaT" and cut every time (it showed ``2026-12-0``)."""
    formats = {c: getattr(f, "format", None) for c, f in board.table.formatters.items()}
    assert formats["time"] == "%Y-%m-%d %H:%M:%S"  # to the second, whole
    assert formats["volume"] == "0,0[.][0000]"  # 20,693 (not 20,693.0); 0.25 for a fraction
    assert board.table.widths["time"] >= 160


def candles(chart) -> ColumnDataSource:
    """The chart's candle source, wherever its figure keeps it."""
    (bokeh,) = chart.__panel__().select(pn.pane.Bokeh)
    (source,) = [m for m in bokeh.object.references() if isinstance(m, ColumnDataSource)
                 and {"o", "h", "l", "c", "v"} <= set(m.data)]
    return source


def test_the_chart_is_the_served_charts_candles_and_follows_trades(tmp_path, monkeypatch,
                                                                   manual_feed):
    """board.chart() is the chart a browser tab opens (app/views/chart.py): the stored
    day's one-minute candles, a gap left as a gap, and the live minute folding in."""
    day = 1_795_046_400  # Thursday 19 November 2026, 00:00 UTC
    t0 = day + 15 * 3600  # 15:00 UTC, in the regular session
    stored = [Bar(t0 + 60 * i, 10 + i, 11 + i, 9 + i, 10.5 + i, 1000)
              for i in [*range(10), *range(20, 30)]]  # 15:10-15:20: no trade
    path = tmp_path / "history.sqlite3"
    BarStore(path).backfill("MSFT", stored)
    monkeypatch.setenv("PHOTON_HISTORY", str(path))
    hub = Hub(manual_feed, push_interval_ms=50).start()
    b = photon.board(["AAPL"], hub=hub)
    try:
        chart = b.chart("msft")
        assert isinstance(chart, TickerChart) and b.symbols == ["AAPL", "MSFT"]
        data = candles(chart).data
        assert [int(t // 1000 - 30) for t in data["time"]] == [bar.t for bar in stored]
        assert (data["o"], data["c"]) == ([bar.o for bar in stored], [bar.c for bar in stored])
        live = t0 + 30 * 60 + 5  # the next minute
        for price in (40.0, 41.5, 39.5):
            trade(b, manual_feed, "MSFT", price, ts=live)
            chart.update()  # what the chart's own timer does each cycle
        data = candles(chart).data
        assert len(data["time"]) == len(stored) + 1
        assert [data[k][-1] for k in "ohlc"] == [40.0, 41.5, 39.5, 39.5]
    finally:
        b.close()
        hub.stop()
    assert not chart.running  # the board's close stops its charts


def test_close_releases_everything(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=50).start()
    b = photon.board(["AAPL"], hub=hub)
    assert hub.refcounts() == {"AAPL": 1}
    b.close()
    assert hub.refcounts() == {} and hub.sessions == 0
    hub.stop()


def test_a_notebook_board_runs_at_the_served_boards_default_cadence(monkeypatch):
    """One default for the cadence: the setting's (PHOTON_PUSH_INTERVAL_MS), not the board's."""
    from app.config import load_settings

    monkeypatch.delenv("PHOTON_PUSH_INTERVAL_MS", raising=False)
    served = load_settings(env_file="/nonexistent/.env").push_interval_ms
    b = photon.board(["AAPL"], feed="mock")
    try:
        assert b.hub.push_interval_floor_ms == served == 100
        assert b._callback.period == served  # its own timer runs at the hub's cadence
    finally:
        b.close()
