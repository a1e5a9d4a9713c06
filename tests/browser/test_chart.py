"""A live chart per row: click (or Enter) opens it, it streams, closing releases it."""

from __future__ import annotations

import pytest

from tests.browser.helpers import open_board
from tests.support import wait_until

pytestmark = pytest.mark.browser

#: Points in the open chart's price source (-1: no chart in the document).
CHART_POINTS = """() => {
  for (const doc of window.Bokeh.documents) {
    const src = doc.get_model_by_name('photon-chart-source')
    if (src) return src.data.time.length
  }
  return -1
}"""


def test_click_opens_a_live_chart_that_updates_and_closes(page, server):
    open_board(page, server.url("/app?symbols=AAPL,TSLA"))
    row = page.locator(".photon-body [data-symbol=AAPL]")
    row.wait_for()
    lane_before = server.health()["bokeh_lane_sessions"]
    row.click()
    page.locator(".photon-chart canvas").first.wait_for(timeout=20_000)
    page.wait_for_function(f"() => ({CHART_POINTS})() > 0", timeout=20_000)
    first = page.evaluate(CHART_POINTS)
    page.wait_for_function(f"(n) => ({CHART_POINTS})() > n", arg=first, timeout=20_000)
    # only this session pays: its chart is one more push on the Bokeh lane
    assert server.health()["bokeh_lane_sessions"] == lane_before + 1
    page.get_by_role("button", name="Close chart").click()
    page.locator(".photon-chart canvas").first.wait_for(state="detached", timeout=20_000)
    wait_until(lambda: server.health()["bokeh_lane_sessions"] == lane_before,
               what="the chart's push to be released")
    # Enter on a focused row opens that row's chart
    tsla = page.locator(".photon-body [data-symbol=TSLA]")
    tsla.focus()
    tsla.press("Enter")
    page.locator(".photon-chart canvas").first.wait_for(timeout=20_000)
    wait_until(lambda: server.health()["bokeh_lane_sessions"] == lane_before + 1,
               what="the TSLA chart to be fed")
