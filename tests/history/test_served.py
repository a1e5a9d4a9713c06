"""A served Photon with history on: /history, /health, sparklines on first paint, restarts."""

from __future__ import annotations

import json
import re

from tests.support import RawSession, get_json, photon_server, wait_until


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
            bars = wait_until(lambda: len(b := _bars(server, "AAPL")) > 60 and b, timeout=20,
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
            assert wait_until(lambda: painted() >= 60, timeout=10, what="a painted day")
        finally:
            first.close()
