"""The trading day on the page: rows and the status line say "after hours" or "market
closed" outside the regular session (PHOTON_MARKET_HOURS holds the phase, so the test
does not depend on the hour it runs at), and VOLUME is the day's, as /history has it."""

from __future__ import annotations

import time

import pytest

from app.market_hours import day_window
from tests.browser.helpers import open_board, prices, wait_for_symbols
from tests.support import get_json, photon_server, wait_until

pytestmark = pytest.mark.browser

SESSIONS = """() => Object.fromEntries(window.__deepAll('.photon-body [data-symbol]')
  .map(r => [r.dataset.symbol, r.querySelector('.photon-session').textContent]))"""
VOLUMES = """() => Object.fromEntries(window.__deepAll('.photon-body [data-symbol]')
  .map(r => [r.dataset.symbol, r.querySelector('.vol').textContent]))"""


def status(page) -> str:
    return page.locator(".photon-status-text").first.inner_text()


def volume(text: str) -> float:
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}.get(text[-1:], 1)
    return float(text.rstrip("KMB")) * scale


@pytest.mark.parametrize(("hours", "words"), [("pre", "pre-market"), ("post", "after hours"),
                                              ("closed", "market closed")])
def test_rows_and_status_say_the_phase_of_the_day(page, tmp_path, hours, words):
    with photon_server(tmp_path, env={"PHOTON_MARKET_HOURS": hours}) as server:
        open_board(page, server.url("/app?symbols=AAPL,TSLA"))
        wait_for_symbols(page, ["AAPL", "TSLA"])
        wait_until(lambda: page.evaluate(SESSIONS) == {"AAPL": words, "TSLA": words},
                   timeout=15, what=f"rows saying {words}")
        wait_until(lambda: f"Mock · {words}" in status(page), timeout=15,
                   what=f"the status line saying {words}")
        assert page.locator(f"[data-symbol=AAPL][data-session='{words}']").count() == 1
        if hours == "closed":  # nothing trades: the prices stay as they were
            before = prices(page)
            page.wait_for_timeout(2000)
            assert prices(page) == before
        # Bitcoin trades around the clock: its row is simply live, and so is the board.
        page.goto(server.url("/app?symbols=AAPL,BINANCE:BTCUSDT"))
        wait_for_symbols(page, ["AAPL", "BINANCE:BTCUSDT"])
        wait_until(lambda: page.evaluate(SESSIONS) == {"AAPL": words, "BINANCE:BTCUSDT": ""},
                   timeout=15, what="bitcoin live beside the stock")
        wait_until(lambda: "Mock · live" in status(page), timeout=15, what="live")


def test_volume_is_the_days_as_history_has_it(page, tmp_path):
    env = {"PHOTON_HISTORY": str(tmp_path / "h.sqlite3")}
    with photon_server(tmp_path, env=env) as server:
        open_board(page, server.url("/app?symbols=AAPL"))
        wait_for_symbols(page, ["AAPL"])
        head = page.get_by_role("button", name="Volume")
        assert head.get_attribute("title").startswith("Volume today")

        def agree():
            shown = volume(page.evaluate(VOLUMES)["AAPL"])
            start, _ = day_window("AAPL", time.time())
            _, body = get_json(server.url(f"/history?symbol=AAPL&interval=1m&start={start}"))
            stored = sum(b["v"] for b in body["bars"] if b["t"] >= start)
            # three significant figures on the board; the writer stores twice a second
            return stored > 0 and abs(shown - stored) <= 0.01 * stored and (shown, stored)
        shown, stored = wait_until(agree, timeout=20, what="the board's volume = /history's")
        start, _ = day_window("AAPL", time.time())
        if time.time() - start > 1800:  # half an hour of a day, not the trades since load
            assert stored > 100_000, stored
        page.reload()  # and again after a reload: not counted from zero
        wait_for_symbols(page, ["AAPL"])
        wait_until(agree, timeout=20, what="the same after a reload")
