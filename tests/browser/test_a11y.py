"""Accessibility: axe-core finds no serious or critical violation on the board (with an
alert fired, the alert editor open, the shortcuts help open), the chart and the
/sparkline embed, light and dark, nor a moderate one of the page-structure rules
(landmarks, the h1); reduced motion turns flashes into still colours; a fired alert is
read out, ordinary ticks are not."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import open_board, wait_for_symbols
from tests.support import ROOT

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

#: Moderate rules that fail the tests too: the page's structure. All content inside
#: landmarks (region), one main, one h1, and the landmarks well formed (landmark-*:
#: none nested where it must be top level, none duplicated).
STRUCTURE = ["region", "landmark-one-main", "page-has-heading-one"]

#: axe's verdict on the page as it is: what is serious or critical, and the structure.
RUN_AXE = """async (structure) => {
  const r = await axe.run(document, {resultTypes: ["violations"]})
  return r.violations.filter((v) => ["serious", "critical"].includes(v.impact)
                                    || structure.includes(v.id) || v.id.startsWith("landmark-"))
    .map((v) => ({id: v.id, impact: v.impact,
                  nodes: v.nodes.map((n) => [n.target, n.failureSummary])}))
}"""


def violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` in the repository (as .ci/run does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated by the test, as DevTools would: a <script> tag of it the page's
        # Content-Security-Policy would refuse (app/access/headers.py)
        page.evaluate(AXE.read_text())
    return page.evaluate(RUN_AXE, STRUCTURE)


@pytest.fixture
def themed(browser):
    """A page in a browser whose colour scheme is ``theme``, opened on ``path``."""
    contexts = []

    def open_page(theme: str, path: str, **options):
        context = browser.new_context(color_scheme=theme, viewport={"width": 1280,
                                                                   "height": 900}, **options)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(DEEP_QUERY)
        page.goto(path)
        return page

    yield open_page
    for c in contexts:
        c.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_board_and_chart_have_no_violations(themed, server, theme):
    page = themed(theme, server.url(f"/app?symbols=AAPL,TSLA&theme={theme}&sort=-change"
                                    "&alerts=AAPL>1,TSLA<1,bad>>1"))
    page.locator(".photon-board").wait_for(timeout=20_000)
    wait_for_symbols(page, ["AAPL", "TSLA"], timeout_ms=20_000)
    page.locator(".photon-fired-item[role=alert]").first.wait_for(timeout=10_000)
    page.wait_for_function("() => window.__deepAll('.photon-price.photon-up, "
                           ".photon-price.photon-down').length > 0", timeout=10_000)
    assert violations(page) == []  # a flash, a fired alert and a notice showing

    page.get_by_role("button", name="Alerts for TSLA").click()
    page.locator(".photon-alert-editor").wait_for()
    assert violations(page) == []
    page.keyboard.press("Escape")

    page.locator("[data-symbol=AAPL]").focus()
    page.keyboard.press("?")
    page.locator(".photon-help").wait_for()
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.locator(".photon-help").wait_for(state="hidden")

    page.locator(".photon-body [data-symbol=AAPL] .sym").click()
    page.locator(".photon-chart canvas").first.wait_for(timeout=20_000)
    assert violations(page) == []
    # one main landmark, holding the board and the chart opened from it; the heading and
    # status line in the banner, the picker a search landmark
    assert page.locator("[role=main]").count() == 1
    assert page.locator("[role=main] .photon-board").count() == 1
    assert page.locator("[role=main] .photon-chart").count() == 1
    assert page.locator("header h1").inner_text().startswith("Photon")
    assert page.locator("header .photon-status").count() == 1
    assert page.locator("[role=search] input").count() >= 1


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_sparkline_embed_has_no_violations(themed, server, theme):
    page = themed(theme, server.url(f"/sparkline?symbol=AAPL&theme={theme}"))
    page.locator(".photon-spark[data-symbol=AAPL] .photon-price").wait_for(timeout=20_000)
    page.wait_for_function("() => window.__deepAll('.photon-price.photon-up, "
                           ".photon-price.photon-down').length > 0", timeout=10_000)
    assert violations(page) == []
    # a page of its own in an iframe: the sparkline is its main content, named by an h1
    # only screen readers see (a script embed adds neither: test_embed.py)
    assert page.locator("main .photon-spark").count() == 1
    heading = page.locator("main h1")
    assert heading.text_content() == "AAPL live price"
    box = heading.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1


def test_sparkline_of_an_unknown_symbol_has_no_violations(themed, server):
    page = themed("light", server.url("/sparkline?symbol=NOPE"))
    page.locator("[role=alert]").filter(has_text="unknown symbol (NOPE)").wait_for()
    assert violations(page) == []


#: The computed style of the first price caught flashing.
FLASH_STYLE = """() => {
  const px = window.__deepAll('.photon-price.photon-up, .photon-price.photon-down')[0]
  if (!px) return null
  const s = getComputedStyle(px)
  const board = px.closest('.photon-board, .photon-spark')
  const want = getComputedStyle(board).getPropertyValue(
    px.classList.contains('photon-up') ? '--photon-up' : '--photon-down')
  const probe = document.createElement('span')
  probe.style.color = want
  board.append(probe)
  const wantColour = getComputedStyle(probe).color
  probe.remove()
  return {animation: s.animationName, transition: s.transitionDuration, colour: s.color,
          want: wantColour}
}"""


@pytest.mark.parametrize("path", ["/app?symbols=AAPL,TSLA,NVDA", "/sparkline?symbol=TSLA"])
@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_reduced_motion_makes_a_flash_a_still_colour(themed, server, motion, path):
    page = themed("light", server.url(path), reduced_motion=motion)
    page.locator(".photon-board, .photon-spark").first.wait_for(timeout=20_000)
    style = page.wait_for_function(FLASH_STYLE, timeout=20_000).json_value()
    assert style["colour"] == style["want"]  # up green / down red either way
    if motion == "reduce":
        assert style["animation"] == "none" and style["transition"] in ("0s", "")
    else:
        assert style["animation"].startswith("photon-flash-")


#: What a screen reader would read out by itself: live regions and what is in them.
LIVE = """() => window.__deepAll(
  '[aria-live], [role=alert], [role=status], [role=log], [role=marquee], [role=timer]')
  .filter((e) => e.getAttribute('aria-live') !== 'off')
  .map((e) => ({role: e.getAttribute('role'), live: e.getAttribute('aria-live'),
                text: e.textContent, prices: e.querySelectorAll('.photon-price').length}))"""


def test_alerts_are_read_out_and_ticks_are_not(page, server):
    open_board(page, server.url("/app?symbols=AAPL,TSLA&alerts=AAPL>1"))
    wait_for_symbols(page, ["AAPL", "TSLA"], timeout_ms=20_000)
    page.locator(".photon-fired-item[role=alert]").first.wait_for(timeout=10_000)
    page.wait_for_function("() => [...window.__deepAll('.photon-status-text')]"
                           ".some((e) => e.textContent.includes('live'))", timeout=20_000)
    regions = page.evaluate(LIVE)
    assert all(r["prices"] == 0 for r in regions), regions  # no price inside a live region
    assert not any("last tick" in r["text"] or "$" in r["text"] and "AAPL" not in r["text"]
                   for r in regions), regions  # the status line's ticking numbers neither
    fired = [r for r in regions if r["role"] == "alert" and "AAPL" in r["text"]]
    assert fired and "at or above $1.00" in fired[0]["text"], regions
