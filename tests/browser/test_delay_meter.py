"""The maths of the board's ``DelayMeter`` (delay.js) (tick-to-screen delay with an estimated
browser-server clock offset), run in Chromium on made-up messages: no server.

The module is imported as it ships, from a data: URL, and fed messages whose true
delays are known, so each assertion checks the estimator, not a measurement.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DELAY_JS = Path(__file__).resolve().parents[2] / "app" / "views" / "delay.js"

#: Feed ``msgs`` ([nowMs, at, [ts, ...]], ...) to one meter; the result after each.
RUN = """
async ([src, msgs]) => {
  const { DelayMeter } = await import(src)
  const meter = new DelayMeter()
  return msgs.map(([now, at, ts]) => meter.observe(now, at, ts))
}
"""


@pytest.fixture(scope="module")
def meter_page(browser):
    page = browser.new_page()
    yield page
    page.close()


def observe(page, msgs: list[tuple[float, float, list[float]]]) -> list[int | None]:
    src = "data:text/javascript;base64," + base64.b64encode(DELAY_JS.read_bytes()).decode()
    return page.evaluate(RUN, [src, msgs])


def messages(skew_s: float, deliveries_ms: list[int], wait_ms: int = 40,
             start: float = 1_800_000_000.0, every_ms: int = 100):
    """Messages published every ``every_ms``; each carries one trade ``wait_ms`` older
    than its publication and arrives after its delivery time, on a browser clock
    ``skew_s`` ahead of the server's."""
    out = []
    for i, d in enumerate(deliveries_ms):
        at = start + i * every_ms / 1000
        now_ms = (at + d / 1000 + skew_s) * 1000
        out.append((now_ms, at, [at - wait_ms / 1000]))
    return out


@pytest.mark.parametrize("skew_s", [0.0, 3600.0, -3600.0, 0.25])
def test_offset_is_estimated_so_clock_skew_does_not_show(meter_page, skew_s):
    # Delivery 5 ms each time: the offset estimate is exact up to that 5 ms, and the
    # delay shown is the 40 ms wait, whatever the browser's clock says.
    shown = observe(meter_page, messages(skew_s, [5] * 20))
    assert shown[-1] == 40


def test_delay_counts_slow_deliveries_beyond_the_fastest(meter_page):
    # The fastest delivery (2 ms) sets the offset; the others are 102 ms, so the
    # median delay is the 40 ms wait plus the 100 ms they took over the fastest.
    shown = observe(meter_page, messages(3600.0, [2] + [102] * 20))
    assert shown[-1] == 140


def test_no_trades_means_no_delay_yet(meter_page):
    # A message that carries no new trade (a note changed) adds no delay sample.
    msgs = [(now, at, []) for now, at, _ in messages(0.0, [5] * 3)]
    assert observe(meter_page, msgs) == [None, None, None]


def test_old_samples_leave_the_window(meter_page):
    # Three seconds of slow updates, then fast ones: after the 3 s delay window the
    # median is the fast updates' delay only.
    slow = messages(0.0, [5] * 30, wait_ms=900)
    fast = messages(0.0, [5] * 40, wait_ms=40, start=1_800_000_000.0 + 3.0)
    shown = observe(meter_page, slow + fast)
    assert shown[29] == 900
    assert shown[-1] == 40


STATUS_JS = DELAY_JS.with_name("status.js")


def test_the_cadence_in_words(meter_page):
    """status.js words the cadence each update carries (``every`` in ms)."""
    src = "data:text/javascript;base64," + base64.b64encode(STATUS_JS.read_bytes()).decode()
    words = meter_page.evaluate(
        "async ([src, values]) => { const { cadenceText } = await import(src);"
        " return values.map(cadenceText) }", [src, [100, 225.4, 1000, 1500, 0, None]])
    assert words == ["every 100 ms", "every 225 ms", "every 1 s", "every 1.5 s", "", ""]
