"""The status line shows how old prices are when they reach the screen ("delay N ms"),
measured in the browser with the browser-server clock offset estimated, not assumed 0."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import open_board
from tests.support import wait_until

pytestmark = pytest.mark.browser

#: Shift the page's clock, as a viewer's badly set computer would.
SKEW = "(() => { const real = Date.now; Date.now = () => real() + (%d); })()"


def shown_delay(browser, server, skew_ms: int) -> int:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(SKEW % skew_ms)
        page.add_init_script(DEEP_QUERY)
        open_board(page, server.url("/app?symbols=AAPL,TSLA,NVDA"))
        text = wait_until(lambda: re.search(r"delay (\d+) ms", page.locator(
            ".photon-status-text").inner_text()), timeout=20, what="a delay on the status line")
        page.wait_for_timeout(3000)  # a few seconds of updates: the median settles
        found = re.search(r"delay (\d+) ms", page.locator(".photon-status-text").inner_text())
        return int((found or text).group(1))
    finally:
        context.close()


@pytest.mark.parametrize("skew_ms", [0, 3_600_000, -3_600_000])
def test_delay_is_tick_to_screen_whatever_the_browsers_clock(browser, server, skew_ms):
    # Tick to screen is the wait for the next push (up to one interval: 100 ms by default)
    # plus delivery; an hour of clock skew must not show, nor be hidden as 0.
    delay = shown_delay(browser, server, skew_ms)
    assert 5 <= delay < 2000, delay
