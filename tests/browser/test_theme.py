"""Dark and light: the board follows prefers-color-scheme, and ``?theme=`` overrides it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import open_board

pytestmark = pytest.mark.browser

#: Colours as the viewer sees them: the page, the board's text, the status line.
COLOURS = """() => {
  const board = window.__deepAll('.photon-board')[0]
  const status = window.__deepAll('.photon-status')[0]
  const sym = window.__deepAll('.photon-body [data-symbol] .sym')[0]
  return {page: getComputedStyle(document.body).backgroundColor,
          board: getComputedStyle(board).color,
          symbol: getComputedStyle(sym).color,
          status: getComputedStyle(status).backgroundColor}
}"""


def luminance(css_rgb: str) -> float:
    r, g, b = (float(v) for v in css_rgb[css_rgb.index("(") + 1:-1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def colours(browser, server, scheme: str, query: str = "") -> dict[str, float]:
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        page.add_init_script(DEEP_QUERY)
        open_board(page, server.url(f"/app?symbols=AAPL{query}"))
        page.wait_for_function("() => window.__deepAll('.photon-body [data-symbol]').length")
        return {k: luminance(v) for k, v in page.evaluate(COLOURS).items()}
    finally:
        context.close()


def assert_dark(c: dict[str, float]) -> None:
    assert c["page"] < 0.15 and c["status"] < 0.2, c
    assert c["board"] > 0.7 and c["symbol"] > 0.7, c  # light text on the dark page


def assert_light(c: dict[str, float]) -> None:
    assert c["page"] > 0.9 and c["status"] > 0.85, c
    assert c["board"] < 0.3 and c["symbol"] < 0.3, c


def test_follows_the_browsers_colour_scheme(browser, server):
    assert_dark(colours(browser, server, "dark"))
    assert_light(colours(browser, server, "light"))


def test_theme_argument_overrides_the_browser(browser, server):
    assert_dark(colours(browser, server, "light", "&theme=dark"))
    assert_light(colours(browser, server, "dark", "&theme=light"))
