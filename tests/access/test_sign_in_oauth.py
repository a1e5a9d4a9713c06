"""PHOTON_AUTH=oauth against a fake OpenID Connect provider on loopback (Panel's generic
provider): the redirect dance, PHOTON_ALLOWED_USERS, and every door."""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest
import requests
from tornado.web import create_signed_value

from tests.access.doors import EXPECTED, health_body, mismatches, table
from tests.access.fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider
from tests.access.signing import COOKIE_SECRET
from tests.support import free_port, photon_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oauth")
    from app.access.tokens import Tokens

    token = Tokens(str(tmp / "tokens")).add("ci-bot")
    secret_file = tmp / "oauth_secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    port = free_port()
    with FakeProvider() as fake:
        env = {"PHOTON_AUTH": "oauth", "PHOTON_OAUTH_PROVIDER": "generic",
               "PHOTON_OAUTH_KEY": CLIENT_ID, "PHOTON_OAUTH_SECRET_FILE": str(secret_file),
               "PHOTON_OAUTH_EXTRA_PARAMS": fake.extra_params(),
               "PHOTON_OAUTH_REDIRECT_URI": f"http://127.0.0.1:{port}/login",
               "PHOTON_ALLOWED_USERS": "boss@other.test,@corp.test",
               "PHOTON_API_TOKENS_FILE": str(tmp / "tokens"),
               "PHOTON_COOKIE_SECRET": COOKIE_SECRET, "XDG_DATA_HOME": str(tmp / "data"),
           "PHOTON_BOARDS": str(tmp / "boards.sqlite3")}
        with photon_server(tmp, env=env, port=port) as server:
            server.fake, server.token = fake, token
            yield server


def dance(server, user: str) -> tuple[requests.Session, requests.Response]:
    """Open /app as a browser would, signed in at the provider as ``user``."""
    server.fake.user = user
    session = requests.Session()
    return session, session.get(f"{server.base}/app", timeout=20)


def test_an_allowed_user_walks_the_redirect_dance_to_the_board(served):
    before = served.fake.authorize_calls
    session, r = dance(served, "alice@corp.test")
    assert r.status_code == 200 and r.url == f"{served.base}/app"
    hops = [h.headers["Location"] for h in r.history]
    assert "/login" in hops[0] and hops[1].startswith(f"{served.fake.base}/authorize")
    assert served.fake.authorize_calls == before + 1
    assert "user" in session.cookies
    assert session.get(f"{served.base}/metrics", timeout=10).status_code == 200
    assert dance(served, "boss@other.test")[1].status_code == 200  # by name, not domain


def session_cookies(html: str) -> set[str]:
    """The cookies Bokeh put into the page's session token (readable by its scripts)."""
    token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
    payload = json.loads(b64(token.split(".")[0]))
    if "__bk__zlib_" in payload:
        payload = json.loads(zlib.decompress(b64(payload["__bk__zlib_"])))
    return set(payload.get("cookies", {}))


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_providers_tokens_stay_out_of_the_page(served):
    _, r = dance(served, "alice@corp.test")
    assert r.status_code == 200
    assert "user" in session_cookies(r.text)
    assert not {"access_token", "refresh_token", "id_token"} & session_cookies(r.text)


def test_someone_the_provider_knows_but_not_allowed_gets_403_and_no_cookie(served):
    session, r = dance(served, "eve@evil.test")
    assert r.status_code == 403 and "may not use Photon" in r.text
    assert "user" not in session.cookies
    r = session.get(f"{served.base}/history?symbol=AAPL", timeout=10)
    assert r.status_code == 401


def test_every_route_answers_each_caller_as_the_table_says(served):
    session, r = dance(served, "carol@corp.test")
    assert r.status_code == 200
    eve = create_signed_value(COOKIE_SECRET, "user", "eve@evil.test").decode()
    callers = {"anonymous": ({}, {}), "signed-in": ({"user": session.cookies["user"]}, {}),
               "other": ({"user": eve}, {}),
               "token": ({}, {"Authorization": f"Bearer {served.token}"})}
    found = table(served.base, callers)
    assert found == EXPECTED, mismatches(found)
    assert health_body(served.base, *callers["anonymous"]).keys() == {"status"}
    assert "symbols" in health_body(served.base, *callers["token"])


def test_the_client_secret_is_in_no_log_line(served):
    dance(served, "alice@corp.test")
    assert CLIENT_SECRET not in served.output()
    assert COOKIE_SECRET not in served.output()
