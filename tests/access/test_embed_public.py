"""PHOTON_EMBED_PUBLIC=1 with sign-in on: exactly the embed's doors open to anyone, and
still only to the sites of PHOTON_EMBED_ORIGINS."""

from __future__ import annotations

import pytest
import requests

from tests.access.doors import LOGIN, answer
from tests.access.signing import ALLOWED, write_files
from tests.support import photon_server

pytestmark = pytest.mark.server

OPEN = {"/sparkline?symbol=AAPL": 200, "/sparkline.js?symbol=AAPL": 200,
        "/sparkline/autoload.js?symbol=AAPL&bokeh-autoload-element=x": 200,
        "/photon/spark?symbol=AAPL": 101}
CLOSED = {"/app": LOGIN, "/app/ws": 403, "/photon/ticks?token=x": 401,
          "/history?symbol=AAPL": 401, "/metrics": 401}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("embed-public")
    users, _, _ = write_files(tmp)
    env = {"PHOTON_AUTH": "basic", "PHOTON_USERS_FILE": str(users),
           "PHOTON_ALLOWED_USERS": ALLOWED, "PHOTON_EMBED_PUBLIC": "1",
           "PHOTON_EMBED_ORIGINS": "shop.test:8080", "XDG_DATA_HOME": str(tmp / "data")}
    with photon_server(tmp, env=env) as server:
        yield server


def test_only_the_embed_opens_to_anyone(served):
    found = {path: answer(served.base, path, "ws" if "/photon/" in path or path.endswith("/ws")
                          else "http", {}, {}) for path in {**OPEN, **CLOSED}}
    assert found == {**OPEN, **CLOSED}
    assert requests.get(f"{served.base}/health", timeout=10).json().keys() == {"status"}


def test_the_open_embed_still_refuses_sites_not_listed(served):
    page = requests.get(f"{served.base}/sparkline?symbol=AAPL", timeout=10,
                        headers={"Referer": "http://elsewhere.test/page"})
    assert page.status_code == 403
    script = requests.get(f"{served.base}/sparkline.js?symbol=AAPL", timeout=10,
                          headers={"Referer": "http://elsewhere.test/page"})
    assert "may not embed live prices" in script.text and "photon-price" not in script.text
    listed = requests.get(f"{served.base}/sparkline?symbol=AAPL", timeout=10,
                          headers={"Referer": "http://shop.test:8080/page"})
    assert listed.status_code == 200 and 'data-symbol="AAPL"' in listed.text
