"""Losing the server: the page says so, keeps the last prices, and comes back by itself.

Covers status.js (connection_lost / client_reconnected, reload on a new server
process) with Panel's reconnect over a real server restart on the same port.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.helpers import open_board, prices, wait_for_symbols
from tests.support import free_port, photon_server, wait_until

pytestmark = pytest.mark.browser

LIVE = "() => window.__deepAll('.photon-status[data-state=live]').length > 0"
DISCONNECTED = "() => window.__deepAll('.photon-status[data-state=disconnected]').length > 0"


def navigations(page) -> int:
    return sum(1 for line in page.console if line.startswith("navigated: "))


def test_page_survives_a_server_restart(page, tmp_path):
    port = free_port()
    with photon_server(tmp_path, port=port) as first:
        open_board(page, first.url("/app?symbols=MSFT,NVDA"))
        wait_for_symbols(page, ["MSFT", "NVDA"])
        page.wait_for_function(LIVE)
        wait_until(lambda: all(p.startswith("$") for p in prices(page).values()),
                   what="first prices")
    page.wait_for_function(DISCONNECTED, timeout=15_000)
    status = page.locator(".photon-status-text").inner_text()
    assert "Disconnected from server" in status
    last_good = prices(page)
    assert all(p.startswith("$") for p in last_good.values())  # last prices stay up

    loads = navigations(page)
    with photon_server(tmp_path, port=port):
        # Reconnected to a new server process, the page reloads itself once.
        deadline = time.monotonic() + 60
        while navigations(page) == loads:
            assert time.monotonic() < deadline, "page did not reload after reconnecting"
            page.wait_for_timeout(100)  # lets Playwright deliver events
        page.wait_for_load_state()
        page.wait_for_function(LIVE, timeout=20_000)
        wait_for_symbols(page, ["MSFT", "NVDA"])  # selection restored from the URL
        before = prices(page)
        wait_until(lambda: (now := prices(page)) != before
                   and all(p.startswith("$") for p in now.values()),
                   timeout=15, what="live prices after reconnect")
    assert page.console.count("WebSocket Connected") >= 2
