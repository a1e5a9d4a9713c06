"""Signing in and out in Chromium (PHOTON_AUTH=basic): the form, the live board with
who is signed in, "Sign out", and the board closed again after it."""

from __future__ import annotations

import pytest

from tests.access.signing import ALLOWED, PASSWORDS, write_files
from tests.browser.helpers import open_board, wait_for_symbols, watch_prices_until
from tests.support import photon_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signin")
    users, tokens, _ = write_files(tmp)
    env = {"PHOTON_AUTH": "basic", "PHOTON_USERS_FILE": str(users),
           "PHOTON_ALLOWED_USERS": ALLOWED, "XDG_DATA_HOME": str(tmp / "data")}
    with photon_server(tmp, env=env) as server:
        yield server


def sign_in(page, name: str, password: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_see_the_board_live_and_sign_out(page, signin_server):
    server = signin_server
    page.goto(server.url("/app?symbols=AAPL,TSLA"))
    page.wait_for_url("**/login?next=*")
    assert page.get_by_role("heading", name="Sign in").is_visible()

    sign_in(page, "alice", "not-her-password")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Wrong name or password."
    assert page.get_by_label("Name").input_value() == "alice"

    sign_in(page, "alice", PASSWORDS["alice"])
    page.wait_for_url("**/app?symbols=AAPL,TSLA")
    open_board(page, page.url)
    wait_for_symbols(page, ["AAPL", "TSLA"])
    who = page.locator(".photon-account")
    who.wait_for()
    assert "Signed in as alice" in who.inner_text()
    # Live: a price changes on screen, over the fast lane bound to alice's session.
    watch_prices_until(page, lambda seen: len(seen.get("AAPL", ())) >= 3,
                       what="AAPL's price to change twice")
    assert not page.console.errors
    health = page.request.get(server.url("/health")).json()  # with alice's cookie: details
    assert health["fast_lane_sockets"] >= 1

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/logout")
    assert page.get_by_role("heading", name="Signed out").is_visible()
    page.goto(server.url("/app"))
    page.wait_for_url("**/login?next=*")
    assert page.get_by_label("Password").is_visible()
