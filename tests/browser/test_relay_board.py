"""A board behind the relay: the page says "relay down" when the relay dies, and
prices flow again, without a reload, once a relay is back."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_board, prices
from tests.redisd import redis_server, relay_process
from tests.support import photon_server, wait_until

pytestmark = pytest.mark.browser


def status_text(page) -> str:
    return page.locator(".photon-status").inner_text()


def test_relay_down_is_shown_and_prices_resume_without_a_reload(tmp_path, page):
    with redis_server(tmp_path) as redisd, \
            photon_server(tmp_path, env={"PHOTON_REDIS_URL": redisd.url}) as server:
        with relay_process(tmp_path, redisd.url, name="relay-1") as relay:
            open_board(page, server.url("/app?symbols=AAPL,MSFT"))
            first = wait_until(lambda: (p := prices(page)) and "—" not in p.values() and p,
                               timeout=30, what="prices via the relay")
            wait_until(lambda: "Mock via relay" in status_text(page), what="the upstream named")
            relay.kill()
        wait_until(lambda: "relay down" in status_text(page), timeout=20,
                   what="the status line says relay down")
        assert page.locator(".photon-stale-note").first.is_visible()  # last prices, marked
        assert "delay" not in status_text(page)  # no delay figure for prices not live
        frozen = prices(page)
        assert set(frozen) == set(first) and "—" not in frozen.values()
        with relay_process(tmp_path, redisd.url, name="relay-2"):
            wait_until(lambda: "live" in status_text(page) and "relay down"
                       not in status_text(page), timeout=30, what="live again")
            wait_until(lambda: prices(page) != frozen, timeout=20, what="prices move again")
    assert not [line for line in page.console if line.startswith("navigated:")][1:], \
        "the page reloaded"
