"""``photon record``, ``--record`` on a running server, and ``--feed replay:PATH``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.feeds.recording import read
from tests.support import ROOT, RawSession, photon_server, wait_until

pytestmark = pytest.mark.server

DEMO = ROOT / "recordings" / "mock-demo.jsonl.gz"


def test_photon_record_writes_trades_and_references(tmp_path):
    out = tmp_path / "rec.jsonl.gz"
    done = subprocess.run(
        [sys.executable, "-m", "app", "record", "--feed", "mock", "--symbols", "AAPL,NVDA",
         "--out", str(out), "--duration", "2"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    rec = read(out)
    assert rec.feed == "mock" and set(rec.references) == {"AAPL", "NVDA"}
    assert {r.tick.symbol for r in rec.ticks} == {"AAPL", "NVDA"}
    assert f"recorded {len(rec.ticks)} trades of 2 symbols" in done.stdout


def test_a_running_server_records_what_its_viewers_watch(tmp_path):
    out = tmp_path / "server.jsonl.gz"
    with photon_server(tmp_path, args=("--record", str(out))) as server:
        session = RawSession(server.url("/app?symbols=TSLA"))
        wait_until(lambda: server.health()["ticks_received"] > 20, what="some trades")
        session.close()
    rec = read(out)  # the server stopped: the file is complete
    assert rec.feed == "mock" and "TSLA" in rec.references
    assert len(rec.ticks) > 20 and {r.tick.symbol for r in rec.ticks} == {"TSLA"}


def test_a_replay_is_served_like_a_live_feed(tmp_path):
    with photon_server(tmp_path, args=("--feed", f"replay:{DEMO}", "--speed", "20")) as server:
        assert server.health()["state"] == "connecting"  # waits for its first viewer
        session = RawSession(server.url("/app?symbols=AAPL,NVDA"))
        try:
            health = wait_until(lambda: (h := server.health())["ticks_received"] > 0 and h,
                                what="replayed trades")
            assert (health["feed"], health["upstream"]) == ("replay", "mock")
            done = wait_until(lambda: (h := server.health())["state"] == "stopped" and h,
                              timeout=30, what="the end of the recording")
            assert "end of the recording" in done["last_error"]
        finally:
            session.close()
