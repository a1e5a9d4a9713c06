"""The board on PHOTON_FEED=alpaca, pointed at a local fake Alpaca (WS + REST).

The whole path with the real adapter: snapshot reference, auth, trades, hub,
browser; a wrong key says "authentication failed" without hammering the provider;
the keys never reach a page, a browser WebSocket frame, /health or the log.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import open_board, parse_price, prices, wait_for_symbols
from tests.fakes import FakeAlpaca
from tests.support import get_json, photon_server, wait_until

pytestmark = pytest.mark.browser

KEY_ID = "PK-BROWSER-ID-4411"
SECRET = "alpaca-BROWSER-secret-9d2e"
STATUS = ".photon-status-text"


@pytest.fixture(scope="module")
def fake():
    with FakeAlpaca(KEY_ID, SECRET) as f:
        f.snapshot("AAPL", prev_close=188.0, last=190.0)
        yield f


def env_for(fake: FakeAlpaca, secret: str) -> dict[str, str]:
    return {"PHOTON_FEED": "alpaca", "ALPACA_API_KEY_ID": KEY_ID,
            "ALPACA_API_SECRET_KEY": secret, "PHOTON_PUSH_INTERVAL_MS": "250",
            "ALPACA_WS_URL": fake.ws_url, "ALPACA_REST_URL": fake.rest_url}


def test_alpaca_trades_reach_the_board_and_no_key_leaks(page, tmp_path, fake):
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    with photon_server(tmp_path, env=env_for(fake, SECRET)) as server:
        open_board(page, server.url("/app?symbols=AAPL"))
        wait_for_symbols(page, ["AAPL"])
        conn = wait_until(lambda: (c := fake.current) and "AAPL" in c.subscribed and c,
                          timeout=20, what="AAPL subscribed")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.123456789Z", time.gmtime())
        fake.trades({"S": "AAPL", "p": 191.25, "s": 10, "t": stamp}, conn=conn)
        page.wait_for_function(
            "() => window.__deepAll('[data-symbol=AAPL] .photon-price')"
            ".some(e => e.textContent.includes('191.25'))", timeout=20_000)
        assert parse_price(prices(page)["AAPL"]) == 191.25
        health = server.health()
        assert health["feed"] == "alpaca" and health["state"] == "live"
        seen = page.content() + "".join(frames) + str(health) + server.output()
        assert KEY_ID not in seen and SECRET not in seen


def test_a_wrong_key_says_authentication_failed_and_does_not_hammer(page, tmp_path, fake):
    before = fake.ws_attempts
    with photon_server(tmp_path, env=env_for(fake, "wrong-secret-77")) as server:
        open_board(page, server.url("/app?symbols=AAPL"))
        page.wait_for_function(
            "() => window.__deepAll('.photon-status[data-state=auth_failed]').length > 0",
            timeout=20_000)
        assert "Alpaca · authentication failed" in page.locator(STATUS).inner_text()
        status, body = get_json(server.url("/health"))
        assert status == 503 and body["state"] == "auth_failed"
        assert fake.ws_attempts - before == 1  # waits minutes before trying the key again
        seen = page.content() + str(body) + server.output()
        assert "wrong-secret-77" not in seen and KEY_ID not in seen
