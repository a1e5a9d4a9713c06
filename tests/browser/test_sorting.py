"""Sorting: a click on a column header sorts, a second click reverses; the order is in
the URL (?sort=) and comes back on load; it holds while prices move (re-sorted at most
once a second, never while the pointer is over the rows)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.browser.handfeed import hand_feed
from tests.browser.helpers import board_symbols, open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser

#: Change vs previous close: AAPL +1 %, MSFT -2 %, TSLA +3 %.
PREV = {"AAPL": 200.0, "MSFT": 400.0, "TSLA": 100.0}
START = {"AAPL": 202.0, "MSFT": 392.0, "TSLA": 103.0}


@pytest.fixture(scope="module")
def feed(tmp_path_factory):
    with hand_feed(tmp_path_factory.mktemp("sorting"), START, PREV) as f:
        yield f


def url_sort(page) -> str | None:
    query = parse_qs(page.evaluate("() => location.search").lstrip("?"))
    return query.get("sort", [None])[0]


def aria_sort(page, column: str) -> str | None:
    head = page.locator("[role=columnheader]", has=page.get_by_role("button", name=column))
    return head.get_attribute("aria-sort")


def test_headers_sort_and_reverse_and_the_url_keeps_it(page, feed):
    open_board(page, feed.url("/app?symbols=AAPL,MSFT,TSLA"))
    wait_for_symbols(page, ["AAPL", "MSFT", "TSLA"])  # the picker's order
    assert aria_sort(page, "Change") is None

    page.get_by_role("button", name="Change").click()
    wait_for_symbols(page, ["MSFT", "AAPL", "TSLA"])  # -2 %, +1 %, +3 %
    assert aria_sort(page, "Change") == "ascending"
    wait_until(lambda: url_sort(page) == "change", what="?sort=change")

    page.get_by_role("button", name="Change").click()
    wait_for_symbols(page, ["TSLA", "AAPL", "MSFT"])
    assert aria_sort(page, "Change") == "descending"
    assert aria_sort(page, "Symbol") is None
    wait_until(lambda: url_sort(page) == "-change", what="?sort=-change")

    page.get_by_role("button", name="Last").click()
    wait_for_symbols(page, ["TSLA", "AAPL", "MSFT"])  # 103, 202, 392
    page.get_by_role("button", name="Symbol").click()
    wait_for_symbols(page, ["AAPL", "MSFT", "TSLA"])
    wait_until(lambda: url_sort(page) == "symbol", what="?sort=symbol")

    page.goto(feed.url("/app?symbols=AAPL,MSFT,TSLA&sort=-last"))  # a link or a reload
    wait_for_symbols(page, ["MSFT", "AAPL", "TSLA"])
    assert aria_sort(page, "Last") == "descending"


def test_order_follows_prices_but_not_under_the_pointer(page, feed):
    open_board(page, feed.url("/app?symbols=AAPL,MSFT,TSLA&sort=-change"))
    for sym, price in START.items():
        feed.trade(sym, price)
    wait_for_symbols(page, ["TSLA", "AAPL", "MSFT"])

    feed.trade("MSFT", 420.0)  # +5 %: moves to the top within a second or so
    wait_for_symbols(page, ["MSFT", "TSLA", "AAPL"])

    page.locator(".photon-body [data-symbol=TSLA]").hover()  # reading a row
    feed.trade("AAPL", 230.0)  # +15 %
    page.wait_for_function("() => window.__deepAll('[data-symbol=AAPL] .photon-price')[0]"
                           ".textContent === '$230.00'")
    page.wait_for_timeout(2500)  # more than two re-sort periods
    assert board_symbols(page) == ["MSFT", "TSLA", "AAPL"]  # held still under the pointer
    page.mouse.move(5, 5)  # away from the rows
    wait_for_symbols(page, ["AAPL", "MSFT", "TSLA"])
