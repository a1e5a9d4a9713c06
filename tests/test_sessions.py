"""A served Photon app: sessions subscribe through the hub and release on close.

Covers app/main.py + app_hooks.py + Dashboard lifecycle over the real Bokeh
server protocol (a raw session WebSocket, as a tab holds), and GET /health.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest

from tests.support import ROOT, RawSession, free_port, get_json, photon_server, wait_until

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photon_server(tmp_path_factory.mktemp("server")) as s:
        yield s


def test_sessions_share_one_hub_and_release_every_symbol(server):
    assert server.health()["subscriptions"] == {}
    pages = ["/app?symbols=AAPL,MSFT", "/app?symbols=aapl", "/app"]
    sessions = [RawSession(server.url(p)) for p in pages]
    try:
        health = wait_until(lambda: (h := server.health())["sessions"] == 3 and h,
                            what="three sessions")
        assert health["subscriptions"] == {"AAPL": 3, "MSFT": 1, "TSLA": 1, "GOOGL": 1}
        assert health["state"] == "live"
        wait_until(lambda: server.health()["ticks_received"] > 0, what="ticks")
    finally:
        for s in sessions:
            s.close()
    health = wait_until(lambda: (h := server.health())["sessions"] == 0 and h, timeout=30,
                        what="sessions reaped")
    assert health["subscriptions"] == {} and health["symbol_count"] == 0


def test_many_short_sessions_leave_nothing_behind(server):
    for i in range(10):
        RawSession(server.url(f"/app?symbols=NVDA,{'AMD' if i % 2 else 'INTC'}")).close()
    health = wait_until(lambda: (h := server.health())["sessions"] == 0 and h, timeout=30,
                        what="sessions reaped")
    assert health["subscriptions"] == {}


def test_health_is_json_with_feed_state(server):
    status, body = get_json(server.url("/health"))
    assert status == 200
    assert body["status"] == "ok" and body["feed"] == "mock"
    assert {"state", "last_tick_age_s", "last_message_age_s", "reconnects", "symbols",
            "sessions", "last_error"} <= set(body)


def test_cli_help_documents_the_options():
    out = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    for option in ("--feed", "--port", "--push-interval-ms", "--symbols", "--max-symbols"):
        assert option in out


def test_cli_rejects_an_unknown_feed_with_a_hint():
    res = subprocess.run([sys.executable, "-m", "app", "--feed", "mokc"], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert res.returncode != 0
    assert "(did you mean mock?)" in res.stderr


def test_panel_serve_app_serves_the_same_dashboard(tmp_path):
    """`panel serve app` from the repository root: same page, same hub, /health via plugin."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "app", "--port", str(port),
         "--plugins", "app.routes"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _status(base + "/health") == 200, timeout=60, what="panel serve")
        session = RawSession(base + "/app?symbols=NVDA")
        try:
            health = wait_until(lambda: (h := get_json(base + "/health")[1])["sessions"] and h,
                                what="session")
            assert health["subscriptions"] == {"NVDA": 1}
        finally:
            session.close()
        # the sparkline embed comes with the plugin too, on the same hub
        with urllib.request.urlopen(base + "/sparkline?symbol=NVDA", timeout=30) as r:
            page = r.read().decode()
        assert 'data-symbol="NVDA"' in page and "NVDA live price" in page
    finally:
        proc.terminate()
        proc.wait(10)


def _status(url: str) -> int:
    try:
        return get_json(url)[0]
    except OSError:
        return 0


def test_finnhub_without_a_key_fails_fast_with_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINNHUB_")}
    res = subprocess.run([sys.executable, "-m", "app", "--feed", "finnhub"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        "photon: the finnhub feed needs an API key: set FINNHUB_API_KEY (in the environment "
        "or a .env file) or FINNHUB_API_KEY_FILE; see .env.example"]


def test_metrics_in_prometheus_format(server):
    from prometheus_client.parser import text_string_to_metric_families

    def scrape() -> list:
        with urllib.request.urlopen(server.url("/metrics"), timeout=5) as r:
            text = r.read().decode()
        return [s for fam in text_string_to_metric_families(text) for s in fam.samples]

    def value(samples: list, name: str) -> float:
        return next(s.value for s in samples if s.name == name)

    session = RawSession(server.url("/app?symbols=AMD"))
    lane = session.open_fast_lane()
    try:
        samples = wait_until(lambda: (m := scrape()) and value(m, "photon_ticks_pushed_total") > 0
                             and m, what="pushed ticks counted")
        assert value(samples, "photon_ticks_received_total") > 0
        assert value(samples, "photon_sessions") >= 1
        assert value(samples, "photon_fanout_seconds_count") > 0  # fast lane: one per cycle
        states = {s.labels["state"]: s.value for s in samples if s.name == "photon_feed_state"}
        assert states["live"] == 1 and sum(states.values()) == 1
    finally:
        lane.close()
        session.close()


def test_fast_lane_streams_the_sessions_symbols_and_refuses_strangers(server):
    import json

    import websocket

    session = RawSession(server.url("/app?symbols=NVDA,KO"))
    lane = session.open_fast_lane()
    try:
        seen: set[str] = set()
        for _ in range(12):
            message = json.loads(lane.recv())
            assert message["cycle"] > 0
            seen.update(r["symbol"] for r in message["rows"])
            assert all(r["price"].startswith("$") and "points" in r for r in message["rows"])
        assert seen == {"NVDA", "KO"}
    finally:
        lane.close()
        session.close()
    stranger = websocket.create_connection(
        server.url("/photon/ticks?token=guess").replace("http://", "ws://"), timeout=10)
    opcode, data = stranger.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == 4001  # unknown session
