"""A day that arrives late: the provider's history answers after the first live
trades were drawn. The board and the embed already open redraw their sparklines with
the day under the live points, without a reload (app/hub/quote_book.py ``resets``).

The fake Finnhub holds its ``/stock/candle`` answer until the test lets it go. The
day's closes sit at $100, far below the live trades (~$190): once the day is drawn,
the live points crowd the top of the line and the day lies along the bottom, with
nothing in between; before, the live random walk fills the height."""

from __future__ import annotations

import re
import threading

import pytest

from app.history.backfill import FinnhubBackfill
from tests.browser.helpers import open_board, wait_for_symbols
from tests.browser.test_finnhub_board import KEY, PREV_CLOSE, START, TradePump
from tests.fakes import FakeFinnhub
from tests.support import photon_server, wait_until

pytestmark = pytest.mark.browser


def heights(polyline) -> list[float]:
    """The y of each point of a sparkline (0 top, 28 bottom; app/views/spark.js)."""
    text = polyline.get_attribute("points") or ""
    return [float(y) for y in re.findall(r"[\d.]+,([\d.]+)", text)]


def live_only(ys: list[float]) -> bool:
    """A line of live points alone: some of them well inside the height."""
    return len(ys) >= 5 and any(6 < y < 22 for y in ys)


def with_the_day(ys: list[float]) -> bool:
    """The day along the bottom, the live points at the top, nothing between."""
    return any(y > 24 for y in ys) and any(y < 4 for y in ys) \
        and all(y < 4 or y > 24 for y in ys)


def test_a_late_day_is_drawn_under_the_live_points_without_a_reload(tmp_path, page):
    with FakeFinnhub(token=KEY) as fake:
        fake.quotes = {s: {"c": START[s], "d": None, "dp": None, "h": START[s] + 1,
                           "l": START[s] - 1, "o": PREV_CLOSE[s], "pc": PREV_CLOSE[s], "t": 1}
                       for s in START}
        start, end = FinnhubBackfill(KEY, fake.rest_url, None).window("AAPL")
        fake.candles["AAPL"] = [{"t": t, "o": 100.0, "h": 100.0, "l": 100.0, "c": 100.0,
                                 "v": 10} for t in range(start, end - 120, 60)]
        fake.candle_gate = threading.Event()
        pump = TradePump(fake)
        pump.thread.start()
        env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": KEY,
               "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url,
               "PHOTON_PUSH_INTERVAL_MS": "250", "PHOTON_HISTORY": str(tmp_path / "h.db")}
        try:
            with photon_server(tmp_path, env=env) as server:
                open_board(page, server.url("/app?symbols=AAPL"))
                wait_for_symbols(page, ["AAPL"])
                board_line = page.locator("[data-symbol=AAPL] .photon-sparkline polyline")
                embed = page.context.new_page()
                embed.goto(server.url("/sparkline?symbol=AAPL"))
                embed_line = embed.locator(".photon-sparkline polyline")
                wait_until(lambda: "AAPL" in fake.candle_requests, timeout=30,
                           what="the backfill asked for")
                for name, line in (("board", board_line), ("embed", embed_line)):
                    wait_until(lambda ln=line: live_only(heights(ln)), timeout=30,
                               what=f"live points drawn on the {name}, the day not yet")
                fake.candle_gate.set()  # the provider answers, late
                for name, line in (("board", board_line), ("embed", embed_line)):
                    wait_until(lambda ln=line: with_the_day(heights(ln)), timeout=30,
                               what=f"the day under the live points on the {name}")
                assert "navigated" not in " ".join(page.console[1:])  # no reload
        finally:
            fake.candle_gate.set()
            pump.stop.set()
            pump.thread.join(5)
