"""Record and replay (app.feeds.recording, app.feeds.replay): same trades, same order, any speed."""

from __future__ import annotations

import gzip
import shutil
import threading
from pathlib import Path

import pytest

from app.feeds.recording import Recorder, read
from app.feeds.replay import ReplayFeed, pacing
from app.hub.hub import Hub
from app.quotes import Quote, apply_reference, fold
from app.ticks import Reference, Tick
from tests.support import ROOT, wait_until

DEMO = ROOT / "recordings" / "mock-demo.jsonl.gz"


def test_pacing_keeps_spacing_scaled_by_speed_and_skips_the_start():
    rx = [100.0, 100.5, 101.0, 103.0]
    assert pacing(rx, 1.0) == [(0, 0.0), (1, 0.5), (2, 1.0), (3, 3.0)]
    assert pacing(rx, 10.0) == [(0, 0.0), (1, 0.05), (2, 0.1), (3, 0.3)]
    assert pacing(rx, 2.0, start_s=1.0) == [(2, 0.0), (3, 1.0)]
    assert pacing([], 5.0) == []


def test_a_recording_reads_back_what_was_recorded(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    rec = Recorder(path, "finnhub")
    rec.record_reference(Reference("AAPL", prev_close=200.0, last=201.0))
    rec.record_ticks([Tick("AAPL", 201.5, 10, 1.5), Tick("TSLA", 300.0, 1, 1.6)])
    rec.record_reference(None)  # an unknown symbol: nothing to record
    rec.close()
    back = read(path)
    assert back.feed == "finnhub" and back.started > 0
    assert back.references == {"AAPL": Reference("AAPL", prev_close=200.0, last=201.0)}
    assert [r.tick for r in back.ticks] == [Tick("AAPL", 201.5, 10.0, 1.5),
                                           Tick("TSLA", 300.0, 1.0, 1.6)]
    assert back.symbols == ["AAPL", "TSLA"]


def test_a_recording_cut_off_by_a_kill_reads_up_to_its_last_full_line(tmp_path):
    whole = tmp_path / "whole.jsonl.gz"
    shutil.copy(DEMO, whole)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(EOFError), gzip.open(cut, "rt") as f:
        f.read()
    partial, full = read(cut), read(whole)
    assert 0 < len(partial.ticks) < len(full.ticks)
    assert [r.tick for r in partial.ticks] == [r.tick for r in full.ticks[:len(partial.ticks)]]


def test_not_a_recording_is_refused(tmp_path):
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write('{"k":"tick","s":"A","p":1,"q":1,"ts":1,"rx":1}\n')
    with pytest.raises(ValueError, match="not a Photon recording"):
        read(path)


class Seen:
    """A tap: what the feed handed the hub, in order."""

    def __init__(self):
        self.ticks: list[Tick] = []
        self.lock = threading.Lock()

    def record_ticks(self, ticks):
        with self.lock:
            self.ticks.extend(ticks)

    def record_reference(self, ref):
        pass

    def close(self):
        pass


def replay_through_a_hub(speed: float) -> tuple[list[Tick], dict[str, Quote]]:
    feed = ReplayFeed(str(DEMO), speed=speed)
    seen = Seen()
    feed.add_tap(seen)
    hub = Hub(feed, push_interval_ms=20).start()
    try:
        hub.subscribe(feed.recording.symbols)
        wait_until(lambda: feed.state == "stopped", timeout=60, what="the end of the replay")
        wait_until(lambda: hub.cycle and all(
            (q := hub.quote(s)) is not None and q.volume == expected_volume(feed, s)
            for s in feed.recording.symbols), what="the last cycle published")
        return seen.ticks, {s: hub.quote(s) for s in feed.recording.symbols}
    finally:
        hub.stop()


def expected_volume(feed: ReplayFeed, symbol: str) -> float:
    return sum(r.tick.size for r in feed.recording.ticks if r.tick.symbol == symbol)


@pytest.mark.parametrize("speed", [40.0, 400.0])
def test_replay_at_any_speed_gives_the_recorded_sequence_and_quotes(speed):
    recording = read(DEMO)
    ticks, quotes = replay_through_a_hub(speed)
    assert ticks == [r.tick for r in recording.ticks]  # every trade, in recorded order
    for symbol, quote in quotes.items():
        expected = apply_reference(Quote(symbol), recording.references.get(symbol))
        for r in recording.ticks:
            if r.tick.symbol == symbol:
                expected = fold(expected, r.tick)
        assert (quote.last, quote.volume, quote.high, quote.low, quote.prev_close) == (
            expected.last, expected.volume, expected.high, expected.low, expected.prev_close)


def test_the_shipped_recording_is_small_and_made_with_the_mock_feed():
    recording = read(DEMO)
    assert recording.feed == "mock"
    assert len(recording.ticks) > 1000 and Path(DEMO).stat().st_size < 200_000
    assert set(recording.references) == set(recording.symbols)
