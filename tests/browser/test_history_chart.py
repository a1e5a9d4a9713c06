"""History on the page: a row's chart shows a day of candles on first paint
(the mock backfills its last session), the range buttons change it, the board's
sparklines show the day. The picture goes to the test's own folder (PHOTON_DOCS_SHOTS=1
writes docs/history-chart.png for the README instead)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.helpers import open_board, wait_for_symbols
from tests.support import bars_by_now, photon_server, wait_until

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def history_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history")
    with photon_server(tmp, env={"PHOTON_HISTORY": str(tmp / "h.sqlite3")}) as s:
        yield s


def candles(page) -> int:
    loc = page.locator(".photon-chart-candles")
    return int(loc.first.inner_text()) if loc.count() else -1


def spark_points(page, symbol: str) -> int:
    return page.evaluate("""(sym) => {
        const row = window.__deepAll(`[data-symbol="${sym}"]`)[0]
        const line = row && row.querySelector("polyline")
        const pts = line && line.getAttribute("points")
        return pts ? pts.trim().split(/\\s+/).length : 0
    }""", symbol)


def test_the_chart_shows_a_day_of_candles_and_its_ranges(page, history_server, tmp_path):
    open_board(page, history_server.url("/app?symbols=NVDA,AAPL,BINANCE:BTCUSDT"))
    wait_for_symbols(page, ["NVDA", "AAPL", "BINANCE:BTCUSDT"])
    # The sparklines show the day as soon as the rows do (seeded from the backfill).
    wait_until(lambda: spark_points(page, "NVDA") >= bars_by_now("NVDA", 60), timeout=20,
               what="a day's sparkline")
    page.locator("[data-symbol=NVDA]").click()
    page.locator(".photon-chart").first.wait_for(timeout=20_000)
    # "1 day" is the trading day on record in five-minute candles: early in a trading
    # day, only its minutes so far
    day = wait_until(lambda: (n := candles(page)) >= bars_by_now("NVDA", 300) // 5 and n,
                     timeout=20, what="a day")
    page.get_by_role("button", name="15 min").click()
    wait_until(lambda: 0 < candles(page) <= 16, timeout=10, what="15 minutes of candles")
    page.get_by_role("button", name="1 day").click()
    wait_until(lambda: candles(page) >= day, timeout=10, what="the day again")
    page.wait_for_timeout(1500)  # let Bokeh draw before the picture
    # A test never rewrites tracked files; the README's picture is taken on request.
    shots = DOCS if os.environ.get("PHOTON_DOCS_SHOTS") == "1" else tmp_path
    page.screenshot(path=str(shots / "history-chart.png"), full_page=True)
    assert (shots / "history-chart.png").stat().st_size > 10_000


def test_a_paused_history_shows_on_the_status_line(page, tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"not a database" * 300)
    with photon_server(tmp_path, env={"PHOTON_HISTORY": str(path)}) as server:
        open_board(page, server.url("/app?symbols=AAPL"))
        wait_for_symbols(page, ["AAPL"])
        detail = page.locator(".photon-status-detail").first
        wait_until(lambda: "history paused" in detail.inner_text(), timeout=20,
                   what="the pause on the status line")
        assert "live" in page.locator(".photon-status-text").first.inner_text()
