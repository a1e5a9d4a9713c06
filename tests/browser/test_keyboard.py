"""The board from the keyboard: / searches, Enter adds, Escape leaves the search; j/k and
the arrows move a visible focus between rows; Enter opens the chart, Escape closes it;
Delete removes a row (unsubscribes); ? shows the shortcuts; keys typed into a text field
stay there."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.browser.helpers import board_symbols, open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser

#: The element that has the focus, through shadow roots.
FOCUSED = """() => {
  let a = document.activeElement
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement
  if (!a || a === document.body) return null
  const s = getComputedStyle(a)
  return {tag: a.tagName, cls: String(a.className), symbol: a.dataset.symbol || null,
          value: a.value ?? null, outline: s.outlineStyle, outlineWidth: s.outlineWidth}
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def focused_symbol(page) -> str | None:
    f = focused(page)
    return f and f["symbol"]


def url_symbols(page) -> list[str]:
    query = parse_qs(page.evaluate("() => location.search").lstrip("?"))
    return query.get("symbols", [""])[0].split(",")


def test_search_from_the_keyboard(page, server):
    open_board(page, server.url("/app?symbols=AAPL,TSLA"))
    wait_for_symbols(page, ["AAPL", "TSLA"])
    page.keyboard.press("/")
    f = focused(page)
    assert f and "choices__input" in f["cls"] and f["value"] == ""  # no "/" typed into it
    page.keyboard.type("NVD")
    page.keyboard.press("Enter")  # adds the highlighted match
    wait_for_symbols(page, ["AAPL", "TSLA", "NVDA"])
    wait_until(lambda: url_symbols(page) == ["AAPL", "TSLA", "NVDA"], what="URL")
    # keys typed into the search are the search's: no shortcut fires
    page.keyboard.type("jk?a/")
    f = focused(page)
    assert f and "choices__input" in f["cls"] and f["value"] == "jk?a/"
    assert not page.locator(".photon-help").is_visible()
    page.keyboard.press("Escape")  # leaves the search, back to the rows
    wait_until(lambda: focused_symbol(page) in ("AAPL", "TSLA", "NVDA"), what="a row focused")


def test_rows_from_the_keyboard(page, server):
    open_board(page, server.url("/app?symbols=AAPL,TSLA,NVDA"))
    wait_for_symbols(page, ["AAPL", "TSLA", "NVDA"])
    assert focused(page) is None
    page.keyboard.press("j")
    f = focused(page)
    assert f["symbol"] == "AAPL"
    assert f["outline"] != "none" and f["outlineWidth"] != "0px"  # visibly
    page.keyboard.press("j")
    assert focused_symbol(page) == "TSLA"
    page.keyboard.press("ArrowDown")
    assert focused_symbol(page) == "NVDA"
    page.keyboard.press("j")  # stays on the last row
    assert focused_symbol(page) == "NVDA"
    page.keyboard.press("k")
    assert focused_symbol(page) == "TSLA"
    page.keyboard.press("ArrowUp")
    assert focused_symbol(page) == "AAPL"

    page.keyboard.press("Enter")  # the focused row's chart
    page.locator(".photon-chart").first.wait_for(timeout=20_000)
    assert "AAPL" in page.locator(".photon-chart-caption").first.inner_text()
    page.keyboard.press("Escape")
    page.locator(".photon-chart").first.wait_for(state="detached", timeout=10_000)

    page.keyboard.press("j")
    assert focused_symbol(page) == "TSLA"
    page.keyboard.press("Delete")  # unsubscribes, like the picker
    wait_for_symbols(page, ["AAPL", "NVDA"])
    wait_until(lambda: url_symbols(page) == ["AAPL", "NVDA"], what="URL without TSLA")
    wait_until(lambda: focused_symbol(page) == "NVDA", what="focus on the next row")
    assert board_symbols(page) == ["AAPL", "NVDA"]


def test_question_mark_shows_the_shortcuts(page, server):
    open_board(page, server.url("/app?symbols=AAPL"))
    wait_for_symbols(page, ["AAPL"])
    page.keyboard.press("?")
    help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_.wait_for()
    text = help_.inner_text()
    for key in ("/", "Esc", "j", "k", "Enter", "Delete", "?"):
        assert key in text
    page.keyboard.press("Escape")
    help_.wait_for(state="hidden")
    page.keyboard.press("j")  # shortcuts work again once it is closed
    assert focused_symbol(page) == "AAPL"


def test_keys_typed_into_the_alert_editor_stay_there(page, server):
    open_board(page, server.url("/app?symbols=AAPL,TSLA"))
    wait_for_symbols(page, ["AAPL", "TSLA"])
    page.keyboard.press("j")
    page.keyboard.press("a")  # the focused row's alerts
    f = focused(page)
    assert f and f["tag"] == "INPUT" and f["cls"] == ""
    page.keyboard.press("Control+a")
    page.keyboard.type("12")
    page.keyboard.press("j")  # a number field ignores it; no shortcut takes it either
    page.keyboard.press("Home")
    page.keyboard.press("Delete")  # the field's: deletes the "1", not the row
    f = focused(page)
    assert f["tag"] == "INPUT" and f["value"] == "2"
    page.keyboard.press("Escape")  # closes the editor, back to the row
    page.locator(".photon-alert-editor").wait_for(state="hidden")
    assert focused_symbol(page) == "AAPL"
    page.keyboard.press("Enter")  # a message after any removal would have been: none was
    page.locator(".photon-chart").first.wait_for(timeout=20_000)
    assert board_symbols(page) == ["AAPL", "TSLA"]
