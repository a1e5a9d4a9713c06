"""board.bars(): a pandas DataFrame of stored bars, for notebooks."""

from __future__ import annotations

import pandas as pd

from app.history.bars import Bar
from app.history.store import BarStore


def test_bars_frame_from_the_store(tmp_path, monkeypatch):
    import app as photon

    path = tmp_path / "h.sqlite3"
    t0 = 1_795_000_000 // 3600 * 3600
    BarStore(path).backfill("ZZZ", [Bar(t0 + 60 * i, 10, 11, 9, 10 + i, 5) for i in range(120)])
    monkeypatch.setenv("PHOTON_HISTORY", str(path))
    board = photon.board(["AAPL"], feed="mock")
    try:
        df = board.bars("zzz")
        assert list(df.columns) == ["time", "open", "high", "low", "close", "volume"]
        assert len(df) == 120 and str(df["time"].dtype).startswith("datetime64")
        assert df["time"].iloc[0] == pd.Timestamp(t0, unit="s", tz="UTC")
        hourly = board.bars("ZZZ", interval="1h")
        assert list(hourly["volume"]) == [300.0, 300.0] and hourly["close"].iloc[-1] == 129
        start = pd.Timestamp(t0 + 3600, unit="s")  # naive: UTC
        assert len(board.bars("ZZZ", start=start)) == 60
        assert len(board.bars("ZZZ", start=t0, end=t0 + 600)) == 10
        assert board.bars("NOPE").empty
    finally:
        board.close()
    assert len(board.bars("ZZZ")) == 120  # closed: still reads the file
