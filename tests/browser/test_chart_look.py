"""The chart as a viewer sees it: dark with ?theme=dark (plot, tooltip, buttons), one
tooltip with the candle's real values, and the range buttons each a different picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.helpers import open_board, wait_for_symbols
from tests.browser.test_theme import luminance
from tests.support import photon_server, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Photon with a history store: the mock backfills its day, so every range has
    candles to hover."""
    tmp = tmp_path_factory.mktemp("chart")
    with photon_server(tmp, env={"PHOTON_HISTORY": str(tmp / "h.sqlite3")}) as s:
        yield s

#: The chart's tooltips on screen (BokehJS puts them at the top of the document).
TOOLTIPS = """() => [...document.querySelectorAll('.bk-Tooltip')]
  .filter(t => getComputedStyle(t).display !== 'none' && t.getBoundingClientRect().width > 0)
  .map(t => ({text: [...(t.shadowRoot || t).querySelectorAll('*')]
                .filter(e => e.tagName !== 'STYLE' && !e.children.length)
                .map(e => e.textContent).join(' '),
              bg: getComputedStyle(t).backgroundColor}))"""

BUTTON = """() => {
  const b = window.__deepAll('.bk-btn').find(e => e.textContent.trim() === '5 days')
  return {bg: getComputedStyle(b).backgroundColor, fg: getComputedStyle(b).color}
}"""


def open_chart(page, server, theme: str, symbol: str = "AAPL") -> None:
    open_board(page, server.url(f"/app?symbols={symbol}&theme={theme}"))
    wait_for_symbols(page, [symbol])
    page.locator(f"[data-symbol='{symbol}']").click()
    page.locator(".photon-chart canvas").first.wait_for(timeout=20_000)


def plot_luminance(page) -> float:
    """Median luminance of the price plot as painted (its canvas is see-through)."""
    shot = Image.open(io.BytesIO(page.locator(".photon-chart canvas").first.screenshot()))
    grey = sorted(shot.convert("L").getdata())
    return grey[len(grey) // 2] / 255


def hover_candles(page) -> list[list[dict]]:
    """What shows over the price plot at several places across it and up and down it
    (the pointer rests a moment at each, while the live candle updates)."""
    box = page.locator(".photon-chart canvas").first.bounding_box()
    seen = []
    for share, height in ((0.85, 0.2), (0.7, 0.5), (0.55, 0.8), (0.4, 0.3), (0.25, 0.6),
                          (0.1, 0.4)):
        page.mouse.move(box["x"] + box["width"] * share, box["y"] + box["height"] * height)
        # a busy machine draws the box late: wait for it, then read what shows
        seen.append(wait_until(lambda: page.evaluate(TOOLTIPS), timeout=15,
                               what=f"a tooltip at {share:.0%} across the plot"))
    return seen


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_chart_follows_the_theme_and_shows_one_tooltip(page, server, theme):
    open_chart(page, server, theme)
    page.get_by_role("button", name="15 min").click()
    wait_until(lambda: "of 1m" in page.locator(".photon-chart-caption").first.inner_text(),
               timeout=10, what="the 15 minutes")
    page.wait_for_timeout(500)  # let Bokeh draw
    plot, button = plot_luminance(page), page.evaluate(BUTTON)
    # Five days of candles fill the plot (nights and weekends closed up): wherever the
    # pointer is, one box, the candle's (not one per glyph, nor every candle at the
    # pointer's price stacked), with real values.
    page.get_by_role("button", name="5 days").click()
    wait_until(lambda: "of 15m" in page.locator(".photon-chart-caption").first.inner_text(),
               timeout=10, what="the 5 days")
    page.wait_for_timeout(500)
    for shown in hover_candles(page):
        assert len(shown) == 1, shown
        text = shown[0]["text"]
        assert text.count("open") == 1 and "???" not in text, text
        assert all(word in text for word in ("time", "high", "low", "close", "volume")), text
    if theme == "dark":
        assert plot < 0.2, plot
        assert luminance(shown[0]["bg"]) < 0.2 and luminance(button["bg"]) < 0.3, (shown,
                                                                                   button)
        assert luminance(button["fg"]) > 0.7, button
    else:
        assert plot > 0.85, plot
        assert luminance(shown[0]["bg"]) > 0.9 and luminance(button["bg"]) > 0.85


def test_each_range_button_shows_its_own_stretch_of_time(page, server):
    open_chart(page, server, "light")
    seen = {}
    canvas = page.locator(".photon-chart canvas").first
    for name in ("15 min", "1 h", "1 day"):
        page.get_by_role("button", name=name).click()
        # each a picture of its own, once Bokeh has drawn it (a busy machine draws late)
        seen[name] = wait_until(lambda: (shot := canvas.screenshot()) not in seen.values()
                                and shot, timeout=15, what=f"{name}: a picture of its own")
    assert len(set(seen.values())) == 3  # three different pictures
