"""Saved boards in Chromium (PHOTON_AUTH=basic): a board changed in one browser comes
back in another after signing in; ``?board=`` opens and switches boards; the URL keys
of an unsaved board (``?symbols=``) never overwrite a saved one."""

from __future__ import annotations

import pytest

from tests.access.signing import ALLOWED, PASSWORDS, write_files
from tests.browser.conftest import DEEP_QUERY
from tests.browser.helpers import board_symbols, location_query, open_board, wait_for_symbols
from tests.support import photon_server, wait_until

pytestmark = pytest.mark.browser

DEFAULTS = ["AAPL", "TSLA", "GOOGL"]


@pytest.fixture(scope="module")
def boards_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("saved-boards")
    users, tokens, _ = write_files(tmp)
    env = {"PHOTON_AUTH": "basic", "PHOTON_USERS_FILE": str(users),
           "PHOTON_ALLOWED_USERS": ALLOWED, "XDG_DATA_HOME": str(tmp / "data"),
           "PHOTON_BOARDS": str(tmp / "boards.sqlite3"), "PHOTON_SYMBOLS": ",".join(DEFAULTS)}
    with photon_server(tmp, env=env) as server:
        yield server


def fresh_page(browser):
    """A new browser context (no cookies, no storage): another browser, as far as
    Photon can tell."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(DEEP_QUERY)
    return page


def sign_in_at(page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_url("**/login?next=*")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app*")
    open_board(page, page.url)


def add_symbol(page, symbol: str) -> None:
    search = page.locator("input.choices__input")
    search.click()
    search.fill(symbol.lower())
    page.locator(".choices__list--dropdown .choices__item--selectable").filter(
        has_text=symbol).first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def remove_symbol(page, symbol: str) -> None:
    """The board's Delete key on the row (keeps the others' order)."""
    page.locator(f".photon-body [data-symbol='{symbol}']").focus()
    page.keyboard.press("Delete")


def saved(page, name: str) -> dict:
    r = page.request.get(page.url.split("/app")[0] + f"/api/boards/{name}")
    return r.json() if r.status == 200 else {}


def test_a_board_comes_back_in_another_browser(browser, boards_server):
    first = fresh_page(browser)
    try:
        sign_in_at(first, boards_server.url("/app"), "alice")
        wait_for_symbols(first, DEFAULTS)
        wait_until(lambda: location_query(first).get("board") == "main",
                   what="the URL to name the board")
        add_symbol(first, "MSFT")
        wait_until(lambda: "MSFT" in board_symbols(first), what="MSFT on the board")
        remove_symbol(first, "AAPL")
        wait_until(lambda: "AAPL" not in board_symbols(first), what="AAPL off the board")
        wanted = board_symbols(first)  # in the order the page shows them
        wait_until(lambda: saved(first, "main").get("symbols") == wanted,
                   what="the board to be saved")
    finally:
        first.context.close()

    second = fresh_page(browser)
    try:
        sign_in_at(second, boards_server.url("/app"), "alice")
        wait_for_symbols(second, wanted)
        wait_until(lambda: location_query(second).get("board") == "main",
                   what="the URL to name the board")
        assert second.get_by_label("Board", exact=True).input_value() == "main"
    finally:
        second.context.close()

    other = fresh_page(browser)  # bob's boards are his own
    try:
        sign_in_at(other, boards_server.url("/app"), "bob")
        wait_for_symbols(other, DEFAULTS)
    finally:
        other.context.close()


def test_board_opens_a_named_board_and_the_switcher_goes_back(browser, boards_server):
    page = fresh_page(browser)
    try:
        sign_in_at(page, boards_server.url("/app?board=tech"), "alice")
        wait_for_symbols(page, DEFAULTS)  # a new board: the defaults
        remove_symbol(page, "TSLA")
        wait_until(lambda: saved(page, "tech").get("symbols") == ["AAPL", "GOOGL"],
                   what="the new board to be saved")
        main = saved(page, "main")["symbols"]
        page.get_by_label("Board", exact=True).select_option("main")
        page.wait_for_url(lambda url: "board=main" in url)  # the page loads again
        wait_for_symbols(page, main)
        page.get_by_label("Board", exact=True).select_option("tech")
        page.wait_for_url(lambda url: "board=tech" in url)  # the page loads again
        wait_for_symbols(page, ["AAPL", "GOOGL"])
    finally:
        page.context.close()


def test_url_symbols_open_an_unsaved_board_that_overwrites_nothing(browser, boards_server):
    page = fresh_page(browser)
    try:
        sign_in_at(page, boards_server.url("/app?board=keep"), "bob")
        wait_for_symbols(page, DEFAULTS)
        wait_until(lambda: saved(page, "keep").get("symbols") == DEFAULTS,
                   what="bob's board to be saved")
        unsaved = page.context.new_page()
        unsaved.add_init_script(DEEP_QUERY)
        open_board(unsaved, boards_server.url("/app?symbols=NVDA,AMD"))
        wait_for_symbols(unsaved, ["NVDA", "AMD"])
        assert "board" not in location_query(unsaved)
        remove_symbol(unsaved, "AMD")  # a change on the unsaved board...
        wait_for_symbols(unsaved, ["NVDA"])
        remove_symbol(page, "GOOGL")  # ...then one on the saved board, saved after it
        wait_until(lambda: saved(page, "keep").get("symbols") == ["AAPL", "TSLA"],
                   what="the later change to be saved")
        assert "NVDA" not in str(saved(page, "keep")) and "NVDA" not in str(saved(page, "main"))
        open_board(page, boards_server.url("/app"))  # plain /app: the last board opened
        wait_for_symbols(page, ["AAPL", "TSLA"])
    finally:
        page.context.close()


def test_a_shared_board_opens_read_only_for_another_user(browser, boards_server):
    alice = fresh_page(browser)
    bob = fresh_page(browser)
    try:
        sign_in_at(alice, boards_server.url("/app?board=shown"), "alice")
        wait_for_symbols(alice, DEFAULTS)
        remove_symbol(alice, "GOOGL")
        wait_until(lambda: saved(alice, "shown").get("symbols") == ["AAPL", "TSLA"],
                   what="alice's board to be saved")
        alice.get_by_label("Shared (read-only link)").check()
        link = alice.locator("a.photon-share")
        link.wait_for()
        assert link.inner_text() == "?board=shown&owner=alice"
        wait_until(lambda: saved(alice, "shown").get("shared") is True, what="the share")

        sign_in_at(bob, boards_server.url("/app" + link.inner_text()), "bob")
        wait_for_symbols(bob, ["AAPL", "TSLA"])
        note = bob.locator(".photon-board-note")
        assert note.inner_text() == "Read-only: board shown of alice"
        remove_symbol(bob, "TSLA")  # bob may change what he sees: nothing is saved
        wait_for_symbols(bob, ["AAPL"])
        mine = bob.context.new_page()  # a later change to a board of bob's own is saved
        mine.add_init_script(DEEP_QUERY)
        open_board(mine, boards_server.url("/app?board=mine"))
        wait_for_symbols(mine, DEFAULTS)
        remove_symbol(mine, "AAPL")
        wait_until(lambda: saved(mine, "mine").get("symbols") == ["TSLA", "GOOGL"],
                   what="bob's own board to be saved")
        assert saved(alice, "shown")["symbols"] == ["AAPL", "TSLA"]
        assert "shown" not in bob.request.get(boards_server.url("/api/boards")).json()["boards"]
        alice.get_by_label("Shared (read-only link)").uncheck()
        wait_until(lambda: saved(alice, "shown").get("shared") is False, what="unshared")
        open_board(bob, boards_server.url("/app?board=shown&owner=alice"))
        wait_for_symbols(bob, DEFAULTS)  # no such shared board: an unsaved default one
        assert bob.locator(".photon-board-note").inner_text() == (
            "There is no such shared board.")
    finally:
        alice.context.close()
        bob.context.close()
