"""Price alerts on the board: from the URL or the row's editor (keyboard too), kept in
the URL; a notice with role="alert" naming symbol, condition and price, the row marked,
a desktop notification where allowed; once per crossing, re-armed when the price goes
back; malformed ones named (as text) and the others kept; one that already holds when
the page opens fires at the first price."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.browser.handfeed import hand_feed
from tests.browser.helpers import message, open_board, wait_for_symbols
from tests.support import wait_until

pytestmark = pytest.mark.browser

PREV = {"AAPL": 200.0, "MSFT": 400.0}
START = {"AAPL": 190.0, "MSFT": 400.0}

#: Desktop notifications allowed, and recorded instead of shown.
NOTIFICATIONS = """
window.__notes = []
window.Notification = class {
  static permission = "granted"
  static requestPermission() { return Promise.resolve("granted") }
  constructor(title, options) { window.__notes.push({title, body: options && options.body}) }
}
"""


@pytest.fixture(scope="module")
def feed(tmp_path_factory):
    with hand_feed(tmp_path_factory.mktemp("alerts"), START, PREV) as f:
        yield f


def fired(page) -> list[str]:
    return page.locator(".photon-fired-item[role=alert]").all_inner_texts()


def url_alerts(page) -> str | None:
    query = page.evaluate("() => location.search").lstrip("?")
    return parse_qs(query).get("alerts", [None])[0]


def price_shown(page, symbol: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => window.__deepAll(`[data-symbol='${s}'] .photon-price`)[0]?.textContent === t",
        arg=[symbol, text], timeout=30_000)


def marked(page, symbol: str) -> bool:
    return "photon-alert-hit" in (page.locator(f".photon-body [data-symbol={symbol}]")
                                  .get_attribute("class") or "")


def test_an_alert_fires_once_per_crossing(page, feed):
    page.add_init_script(NOTIFICATIONS)
    open_board(page, feed.url("/app?symbols=AAPL,MSFT&alerts=AAPL>195,MSFT<405,"
                              "bad>>1,<img src=x onerror=alert(1)>"))
    wait_for_symbols(page, ["AAPL", "MSFT"])
    price_shown(page, "AAPL", "$190.00")  # the fake's quote (no trade yet)
    # MSFT is under 405 already: fires at the first price; AAPL at 190 does not
    wait_until(lambda: len(fired(page)) == 1, what="MSFT's alert")
    assert "MSFT" in fired(page)[0] and "at or below $405.00" in fired(page)[0]
    assert "$400.00" in fired(page)[0]
    # the malformed ones are named, as text; the others are kept
    note = message(page)
    assert "bad>>1" in note and "<img" in note
    assert page.console.dialogs == [] and page.locator("img[src=x]").count() == 0
    assert url_alerts(page) == "AAPL>195,MSFT<405"

    feed.trade("AAPL", 196.0)  # crosses
    wait_until(lambda: len(fired(page)) == 2, what="AAPL's alert")
    latest = fired(page)[0]  # newest first
    assert "AAPL" in latest and "at or above $195.00" in latest and "$196.00" in latest
    assert marked(page, "AAPL")
    notes = page.evaluate("() => window.__notes")
    assert any("AAPL" in n["body"] and "$196.00" in n["body"] for n in notes), notes

    feed.trade("AAPL", 197.0)  # still above: no second notice
    price_shown(page, "AAPL", "$197.00")
    assert len(fired(page)) == 2
    feed.trade("AAPL", 194.0)  # back below: re-armed, the mark goes
    price_shown(page, "AAPL", "$194.00")
    assert not marked(page, "AAPL")
    feed.trade("AAPL", 195.5)  # crosses again: fires again
    wait_until(lambda: len(fired(page)) == 3, what="AAPL's alert, again")
    assert "$195.50" in fired(page)[0]


def test_alerts_from_the_rows_editor_by_keyboard(page, feed):
    open_board(page, feed.url("/app?symbols=AAPL,MSFT"))
    wait_for_symbols(page, ["AAPL", "MSFT"])
    feed.trade("AAPL", 200.0)
    price_shown(page, "AAPL", "$200.00")
    page.keyboard.press("j")
    page.keyboard.press("a")  # the focused row's alerts
    editor = page.get_by_role("form", name="Alerts for AAPL")
    editor.wait_for()
    page.get_by_label("When the price").select_option("~")  # moves by N %
    page.get_by_label("Value").fill("2")
    page.keyboard.press("Enter")
    wait_until(lambda: url_alerts(page) == "AAPL~2%", what="the URL keeping the alert")
    editor.get_by_text("AAPL~2%").wait_for()

    feed.trade("AAPL", 203.0)  # +1.5 % from where it was set: nothing
    price_shown(page, "AAPL", "$203.00")
    assert fired(page) == []
    feed.trade("AAPL", 196.0)  # -2 %: fires
    wait_until(lambda: len(fired(page)) == 1, what="the move alert")
    assert "AAPL moved 2% or more from $200.00" in fired(page)[0]

    page.get_by_label("Value").fill("210")
    page.get_by_label("When the price").select_option(">")
    page.get_by_label("Value").press("Enter")
    wait_until(lambda: url_alerts(page) == "AAPL~2%,AAPL>210", what="a second alert")
    remove = editor.get_by_role("button", name="Remove AAPL~2%")
    remove.focus()
    page.keyboard.press("Enter")
    wait_until(lambda: url_alerts(page) == "AAPL>210", what="the move alert removed")
    page.reload()  # the URL keeps them
    wait_for_symbols(page, ["AAPL", "MSFT"])
    page.get_by_role("button", name="Alerts for AAPL").click()
    editor.get_by_text("AAPL>210").wait_for()
