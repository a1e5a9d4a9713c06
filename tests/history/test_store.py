"""The SQLite bar store and its writer thread: batches, merges, pruning, faults, kill -9."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.history.bars import Bar, fold
from app.history.store import BarStore, StoreError
from app.history.writer import BarWriter
from app.ticks import Tick
from tests.support import wait_until

T0 = 1_764_000_000


def test_store_is_wal_and_merges_batches(tmp_path):
    store = BarStore(tmp_path / "h.sqlite3")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ticks = [Tick("AAPL", p, 1, T0 + i) for i, p in enumerate([10, 12, 9, 11])]
    store.write(fold(ticks[:2]))
    store.write(fold(ticks[2:]))
    assert store.bars("AAPL") == [Bar(T0, 10, 12, 9, 11, 4)]
    assert store.bars("NOPE") == []


def test_backfill_never_overwrites_recorded_minutes(tmp_path):
    store = BarStore(tmp_path / "h.sqlite3")
    store.write(fold([Tick("AAPL", 10, 1, T0 + 60)]))
    new = store.backfill("AAPL", [Bar(T0, 1, 2, 1, 2, 5), Bar(T0 + 60, 50, 50, 50, 50, 50)])
    assert new == 1
    assert store.bars("AAPL") == [Bar(T0, 1, 2, 1, 2, 5), Bar(T0 + 60, 10, 10, 10, 10, 1)]


def test_range_reads_and_pruning(tmp_path):
    store = BarStore(tmp_path / "h.sqlite3")
    store.backfill("X", [Bar(T0 + 60 * i, 1, 1, 1, 1, 1) for i in range(10)])
    assert [b.t for b in store.bars("X", T0 + 120, T0 + 300)] == [T0 + 120 + 60 * i
                                                                 for i in range(3)]
    assert store.prune(T0 + 300) == 5
    assert store.bars("X")[0].t == T0 + 300


def test_readers_see_the_writers_commits(tmp_path):
    path = tmp_path / "h.sqlite3"
    writer = BarStore(path)
    reader = BarStore(path, readonly=True)
    writer.write(fold([Tick("A", 1, 1, T0)]))
    assert reader.bars("A") == [Bar(T0, 1, 1, 1, 1, 1)]
    with pytest.raises(StoreError):
        reader.backfill("A", [Bar(T0 + 60, 1, 1, 1, 1, 1)])


def test_a_corrupt_file_is_one_clear_error(tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open .*h.sqlite3: .*not a database"):
        BarStore(path)


def test_writer_batches_off_the_callers_thread(tmp_path):
    path = tmp_path / "h.sqlite3"
    w = BarWriter(lambda: BarStore(path), flush_s=0.05, days=10_000).start()
    try:
        w.sink([Tick("A", 1.0, 1, T0), Tick("A", 3.0, 1, T0 + 1)])
        w.sink([Tick("A", 2.0, 2, T0 + 2)])
        wait_until(lambda: path.exists() and BarStore(path, readonly=True).bars("A")
                   == [Bar(T0, 1.0, 3.0, 1.0, 2.0, 4.0)], timeout=5)
        assert w.trades_written == 3 and not w.paused
    finally:
        w.stop()


def test_writer_prunes_what_is_older_than_its_days(tmp_path):
    path = tmp_path / "h.sqlite3"
    BarStore(path).backfill("A", [Bar(T0 - 3 * 86400, 1, 1, 1, 1, 1), Bar(T0, 1, 1, 1, 1, 1)])
    w = BarWriter(lambda: BarStore(path), days=2, clock=lambda: T0 + 60)
    w.sink([Tick("A", 2.0, 1, T0 + 60)])
    w.flush()
    assert [b.t for b in BarStore(path, readonly=True).bars("A")] == [T0, T0 + 60]


@pytest.mark.parametrize("fault", ["corrupt", "parent is a file"])
def test_a_store_that_cannot_be_written_pauses_history_with_one_line(tmp_path, caplog, fault):
    if fault == "corrupt":
        path = tmp_path / "h.sqlite3"
        path.write_bytes(b"garbage" * 1000)
    else:
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "h.sqlite3"
    w = BarWriter(lambda: BarStore(path), retry_s=60)
    with caplog.at_level(logging.ERROR, logger="app.history.writer"):
        for _ in range(3):
            w.sink([Tick("A", 1.0, 1, T0)])
            w.flush()
    assert "cannot open" in w.paused
    assert w.trades_dropped == 3
    lines = [r for r in caplog.records if "history paused" in r.getMessage()]
    assert len(lines) == 1


def test_a_store_that_breaks_later_pauses_and_resumes(tmp_path):
    path = tmp_path / "h.sqlite3"
    broken = {"now": False}

    def open_store():
        if broken["now"]:
            raise StoreError("cannot open: disk full (simulated)")
        return BarStore(path)

    w = BarWriter(open_store, retry_s=0, days=10_000)
    w.sink([Tick("A", 1.0, 1, T0)])
    w.flush()
    assert not w.paused
    w._store.close()  # the next write fails: as if the file went away under us
    broken["now"] = True
    w.sink([Tick("A", 2.0, 1, T0 + 1)])
    w.flush()
    assert w.paused
    broken["now"] = False
    w.sink([Tick("A", 3.0, 1, T0 + 2)])
    w.flush()
    assert not w.paused
    assert BarStore(path, readonly=True).bars("A")[0].c == 3.0


CHILD = r"""
import sys, time
from app.ticks import Tick
from app.history.store import BarStore
from app.history.writer import BarWriter
w = BarWriter(lambda: BarStore(sys.argv[1]), flush_s=0.5).start()
t0 = time.time()
print(t0, flush=True)
while True:  # one trade every 10 ms; its price is the seconds since t0, plus 1
    now = time.time()
    w.sink([Tick("KILL", 1.0 + (now - t0), 1, now)])
    time.sleep(0.01)
"""


def test_kill_9_loses_at_most_the_last_seconds(tmp_path):
    path = tmp_path / "h.sqlite3"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=root,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    try:
        t0 = float(proc.stdout.readline())
        wait_until(lambda: time.time() - t0 > 3.0, timeout=10)
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    highest = db.execute("SELECT max(h) FROM bars WHERE symbol='KILL'").fetchone()[0]
    # The newest trade stored is from at most ~2 s before the kill.
    assert highest is not None and highest - 1.0 >= (killed_at - t0) - 2.0
