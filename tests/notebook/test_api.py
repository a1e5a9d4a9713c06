"""The notebook API (app.notebook): a live board, its streaming DataFrame and charts."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import app as photon
from app.hub.hub import Hub
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


def test_history_ticks_and_a_live_chart(board, manual_feed):
    trade(board, manual_feed, "AAPL", 101.0, ts=1_700_000_000.0)
    chart = board.chart("AAPL")
    source = chart.object.renderers[0].data_source
    assert source.data["price"] == [101.0]
    trade(board, manual_feed, "AAPL", 102.5, ts=1_700_000_001.0)
    assert source.data["price"] == [101.0, 102.5]  # streamed, not replaced
    assert source.data["time"][-1] == 1_700_000_001_000.0
    history = board.history("AAPL")
    assert list(history.columns) == ["time", "price"] and list(history["price"]) == [101.0,
                                                                                   102.5]
    trade(board, manual_feed, "TSLA", 99.0, ts=1_700_000_002.0)
    ticks = board.ticks()
    assert list(ticks.columns) == ["time", "symbol", "price"]
    assert list(ticks["symbol"]) == ["AAPL", "AAPL", "TSLA"]


def test_a_chart_keeps_at_most_chart_points(board, manual_feed):
    board.chart_points = 3
    chart = board.chart("TSLA")
    for i in range(5):
        trade(board, manual_feed, "TSLA", 100.0 + i, ts=1_700_000_000.0 + i)
    assert chart.object.renderers[0].data_source.data["price"] == [102.0, 103.0, 104.0]


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
