"""Both ways ticks reach the page: the fast lane (default) and Bokeh model updates.

Covers fastlane.py + board.js's socket, and the Bokeh path the notebook and
PHOTON_TRANSPORT=bokeh use; the board must behave the same on both.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import FLASH_RECORDER, open_board, parse_price, wait_for_symbols
from tests.support import photon_server

pytestmark = pytest.mark.browser


def watch(page, url: str) -> dict:
    """Open the board, count WebSocket traffic per URL for 4 s, record flashes."""
    sockets: dict[str, list[float]] = {}

    def on_ws(ws):
        frames = sockets.setdefault(ws.url.split("?")[0], [])
        ws.on("framereceived", lambda f: frames.append(time.monotonic()))

    page.on("websocket", on_ws)
    open_board(page, url)
    wait_for_symbols(page, ["NVDA", "TSLA"])
    page.evaluate(FLASH_RECORDER)
    start = time.monotonic()
    page.wait_for_timeout(4000)
    return {"flashes": page.evaluate("() => window.__flashes"),
            "frames": {u: len([t for t in ts if t >= start]) for u, ts in sockets.items()}}


def check_flashes(flashes: list[dict]) -> None:
    assert len(flashes) >= 8 and {f["symbol"] for f in flashes} == {"NVDA", "TSLA"}
    for f in flashes:
        assert (f["dir"] == "up") == (parse_price(f["after"]) > parse_price(f["before"])), f


def test_fast_lane_carries_the_ticks(page, server):
    seen = watch(page, server.url("/app?symbols=NVDA,TSLA"))
    check_flashes(seen["flashes"])
    lane = [n for u, n in seen["frames"].items() if u.endswith("/photon/ticks")]
    bokeh = [n for u, n in seen["frames"].items() if u.endswith("/app/ws")]
    # Ticks come over the fast lane: ~10 cycles a second when idle; a loaded machine
    # stretches the cadence (at most 1 s), so a few in the window is all that is sure.
    assert lane and lane[0] >= 3
    # Bokeh only carries the status line now (3 frames a message, about 1 a second).
    assert bokeh and bokeh[0] <= 3 * 6


def test_bokeh_transport_works_the_same(page, tmp_path):
    with photon_server(tmp_path, env={"PHOTON_TRANSPORT": "bokeh"}) as bokeh_server:
        seen = watch(page, bokeh_server.url("/app?symbols=NVDA,TSLA"))
        # The session is pushed by the hub's cycles (the Bokeh lane), not a timer of its own.
        assert bokeh_server.health()["bokeh_lane_sessions"] == 1
    check_flashes(seen["flashes"])
    assert not any(u.endswith("/photon/ticks") for u in seen["frames"])
