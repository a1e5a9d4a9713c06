"""History on a hub: trades recorded, sparklines seeded, faults shown, one writer per file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from app.history.backfill import Fetched
from app.history.bars import Bar
from app.history.service import History, open_history
from app.history.store import BarStore
from app.hub.hub import Hub
from tests.conftest import ManualFeed
from tests.support import wait_until


def _hub(feed: ManualFeed) -> Hub:
    return Hub(feed, push_interval_ms=20, history_len=240).start()


def test_every_trade_the_hub_receives_lands_in_the_store(tmp_path):
    feed = ManualFeed()
    hub = _hub(feed)
    history = History(tmp_path / "h.sqlite3", flush_s=0.05).attach(hub)
    try:
        sub = hub.subscribe(["AAPL"])
        start = int(time.time()) // 60 * 60
        feed.push("AAPL", 101.0, start + 1, 10)
        feed.push("AAPL", 103.0, start + 2, 5)
        wait_until(lambda: history.bars("AAPL", "1m"), timeout=5, what="bars stored")
        wait_until(lambda: history.bars("AAPL", "1m")[-1].v == 15.0, timeout=5)
        assert history.bars("AAPL", "1m") == [Bar(start, 101.0, 103.0, 101.0, 103.0, 15.0)]
        assert history.role == "writer" and history.note() == ""
        sub.close()
    finally:
        history.close()
        hub.stop()


def test_a_broken_store_pauses_history_and_prices_keep_flowing(tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"not a database at all" * 500)
    feed = ManualFeed()
    hub = _hub(feed)
    history = History(path, flush_s=0.05).attach(hub)
    try:
        sub = hub.subscribe(["AAPL"])
        feed.push("AAPL", 101.0, time.time())
        wait_until(lambda: history.paused, timeout=5, what="history paused")
        feed.push("AAPL", 102.0, time.time())
        wait_until(lambda: (q := hub.quote("AAPL")) and q.last == 102.0, timeout=5,
                   what="live price after the fault")
        assert "history paused: cannot open" in hub.health().last_error
        assert history.status()["state"] == "paused"
        assert history.bars("AAPL") == []
        sub.close()
    finally:
        history.close()
        hub.stop()


def test_an_unusable_directory_is_a_note_not_a_crash(tmp_path):
    (tmp_path / "file").write_text("x")
    history = History(tmp_path / "file" / "h.sqlite3")
    try:
        assert history.role == "reader"
        assert history.note().startswith("history paused: cannot open")
        assert history.bars("AAPL") == []
    finally:
        history.close()


class _Day:
    """A backfill answering a fixed session."""

    is_fast = True

    def __init__(self, bars, note=""):
        self.bars, self.note, self.calls = bars, note, 0

    def window(self, symbol):
        return self.bars[0].t if self.bars else 0, 2**40

    def session(self, symbol):
        self.calls += 1
        return Fetched(list(self.bars), self.note)


def test_first_subscription_backfills_and_seeds_the_sparkline(tmp_path):
    t0 = (int(time.time()) // 60 - 100) * 60
    day = [Bar(t0 + 60 * i, 100 + i, 100 + i, 100 + i, 100 + i, 10) for i in range(90)]
    backfill = _Day(day)
    feed = ManualFeed()
    hub = _hub(feed)
    history = History(tmp_path / "h.sqlite3", flush_s=0.05, backfill=backfill).attach(hub)
    try:
        sub = hub.subscribe(["AAPL"])
        points = hub.history("AAPL")
        assert len(points) == 90 and points[-1] == (day[-1].t + 60.0, day[-1].c)
        # The first cycle after it carries the seeded points to views.
        wait_until(lambda: hub.changes_since(0, ["AAPL"]).points.get("AAPL"), timeout=5)
        wait_until(lambda: len(history.bars("AAPL")) == 90, timeout=5, what="stored")
        sub.close()
        sub = hub.subscribe(["AAPL"])  # again: the store has it, no second fetch
        assert backfill.calls == 1
        sub.close()
    finally:
        history.close()
        hub.stop()


def test_a_refused_backfill_notes_the_row_once(tmp_path):
    backfill = _Day([], note="no history on this plan")
    feed = ManualFeed()
    hub = _hub(feed)
    history = History(tmp_path / "h.sqlite3", backfill=backfill).attach(hub)
    try:
        sub = hub.subscribe(["AAPL"])
        wait_until(lambda: (q := hub.quote("AAPL")) and q.note == "no history on this plan",
                   timeout=5)
        assert backfill.calls == 1
        sub.close()
    finally:
        history.close()
        hub.stop()


def test_stored_days_seed_the_sparkline_on_first_subscription(tmp_path):
    path = tmp_path / "h.sqlite3"
    t0 = 1796396400  # Friday 2026-12-04 15:00 UTC, in the session: the hour of the test
    # does not matter (bars relative to now fall before the open early in a trading day)
    BarStore(path).backfill("TSLA", [Bar(t0 + 60 * i, 5, 5, 5, 5.0 + i, 1) for i in range(20)])
    feed = ManualFeed()
    hub = _hub(feed)
    history = History(path, write=False).attach(hub)
    try:
        sub = hub.subscribe(["TSLA"])
        assert [p for _, p in hub.history("TSLA")] == [5.0 + i for i in range(20)]
        sub.close()
    finally:
        history.close()
        hub.stop()


def test_one_writer_per_file_in_a_process_and_across_processes(tmp_path):
    path = tmp_path / "h.sqlite3"
    first, second = History(path), History(path)
    try:
        assert (first.role, second.role) == ("writer", "reader")
    finally:
        first.close()
        second.close()
    root = Path(__file__).resolve().parents[2]
    child = ("import sys; from app.history.service import History; "
             "print(History(sys.argv[1]).role, flush=True); sys.stdin.read()")
    procs = [subprocess.Popen([sys.executable, "-c", child, str(path)], cwd=root,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        roles = sorted(p.stdout.readline().strip() for p in procs)
        assert roles == ["reader", "reader", "writer"]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(10)


def test_servers_behind_a_relay_never_write(tmp_path):
    from app.config import load_settings

    settings = load_settings(environ={"PHOTON_HISTORY": str(tmp_path / "h.sqlite3")},
                             env_file=tmp_path / "none")
    object.__setattr__(settings, "redis_url", "redis://127.0.0.1:1/0")
    history = open_history(settings, ManualFeed())
    try:
        assert history.role == "reader" and history.backfill is None
    finally:
        history.close()
    off = load_settings(environ={"PHOTON_HISTORY": "off"}, env_file=tmp_path / "none")
    assert open_history(off, ManualFeed()) is None


def test_the_default_path_is_in_the_users_data_directory(tmp_path):
    from app.config import default_history_path

    assert default_history_path({"XDG_DATA_HOME": "/data"}) == "/data/photon/history.sqlite3"
    assert default_history_path({}).endswith(".local/share/photon/history.sqlite3")
