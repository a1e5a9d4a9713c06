"""The picker and the rows as one list (app/views/page.js): chips and rows in the order
the viewer chose (or rows by ?sort=, said in the header), the list closed after Enter,
the URL following every change, no console warning from Choices.js, labels as text;
and the page at a phone's width and centred on a wide screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import location_query, open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser

#: The picker's chips, in the order shown (each chip's value is "SYM · Name").
CHIPS = """() => window.__deepAll('.choices__list--multiple .choices__item')
  .map((e) => e.dataset.value.split(' ')[0])"""
#: Whether the picker's list of options is open.
LIST_OPEN = "() => window.__deepAll('.choices__list--dropdown.is-active').length > 0"


def chips(page) -> list[str]:
    return page.evaluate(CHIPS)


def url_symbols(page) -> str:
    return location_query(page).get("symbols", "")


def pick_with_enter(page, symbol: str) -> None:
    """Type a ticker in the search and press Enter, as a viewer does."""
    search = page.locator("input.choices__input")
    search.click()
    search.press_sequentially(symbol.lower())  # Choices.js searches on each key
    # Enter adds the highlighted option: wait until it is this ticker
    page.locator(".choices__list--dropdown .choices__item--selectable.is-highlighted").filter(
        has_text=f"{symbol} ·").wait_for()
    page.keyboard.press("Enter")


def remove_chip(page, symbol: str) -> None:
    page.locator(f".choices__list--multiple .choices__item[data-value^='{symbol} '] button"
                 ).click()


def wait_for_board(page, symbols: list[str]) -> None:
    """Rows, chips and the URL all say ``symbols``, in this order."""
    wait_for_symbols(page, symbols)
    wait_until(lambda: chips(page) == symbols, what=f"chips {symbols}")
    wait_until(lambda: url_symbols(page) == ",".join(symbols), what=f"?symbols= {symbols}")


def test_chips_and_rows_keep_the_chosen_order_through_adds_and_removes(page, server):
    open_board(page, server.url("/app"))  # the default selection, in its own order
    wait_for_board(page, ["AAPL", "TSLA", "GOOGL"])

    pick_with_enter(page, "NVDA")  # appended: the others stay where they were
    wait_for_board(page, ["AAPL", "TSLA", "GOOGL", "NVDA"])
    pick_with_enter(page, "MSFT")
    wait_for_board(page, ["AAPL", "TSLA", "GOOGL", "NVDA", "MSFT"])

    remove_chip(page, "TSLA")
    wait_for_board(page, ["AAPL", "GOOGL", "NVDA", "MSFT"])

    # A row removed from the board (Delete): the server sets the picker, which redraws
    # its chips; they keep the board's order (alphabetical would put MSFT before NVDA).
    page.locator(".photon-body [data-symbol=GOOGL]").focus()
    page.keyboard.press("Delete")
    wait_for_board(page, ["AAPL", "NVDA", "MSFT"])


def test_a_sort_orders_the_rows_and_says_so_while_the_chips_keep_the_chosen_order(page, server):
    open_board(page, server.url("/app?symbols=TSLA,AAPL,GOOGL&sort=symbol"))
    wait_for_symbols(page, ["AAPL", "GOOGL", "TSLA"])
    wait_until(lambda: chips(page) == ["TSLA", "AAPL", "GOOGL"], what="chips as chosen")
    head = page.locator("[role=columnheader]", has=page.get_by_role("button", name="Symbol"))
    assert head.get_attribute("aria-sort") == "ascending"
    assert "▲" in head.inner_text()

    pick_with_enter(page, "NVDA")
    wait_for_symbols(page, ["AAPL", "GOOGL", "NVDA", "TSLA"])
    wait_until(lambda: chips(page) == ["TSLA", "AAPL", "GOOGL", "NVDA"], what="NVDA appended")
    wait_until(lambda: url_symbols(page) == "TSLA,AAPL,GOOGL,NVDA", what="the URL")
    assert location_query(page).get("sort") == "symbol"


def test_enter_adds_and_closes_the_list_keeping_the_search_focused(page, server):
    open_board(page, server.url("/app?symbols=AAPL"))
    wait_for_board(page, ["AAPL"])
    pick_with_enter(page, "MSFT")
    wait_for_board(page, ["AAPL", "MSFT"])
    wait_until(lambda: not page.evaluate(LIST_OPEN), what="the list to close after Enter")
    focused = page.evaluate("""() => { let a = document.activeElement
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement
        return a && a.classList.contains('choices__input') }""")
    assert focused  # the next ticker can be typed at once
    page.keyboard.type("nvd")  # typing opens the list again
    wait_until(lambda: page.evaluate(LIST_OPEN), what="the list to open on typing")


def test_no_allowhtml_warning_and_labels_are_text(page, server):
    open_board(page, server.url("/app"))
    wait_for_board(page, ["AAPL", "TSLA", "GOOGL"])
    assert not [line for line in page.console if "allowHTML" in line]
    assert not page.console.errors
    # Whatever label the picker is given is shown as text, never parsed as HTML.
    shown = page.evaluate("""() => {
      const views = []
      const walk = (v) => { views.push(v); for (const c of v.child_views ?? []) walk(c) }
      Object.values(Bokeh.index).forEach(walk)
      const choices = views.find((v) => v.choice_el).choice_el
      choices.setChoices([{value: 'X', label: '<img src=x onerror=alert(1)>'}],
                         'value', 'label', false)
      choices.showDropdown()
      const item = window.__deepAll('.choices__item[data-value=X]')[0]
      return {text: item.textContent, imgs: item.querySelectorAll('img').length}
    }""")
    assert shown == {"text": "<img src=x onerror=alert(1)>", "imgs": 0}
    assert not page.console.dialogs


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_phone_sees_the_whole_board_without_sideways_scrolling(browser, server, theme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.add_init_script(DEEP_QUERY)
        page.goto(server.url(f"/app?symbols=AAPL,TSLA,GOOGL,BINANCE:BTCUSDT&theme={theme}"))
        page.locator(".photon-body [data-symbol=AAPL] .photon-price").wait_for()
        page.locator(".photon-body [data-symbol=AAPL]").click()  # its chart, too
        page.locator(".photon-chart").wait_for()
        layout = page.evaluate("""() => {
          const rows = window.__deepAll('.photon-body [data-symbol]')
          const out = rows.map((r) => {
            const box = r.getBoundingClientRect()
            const cells = [...r.children].map((c) => c.getBoundingClientRect())
            const apart = (a, b) => a.right <= b.left + 1 || b.right <= a.left + 1
              || a.bottom <= b.top + 1 || b.bottom <= a.top + 1
            return {inside: cells.every((c) => c.left >= box.left - 1 && c.right <= box.right + 1),
                    apart: cells.every((a, i) => cells.slice(i + 1).every((b) => apart(a, b))),
                    font: parseFloat(getComputedStyle(r.querySelector('.photon-price')).fontSize)}
          })
          return {width: document.documentElement.scrollWidth, view: innerWidth, rows: out}
        }""")
        assert layout["view"] == 390  # laid out for the phone's width, not zoomed out
        assert layout["width"] <= 390, layout
        assert len(layout["rows"]) == 4
        assert all(r["inside"] and r["apart"] and r["font"] >= 14 for r in layout["rows"]), layout
    finally:
        context.close()


def test_a_wide_window_centres_the_board(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.goto(server.url("/app"))
        page.locator(".photon-body [data-symbol=AAPL]").wait_for()
        box = page.locator(".photon-board").bounding_box()
        left, right = box["x"], 1400 - box["x"] - box["width"]
        assert 900 <= box["width"] <= 1200 and left > 100 and abs(left - right) <= 2, box
    finally:
        context.close()
