"""A feed that crashes is shown on the board and in /health, and comes back by itself.

The crash is injected into a real server process by a ``sitecustomize`` on its
``PYTHONPATH`` (test-only): the mock feed's loop raises once, after a few seconds
of prices.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import browser, page  # noqa: F401  (fixtures)
from tests.browser.helpers import open_board, prices
from tests.support import ROOT, get_json, photon_server, wait_until

pytestmark = pytest.mark.browser

CRASH_ONCE = '''
import time
from app.feeds.mock import MockFeed

_original = MockFeed._run
_crashed = []


def _run(self):
    if _crashed:
        return _original(self)
    _crashed.append(True)
    self.restart_base_s = 6.0  # long enough for the test to read the countdown
    self.state = "live"
    began = last = time.monotonic()
    while not self._stop.wait(self.step_s):
        now = time.monotonic()
        self._emit(self.market.step(sorted(self.symbols), now - last, time.time()))
        last = now
        if self.symbols and now - began > 4:
            raise RuntimeError("injected crash for the test")


MockFeed._run = _run
'''


def status_text(pg) -> str:
    return pg.locator(".photon-status").inner_text()


def test_a_crashed_feed_says_so_on_the_board_and_in_health_then_recovers(
        tmp_path: Path, page):  # noqa: F811
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(CRASH_ONCE)
    env = {"PYTHONPATH": os.pathsep.join([str(shim), str(ROOT)])}
    with photon_server(tmp_path, env=env) as server:
        open_board(page, server.url("/app?symbols=AAPL,MSFT"))
        wait_until(lambda: (p := prices(page)) and "—" not in p.values(), timeout=30,
                   what="prices")
        wait_until(lambda: "feed error: RuntimeError: injected crash for the test"
                   in status_text(page) and "retrying in" in status_text(page),
                   timeout=20, what="the error and the countdown on the status line")
        status, body = get_json(server.url("/health"))
        assert status == 503 and body["status"] == "down" and body["state"] == "down"
        assert body["detail"].startswith("feed error: RuntimeError: injected crash")
        assert "retrying in" in body["detail"]
        page.screenshot(path=str(tmp_path / "feed-error.png"))
        if shots := os.environ.get("PHOTON_SHOTS"):
            page.screenshot(path=str(Path(shots) / "feed-error.png"))
        assert "injected crash" in server.output() and "Traceback" in server.output()
        frozen = prices(page)
        wait_until(lambda: "live" in status_text(page) and "feed error"
                   not in status_text(page), timeout=30, what="live again")
        wait_until(lambda: prices(page) != frozen, timeout=20, what="prices move again")
        assert get_json(server.url("/health"))[0] == 200
