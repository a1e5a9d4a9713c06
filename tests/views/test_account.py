"""Who is signed in, on the board (app/views/account.py)."""

from __future__ import annotations

import pytest

from app.access import identity
from app.views.account import account_bar, account_html, session_user


@pytest.fixture
def policy_on():
    identity.set_policy(identity.Policy(mode="basic"))
    yield
    identity.set_policy(None)


def test_the_name_is_escaped_and_sign_out_is_a_link():
    html = account_html('<img src=x onerror=alert(1)>', "./logout")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="./logout" class="photon-signout">Sign out</a>' in html


def test_nothing_is_built_with_sign_in_off():
    identity.set_policy(identity.Policy(mode="none"))
    try:
        assert session_user() is None and account_bar() == []
    finally:
        identity.set_policy(None)


def test_nothing_is_built_without_a_signed_in_user(policy_on):
    assert session_user() is None  # no session here: nobody signed in
    assert account_bar() == []
