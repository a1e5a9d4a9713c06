"""A live chart per ticker: clicking a row (or Enter on it) opens it under the board; it
updates every cycle; Close removes it."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser


def last(page) -> str:
    loc = page.locator(".photon-chart-last")
    return loc.first.inner_text() if loc.count() else ""


def test_a_rows_chart_opens_updates_and_closes(page, server):
    open_board(page, server.url("/app?symbols=NVDA,AAPL"))
    wait_for_symbols(page, ["NVDA", "AAPL"])
    page.locator("[data-symbol=NVDA]").click()
    page.locator(".photon-chart").first.wait_for(timeout=20_000)
    assert "NVDA" in page.locator(".photon-chart-caption").first.inner_text()
    first = wait_until(lambda: (p := last(page)).startswith("$") and p, timeout=20,
                       what="the last price")
    wait_until(lambda: last(page) not in ("", first), timeout=20, what="the chart following")
    assert page.locator(".photon-chart canvas").count() >= 1  # Bokeh drew it
    page.get_by_role("button", name="Close chart").click()
    page.locator(".photon-chart").first.wait_for(state="detached", timeout=10_000)

    page.locator("[data-symbol=AAPL]").focus()  # the keyboard way
    page.keyboard.press("Enter")
    page.locator(".photon-chart").first.wait_for(timeout=20_000)
    assert "AAPL" in page.locator(".photon-chart-caption").first.inner_text()
