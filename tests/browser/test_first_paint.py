"""The prices in /app's HTML: what a viewer sees before BokehJS runs, and how they give
way to the live board."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser

URL = "/app?symbols=AAPL,TSLA"


def test_without_javascript_the_page_already_shows_prices(page, browser, server):
    # a first page makes the symbols watched: the hub has their prices for the next
    open_board(page, server.url(URL))
    context = browser.new_context(java_script_enabled=False)
    try:
        static = context.new_page()

        def table():
            static.goto(server.url(URL))
            cells = static.locator("#photon-first-paint tbody tr").all_inner_texts()
            return len(cells) == 2 and all(re.search(r"\$\d", c) for c in cells) and cells

        rows = wait_until(table, timeout=30, what="prices in the page's HTML")
        assert rows[0].startswith("AAPL") and rows[1].startswith("TSLA")
        shown = static.locator("#photon-first-paint")
        assert shown.is_visible() and "prices as of page load" in shown.inner_text()
    finally:
        context.close()


def test_the_live_board_takes_its_place(page, server):
    open_board(page, server.url(URL))
    wait_for_symbols(page, ["AAPL", "TSLA"])
    page.locator("#photon-first-paint").wait_for(state="detached", timeout=10_000)
    # nothing lies over the page: the picker takes a click
    page.locator("input.choices__input").click(timeout=10_000)
    wait_until(lambda: "WebSocket Connected" in page.console, what="the page connected")
    assert page.console.errors == []
