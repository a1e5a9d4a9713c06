"""PHOTON_AUTH=basic on a served Photon: every door, the form, the fast lane's binding."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
import websocket
from tornado.web import create_signed_value

from tests.access.doors import EXPECTED, health_body, mismatches, table
from tests.access.signing import (
    ALLOWED,
    COOKIE_SECRET,
    PASSWORDS,
    Board,
    login_form,
    post_login,
    sign_in,
    write_files,
)
from tests.support import ROOT, free_port, get_json, photon_server, stop, wait_until

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("basic")
    users, tokens, token = write_files(tmp)
    env = {"PHOTON_AUTH": "basic", "PHOTON_USERS_FILE": str(users),
           "PHOTON_API_TOKENS_FILE": str(tokens), "PHOTON_ALLOWED_USERS": ALLOWED,
           "PHOTON_COOKIE_SECRET": COOKIE_SECRET, "XDG_DATA_HOME": str(tmp / "data"),
           "PHOTON_BOARDS": str(tmp / "boards.sqlite3")}
    with photon_server(tmp, env=env) as server:
        server.token = token
        yield server


def callers(server) -> dict[str, tuple[dict, dict]]:
    # "other": a cookie this server signed for a user of the file who is not allowed
    # (the form refuses to make one: see test_a_user_not_allowed_gets_403_and_no_cookie).
    mallory = create_signed_value(COOKIE_SECRET, "user", "mallory").decode()
    return {"anonymous": ({}, {}),
            "signed-in": ({"user": sign_in(server.base, "alice")}, {}),
            "other": ({"user": mallory}, {}),
            "token": ({}, {"Authorization": f"Bearer {server.token}"})}


def test_every_route_answers_each_caller_as_the_table_says(served):
    found = table(served.base, callers(served))
    assert found == EXPECTED, mismatches(found)


def test_no_secret_on_the_command_line_or_in_the_log(served):
    from pathlib import Path

    argv = Path(f"/proc/{served.proc.pid}/cmdline").read_bytes().replace(b"\0", b" ")
    assert COOKIE_SECRET.encode() not in argv and b"password" not in argv  # `ps` shows it
    sign_in(served.base, "alice")
    assert COOKIE_SECRET not in served.output()
    assert not any(pw in served.output() for pw in PASSWORDS.values())


def test_health_tells_strangers_only_its_status(served):
    who = callers(served)
    assert health_body(served.base, *who["anonymous"]).keys() == {"status"}
    assert health_body(served.base, *who["other"]).keys() == {"status"}
    for name in ("signed-in", "token"):
        body = health_body(served.base, *who[name])
        assert {"status", "feed", "symbols", "sessions"} <= body.keys()


def test_a_wrong_password_shows_the_form_again_with_401(served):
    session = requests.Session()
    r = post_login(session, served.base, "alice", "not-her-password")
    assert r.status_code == 401
    assert "Wrong name or password." in r.text and 'name="password"' in r.text
    assert "user" not in session.cookies
    r = post_login(requests.Session(), served.base, "nobody", "whatever-it-is")
    assert r.status_code == 401


def test_the_form_needs_its_anti_forgery_token(served):
    session = requests.Session()
    login_form(session, served.base)
    r = session.post(f"{served.base}/login", data={"username": "alice",
                     "password": PASSWORDS["alice"]}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and 'name="_xsrf"' in r.text
    assert "user" not in session.cookies


def test_a_user_not_allowed_gets_403_and_no_cookie(served):
    session = requests.Session()
    r = post_login(session, served.base, "mallory", PASSWORDS["mallory"])
    assert r.status_code == 403 and "may not use Photon" in r.text
    assert "user" not in session.cookies


@pytest.mark.parametrize(("asked", "lands"), [
    ("/app?symbols=AAPL", "/app?symbols=AAPL"), ("//evil.example/x", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/")])
def test_next_leads_only_to_a_path_of_this_server(served, asked, lands):
    r = post_login(requests.Session(), served.base, "bob", PASSWORDS["bob"], next_path=asked)
    assert r.status_code == 302
    assert r.headers["Location"] == lands


def test_a_fast_lane_token_works_only_for_its_own_user(served):
    alice = {"user": sign_in(served.base, "alice")}
    bob = {"user": sign_in(served.base, "bob")}
    board = Board(served.base, alice)
    try:
        stolen = board.open_fast_lane(bob)  # a signed-in user with another's token
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            while True:  # the server closes it (4001, unknown session) at once
                stolen.recv()
        own = board.open_fast_lane(alice)
        message = json.loads(wait_until(own.recv, what="a fast-lane message"))
        assert "rows" in message
        own.close()
    finally:
        board.close()


def test_the_board_says_who_is_signed_in_and_signing_out_ends_it(served):
    session = requests.Session()
    assert post_login(session, served.base, "bob", PASSWORDS["bob"]).status_code == 302
    cookies = {"user": session.cookies["user"]}
    board = Board(served.base, cookies)
    try:
        assert "Signed in as" in board.doc_text and "bob" in board.doc_text
        assert "Sign out" in board.doc_text
    finally:
        board.close()
    r = session.get(f"{served.base}/logout", timeout=10)
    assert r.status_code == 200 and "signed out" in r.text
    r = session.get(f"{served.base}/app", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_panel_serve_with_photon_auth_in_the_environment_is_guarded(tmp_path):
    users, tokens, _ = write_files(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTON_", "PANEL_",
                                                                       "BOKEH_"))}
    env.update(PYTHONPATH=str(ROOT), PHOTON_AUTH="basic", PHOTON_USERS_FILE=str(users),
               PHOTON_HISTORY="off", XDG_DATA_HOME=str(tmp_path / "data"))
    log = tmp_path / "panel.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", str(ROOT / "app"), "--port", str(port),
             "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
             "--plugins", "app.routes"], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            assert proc.poll() is None, log.read_text()
            try:
                return get_json(f"{base}/health")
            except OSError:
                return None
        status, body = wait_until(up, timeout=60, what="panel serve up")
        assert body.keys() == {"status"}
        for path in ("/history?symbol=AAPL", "/metrics", "/sparkline.js?symbol=AAPL"):
            assert requests.get(base + path, timeout=10).status_code == 401, path
        r = requests.get(f"{base}/app", allow_redirects=False, timeout=10)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
        cookie = sign_in(base, "alice")
        assert requests.get(f"{base}/history?symbol=AAPL", cookies={"user": cookie},
                            timeout=10).status_code == 200
        secret = (tmp_path / "data" / "photon" / "cookie_secret")
        assert oct(secret.stat().st_mode & 0o777) == "0o600"
        assert secret.read_text().strip() not in log.read_text()
    finally:
        stop(proc)
