"""The board on PHOTON_FEED=finnhub, pointed at a local fake Finnhub (WS + REST).

Covers the whole path with the real adapter: REST reference on subscribe, trades
over the fake's WebSocket, hub, session, browser; the status line in words; and
that the API key never reaches a page, a browser WebSocket frame, /health or a log.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time

import pytest

from tests.browser.helpers import (
    FLASH_RECORDER,
    open_board,
    parse_price,
    prices,
    wait_for_symbols,
)
from tests.fakes import FakeFinnhub
from tests.support import RawSession, get_json, photon_server, wait_until

pytestmark = pytest.mark.browser

KEY = "sk-test-BROWSER-7f3a9c"
START = {"AAPL": 190.00, "MSFT": 400.00}
PREV_CLOSE = {"AAPL": 188.00, "MSFT": 404.00}


class TradePump:
    """Pushes a random walk of trades for whatever the client subscribed, ~7 per second."""

    def __init__(self, fake: FakeFinnhub):
        self.fake = fake
        self.price = dict(START)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        rng = random.Random(5)
        while not self.stop.wait(0.15):
            conn = self.fake.current
            if conn is None or not conn.subscribed:
                continue
            batch = []
            for sym in sorted(conn.subscribed & set(self.price)):
                self.price[sym] = round(self.price[sym] + rng.choice([-0.05, -0.02, 0.03, 0.06]), 2)
                batch.append({"s": sym, "p": self.price[sym], "t": int(time.time() * 1000),
                              "v": rng.randint(1, 500), "c": ["1"]})
            if batch:  # the connection may go away between check and send: keep pumping
                with contextlib.suppress(Exception):
                    self.fake.trades(*batch, conn=conn)


@pytest.fixture(scope="module")
def fake():
    with FakeFinnhub(token=KEY) as f:
        f.quotes = {s: {"c": START[s], "d": None, "dp": None, "h": START[s] + 1,
                        "l": START[s] - 1, "o": PREV_CLOSE[s], "pc": PREV_CLOSE[s], "t": 1}
                    for s in START}
        pump = TradePump(f)
        pump.thread.start()
        yield f
        pump.stop.set()
        pump.thread.join(5)


@pytest.fixture(scope="module")
def finnhub_server(tmp_path_factory, fake):
    env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": KEY, "PHOTON_PUSH_INTERVAL_MS": "250",
           "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url}
    with photon_server(tmp_path_factory.mktemp("finnhub"), env=env) as s:
        yield s


def test_fake_finnhub_prices_flash_on_the_board(page, finnhub_server, fake):
    frames: list[str] = []
    page.on("websocket", lambda ws: (ws.on("framereceived", lambda f: frames.append(str(f))),
                                     ws.on("framesent", lambda f: frames.append(str(f)))))
    open_board(page, finnhub_server.url("/app?symbols=AAPL,MSFT"))
    wait_for_symbols(page, ["AAPL", "MSFT"])
    page.wait_for_function(
        "() => window.__deepAll('.photon-status[data-state=live]').length > 0", timeout=20_000)
    assert "Finnhub · live" in page.locator(".photon-status-text").inner_text()
    wait_until(lambda: all(p.startswith("$") for p in prices(page).values()), what="prices")
    page.evaluate(FLASH_RECORDER)
    # Until both symbols flashed, however long a busy machine takes.
    page.wait_for_function("() => new Set(window.__flashes.map((f) => f.symbol)).size === 2",
                           timeout=60_000)
    now = prices(page)
    assert 185 < parse_price(now["AAPL"]) < 195  # the fake's prices, not the mock's
    assert 395 < parse_price(now["MSFT"]) < 405
    flashes = page.evaluate("() => window.__flashes")
    assert {f["symbol"] for f in flashes} == {"AAPL", "MSFT"}
    for f in flashes:
        assert (f["dir"] == "up") == (parse_price(f["after"]) > parse_price(f["before"])), f
    # Change is against the REST previous close.
    aapl_change = page.locator("[data-symbol=AAPL] .chg-text").inner_text()
    expected = parse_price(now["AAPL"]) - PREV_CLOSE["AAPL"]
    assert abs(float(aapl_change.split()[0].replace(",", "")) - expected) < 0.5
    assert set(fake.rest_requests) >= {"AAPL", "MSFT"}

    # The key is nowhere a viewer or an operator can see it.
    html = page.content() + page.evaluate(
        "() => window.__deepAll('*').map(e => e.shadowRoot ? e.shadowRoot.innerHTML : '')"
        ".join('')")
    assert frames and KEY not in "".join(frames)
    assert KEY not in html
    assert KEY not in str(finnhub_server.health())
    assert KEY not in finnhub_server.output()


def test_the_server_stops_asking_for_unwatched_symbols(page, finnhub_server, fake):
    open_board(page, finnhub_server.url("/app?symbols=MSFT"))
    wait_for_symbols(page, ["MSFT"])
    wait_until(lambda: fake.current is not None and fake.current.subscribed == {"MSFT"},
               timeout=20, what="upstream carries only MSFT")


STATUS = ".photon-status-text"


def test_a_dropped_upstream_shows_stale_prices_then_recovers(page, finnhub_server, fake):
    open_board(page, finnhub_server.url("/app?symbols=AAPL"))
    wait_for_symbols(page, ["AAPL"])
    page.wait_for_function(
        "() => window.__deepAll('.photon-status[data-state=live]').length > 0", timeout=20_000)
    first = fake.current
    fake.ws_refuse_status = 503  # keep it down long enough to be seen
    fake.drop()
    page.wait_for_function(
        "() => window.__deepAll('.photon-status[data-state=down]').length > 0", timeout=20_000)
    assert "Finnhub · disconnected" in page.locator(STATUS).inner_text()
    # The page counts down to the attempt the feed scheduled.
    detail = page.locator(".photon-status-detail").inner_text()
    assert re.search(r"retrying (in \d+ s|now…)", detail), detail
    assert "retry_in_s" in finnhub_server.health()
    note = page.locator(".photon-stale-note")
    assert note.is_visible() and "last prices" in note.inner_text()
    assert prices(page)["AAPL"].startswith("$")  # last good price stays up
    fake.ws_refuse_status = None
    page.wait_for_function(
        "() => window.__deepAll('.photon-status[data-state=live]').length > 0", timeout=30_000)
    assert fake.current is not first and "AAPL" in fake.current.subscribed  # resubscribed
    # the note goes with the board's next update, not in the same message as the status
    note.wait_for(state="hidden", timeout=20_000)
    # Operators see each transition, with its reason, in the log.
    assert "feed_state feed=finnhub state=down previous=live" in finnhub_server.output()
    wait_until(lambda: "feed_state feed=finnhub state=live previous=down"
               in finnhub_server.output(), what="recovery logged")


@pytest.fixture(scope="module")
def bad_key_server(tmp_path_factory, fake):
    env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": "sk-wrong-KEY-0000",
           "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url}
    with photon_server(tmp_path_factory.mktemp("badkey"), env=env) as s:
        yield s


def test_a_bad_key_keeps_the_server_up_and_says_why(page, bad_key_server):
    open_board(page, bad_key_server.url("/app?symbols=AAPL"))
    wait_for_symbols(page, ["AAPL"])
    page.wait_for_function(
        "() => window.__deepAll('.photon-status[data-state=auth_failed]').length > 0",
        timeout=20_000)
    assert "Finnhub · authentication failed" in page.locator(STATUS).inner_text()
    assert "check FINNHUB_API_KEY" in page.locator(".photon-status-detail").inner_text()
    status, body = get_json(bad_key_server.url("/health"))
    assert status == 503 and body["state"] == "auth_failed"
    assert "sk-wrong-KEY-0000" not in bad_key_server.output() + str(body)


def test_a_burst_of_trades_is_conflated_to_the_push_cadence(page, finnhub_server, fake):
    """10,000 trades in about a second reach the browser as at most one update per cycle."""
    patches: list[float] = []

    def on_ws(ws):
        ws.on("framereceived",
              lambda f: '"msgtype":"PATCH-DOC"' in str(f) and patches.append(time.monotonic()))

    page.on("websocket", on_ws)
    open_board(page, finnhub_server.url("/app?symbols=AAPL,MSFT"))
    wait_for_symbols(page, ["AAPL", "MSFT"])
    wait_until(lambda: fake.current is not None and {"AAPL", "MSFT"} <= fake.current.subscribed,
               timeout=20, what="subscribed upstream")
    page.wait_for_timeout(1000)
    before = finnhub_server.health()["ticks_received"]
    start = time.monotonic()
    base_ms = int(time.time() * 1000)
    for batch in range(100):  # 100 messages x 100 trades, as fast as the fake sends them
        fake.trades(*({"s": ("AAPL", "MSFT")[i % 2], "p": 190 + (batch * 100 + i) % 50 / 100,
                       "t": base_ms + batch * 100 + i, "v": 1, "c": []} for i in range(100)))
    wait_until(lambda: finnhub_server.health()["ticks_received"] - before >= 10_000,
               timeout=20, what="burst received")
    page.wait_for_timeout(1500)
    window = time.monotonic() - start
    during = [t for t in patches if t >= start]
    # One board update per 250 ms cycle, plus at most one status update per second.
    assert len(during) <= window / 0.25 + window + 3, (len(during), window)
    assert prices(page)["AAPL"].startswith("$")  # and the page still shows prices


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory, fake):
    # A one-symbol plan; each viewer may pick at most that many (a per-viewer cap over
    # the plan's is refused at start-up), so the limit is reached across viewers.
    env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": KEY, "FINNHUB_MAX_SYMBOLS": "1",
           "PHOTON_MAX_SYMBOLS": "1",
           "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url}
    with photon_server(tmp_path_factory.mktemp("capped"), env=env) as s:
        yield s


def test_a_symbol_over_the_plan_limit_says_so_until_room_frees(page, capped_server, fake):
    other_viewer = RawSession(capped_server.url("/app?symbols=AAPL"))
    try:
        wait_until(lambda: fake.current.subscribed == {"AAPL"}, what="AAPL streamed upstream")
        open_board(page, capped_server.url("/app?symbols=MSFT"))
        wait_for_symbols(page, ["MSFT"])
        note = page.locator("[data-symbol=MSFT] .photon-note")
        note.wait_for(state="visible", timeout=20_000)
        assert "1-symbol limit" in note.inner_text()
        assert fake.current.subscribed == {"AAPL"}
    finally:
        other_viewer.close()  # the other viewer leaves, which makes room: MSFT streams
    note.wait_for(state="hidden", timeout=20_000)
    wait_until(lambda: fake.current.subscribed == {"MSFT"}, what="MSFT streamed upstream")
    before = prices(page)["MSFT"]
    wait_until(lambda: prices(page)["MSFT"] != before, timeout=20, what="MSFT trades shown")
