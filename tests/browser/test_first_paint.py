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


def test_prices_left_alone_hide_themselves_after_30_s(page):
    """Should the board never come (a script failed), prices 'as of page load' do not
    stay over the page: the table's own CSS hides it after 30 s (no script needed)."""
    from app.views.first_paint import first_paint_html

    row = {"symbol": "AAPL", "last": 1.0, "price": "$1.00", "change": "+0.10 (+10.00%)",
           "trend": 1, "volume": "1", "points": []}
    page.set_content(first_paint_html([row]))
    table = page.locator("#photon-first-paint")
    assert table.is_visible()
    page.evaluate("() => { for (const a of document.getAnimations()) a.currentTime = 29000 }")
    assert table.is_visible()
    page.evaluate("() => { for (const a of document.getAnimations()) a.currentTime = 30001 }")
    assert not table.is_visible()
