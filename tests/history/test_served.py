"""A served Photon with history on: /history, /health, sparklines on first paint, restarts."""

from __future__ import annotations

import json
import re

from tests.support import RawSession, bars_by_now, get_json, photon_server, wait_until


def _bars(server, symbol: str) -> list[dict]:
    return get_json(server.url(f"/history?symbol={symbol}&interval=1m"))[1]["bars"]


def _first_paint_points(session: RawSession, symbol: str) -> list:
    text = json.dumps(session.doc)
    found = re.search(r'"snapshot":\s*("(?:[^"\\]|\\.)*")', text)
    assert found, "no board snapshot in the document"
    rows = json.loads(json.loads(found.group(1)))
    return next(r["points"] for r in rows if r["symbol"] == symbol)


def test_history_is_served_seeds_first_paint_and_survives_a_restart(tmp_path):
    path = tmp_path / "history.sqlite3"
    env = {"PHOTON_HISTORY": str(path)}
    with photon_server(tmp_path, env=env) as server:
        session = RawSession(server.url("/app?symbols=AAPL,TSLA"))
        try:
            # The mock backfills its last session, then live trades fold in.
            bars = wait_until(lambda: len(b := _bars(server, "AAPL")) > bars_by_now("AAPL", 60)
                              and b, timeout=20,
                              what="a day of bars")
            assert [b["t"] for b in bars] == sorted(b["t"] for b in bars)
            health = server.health()["history"]
            assert health["role"] == "writer" and health["state"] == "on"
            wait_until(lambda: server.health()["history"]["trades_written"] > 0, timeout=20)
        finally:
            session.close()
        stored = len(_bars(server, "AAPL"))
    with photon_server(tmp_path, env=env) as server:
        assert len(_bars(server, "AAPL")) >= stored  # survived the restart
        first = RawSession(server.url("/app?symbols=AAPL"))
        try:
            # The day, seeded from the store, is in the next board's first paint.
            def painted():
                other = RawSession(server.url("/app?symbols=AAPL"))
                try:
                    return len(_first_paint_points(other, "AAPL"))
                finally:
                    other.close()
            assert wait_until(lambda: painted() >= bars_by_now("AAPL", 60), timeout=10,
                              what="a painted day")
        finally:
            first.close()


def test_an_alpaca_symbol_shows_the_providers_bars_on_first_subscription(tmp_path):
    import time
    from datetime import UTC, datetime

    from app.history.backfill import last_session
    from tests.fakes import FakeAlpaca

    start, end = last_session("AAPL", time.time())

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    with FakeAlpaca("PK-HIST", "sk-hist") as fake:
        fake.snapshot("AAPL", prev_close=188.0, last=190.0)
        fake.bars["AAPL"] = [{"t": iso(t), "o": 189.0, "h": 189.5, "l": 188.5,
                              "c": 189.0 + (t - start) / 86400, "v": 1000}
                             for t in range(start, end, 60)]
        env = {"PHOTON_FEED": "alpaca", "ALPACA_API_KEY_ID": "PK-HIST",
               "ALPACA_API_SECRET_KEY": "sk-hist", "ALPACA_WS_URL": fake.ws_url,
               "ALPACA_REST_URL": fake.rest_url, "PHOTON_HISTORY": str(tmp_path / "h.db")}
        with photon_server(tmp_path, env=env) as server:
            session = RawSession(server.url("/app?symbols=AAPL"))
            try:
                bars = wait_until(lambda: len(b := _bars(server, "AAPL")) == len(fake.bars["AAPL"])
                                  and b, timeout=20, what="Alpaca's bars in /history")
                assert [b["t"] for b in bars] == list(range(start, end, 60))
                assert bars[0]["o"] == 189.0 and bars[-1]["v"] == 1000
                assert fake.bars_requests[0]["timeframe"] == "1Min"
                assert "sk-hist" not in server.output()
            finally:
                session.close()


def test_a_corrupt_store_is_a_visible_pause_and_prices_keep_flowing(tmp_path):
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database" * 200)
    with photon_server(tmp_path, env={"PHOTON_HISTORY": str(path)}) as server:
        session = RawSession(server.url("/app?symbols=AAPL"))
        try:
            health = wait_until(lambda: (h := server.health())["history"]["state"] == "paused"
                                and h, timeout=20, what="history paused")
            assert "history paused: cannot open" in health["last_error"]
            assert health["status"] == "ok" and health["state"] == "live"
            ticks = health["ticks_received"]
            wait_until(lambda: server.health()["ticks_received"] > ticks, timeout=20,
                       what="prices still flowing")
            assert server.output().count("history paused") == 1  # one line in the log
        finally:
            session.close()
