"""/api/boards on a served Photon with PHOTON_AUTH=basic: each user's boards are theirs;
another user reads one only if it is shared, and never writes it; tokens act for their
name; bad input is a one-line 400."""

from __future__ import annotations

import pytest
import requests

from tests.access.signing import ALLOWED, COOKIE_SECRET, sign_in, write_files
from tests.support import photon_server

pytestmark = pytest.mark.server

TECH = {"symbols": ["NVDA", "AAPL", "MSFT"], "sort": "-change",
        "alerts": "AAPL>230.5,NVDA~2%", "theme": "dark"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("boards-api")
    users, tokens, token = write_files(tmp)  # the token's name is "ci-bot"
    env = {"PHOTON_AUTH": "basic", "PHOTON_USERS_FILE": str(users),
           "PHOTON_API_TOKENS_FILE": str(tokens), "PHOTON_ALLOWED_USERS": ALLOWED + ",ci-bot",
           "PHOTON_COOKIE_SECRET": COOKIE_SECRET, "XDG_DATA_HOME": str(tmp / "data"),
           "PHOTON_BOARDS": str(tmp / "boards.sqlite3")}
    with photon_server(tmp, env=env) as server:
        server.token = token
        yield server


def as_user(served, name: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set("user", sign_in(served.base, name))
    return session


def test_a_board_saved_by_put_comes_back_by_get_and_in_the_list(served):
    alice = as_user(served, "alice")
    r = alice.put(f"{served.base}/api/boards/tech", json=TECH, timeout=10)
    assert r.status_code == 200, r.text
    got = alice.get(f"{served.base}/api/boards/tech", timeout=10).json()
    assert {k: got[k] for k in TECH} == TECH and got["owner"] == "alice"
    assert got["shared"] is False
    assert "tech" in alice.get(f"{served.base}/api/boards", timeout=10).json()["boards"]
    r = alice.put(f"{served.base}/api/boards/My%20board_2", json={"symbols": ["TSLA"]},
                  timeout=10)
    assert r.status_code == 200 and r.json()["name"] == "My board_2"


def test_another_user_reads_a_board_only_once_shared_and_never_writes_it(served):
    alice, bob = as_user(served, "alice"), as_user(served, "bob")
    assert alice.put(f"{served.base}/api/boards/private", json=TECH,
                     timeout=10).status_code == 200
    assert bob.get(f"{served.base}/api/boards/private", timeout=10).status_code == 404
    assert "private" not in bob.get(f"{served.base}/api/boards", timeout=10).json()["boards"]
    shared_url = f"{served.base}/api/boards/private?owner=alice"
    r = bob.get(shared_url, timeout=10)
    assert r.status_code == 404 and r.text == "no such board\n"  # not shared: as if none
    assert alice.put(f"{served.base}/api/boards/private", json={**TECH, "shared": True},
                     timeout=10).status_code == 200
    r = bob.get(shared_url, timeout=10)
    assert r.status_code == 200 and r.json()["symbols"] == TECH["symbols"]
    assert r.json()["owner"] == "alice"
    r = bob.put(shared_url, json={"symbols": ["TSLA"]}, timeout=10)
    assert r.status_code == 403 and r.text == "another user's board is read-only\n"
    assert bob.delete(shared_url, timeout=10).status_code == 403
    assert alice.get(f"{served.base}/api/boards/private",
                     timeout=10).json()["symbols"] == TECH["symbols"]
    # bob's own board of the same name is bob's, and leaves alice's alone
    assert bob.put(f"{served.base}/api/boards/private", json={"symbols": ["TSLA"]},
                   timeout=10).status_code == 200
    assert bob.delete(f"{served.base}/api/boards/private", timeout=10).status_code == 204
    assert alice.get(f"{served.base}/api/boards/private", timeout=10).status_code == 200


def test_delete_forgets_the_board(served):
    alice = as_user(served, "alice")
    url = f"{served.base}/api/boards/gone"
    assert alice.put(url, json={"symbols": ["AAPL"]}, timeout=10).status_code == 200
    assert alice.delete(url, timeout=10).status_code == 204
    assert alice.get(url, timeout=10).status_code == 404
    assert alice.delete(url, timeout=10).status_code == 404


def test_a_token_acts_for_the_user_of_its_name(served):
    bearer = {"Authorization": f"Bearer {served.token}"}
    url = f"{served.base}/api/boards/bot"
    r = requests.put(url, json={"symbols": ["AAPL"]}, headers=bearer, timeout=10)
    assert r.status_code == 200 and r.json()["owner"] == "ci-bot"
    assert requests.get(f"{served.base}/api/boards", headers=bearer,
                        timeout=10).json()["boards"] == ["bot"]
    assert as_user(served, "alice").get(url, timeout=10).status_code == 404  # not alice's
    r = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert r.status_code == 401


def test_strangers_are_refused(served):
    for method in ("GET", "PUT", "DELETE"):
        r = requests.request(method, f"{served.base}/api/boards/tech", json=TECH, timeout=10)
        assert r.status_code == 401
    assert requests.get(f"{served.base}/api/boards", timeout=10).status_code == 401


@pytest.mark.parametrize(("path", "body", "status", "line"), [
    ("/api/boards/tech", {"symbols": ["<script>alert(1)</script>"]}, 400,
     "symbols: 1 not ticker symbols (e.g. AAPL, BRK.B, BINANCE:BTCUSDT)"),
    ("/api/boards/tech", {"symbols": ["AAPL"], "alerts": "TSLA<200"}, 400,
     "alerts: 1 on symbols not on the board"),
    ("/api/boards/tech", {"symbols": ["AAPL"], "sort": "price"}, 400,
     "sort must be one of symbol, last, change, volume, '-' in front for descending, "
     "or empty"),
    ("/api/boards/tech", {"symbols": ["AAPL"], "theme": "pink"}, 400,
     "theme must be one of auto, light, dark"),
    ("/api/boards/tech", {"symbols": [f"S{i}" for i in range(51)]}, 400,
     "symbols: at most 50 on a board"),
    ("/api/boards/a%2Fb", {"symbols": []}, 400,
     "a board name is 1 to 40 letters, digits, spaces, _ or -"),
    ("/api/boards/" + "x" * 41, {"symbols": []}, 400,
     "a board name is 1 to 40 letters, digits, spaces, _ or -"),
    ("/api/boards/tech", {"symbols": ["AAPL"] * 3000}, 413,
     "a board is at most 16384 bytes of JSON"),
])
def test_bad_input_is_one_line(served, path, body, status, line):
    r = as_user(served, "alice").put(served.base + path, json=body, timeout=10)
    assert (r.status_code, r.text) == (status, line + "\n")


def test_a_put_must_be_json(served):
    alice = as_user(served, "alice")
    url = f"{served.base}/api/boards/tech"
    r = alice.put(url, data="symbols=AAPL",
                  headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.status_code == 415
    r = alice.put(url, data="{not json", headers={"Content-Type": "application/json"},
                  timeout=10)
    assert (r.status_code, r.text) == (400, "the body is not JSON\n")


def test_with_sign_in_off_the_page_and_the_api_share_the_local_users_boards(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"),
           "PHOTON_BOARDS": str(tmp_path / "boards.sqlite3")}
    with photon_server(tmp_path, env=env) as server:
        r = requests.put(server.url("/api/boards/main"), json={"symbols": ["NVDA", "AMD"]},
                         timeout=10)
        assert r.status_code == 200 and r.json()["owner"] == "local"
        page = requests.get(server.url("/app"), timeout=10).text  # the last board opened
        assert '<th scope="row">NVDA</th>' in page and '<th scope="row">AMD</th>' in page
        assert '<th scope="row">AAPL</th>' not in page
        page = requests.get(server.url("/app?symbols=TSLA"), timeout=10).text  # unsaved
        assert '<th scope="row">TSLA</th>' in page and '<th scope="row">NVDA</th>' not in page
        assert requests.get(server.url("/api/boards"), timeout=10).json() == {
            "boards": ["main"]}
