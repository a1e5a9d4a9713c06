"""/history cannot stall the board: bounded replies, the last session by default, a rate
per client, and the query and its encoding on the pool, not on the event loop."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application

from app.history import handler, service
from app.history.bars import Bar
from app.history.handler import HistoryHandler
from app.history.service import History
from app.history.store import BarStore

FRIDAY = 1_763_735_400  # 2025-11-21 09:30 New York: a regular session's first minute
MONDAY = FRIDAY + 3 * 86400


def bars(start: int, n: int) -> list[Bar]:
    return [Bar(start + 60 * i, 10, 11, 9, 10.5, 100) for i in range(n)]


class Limited(AsyncHTTPTestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "h.sqlite3"
        BarStore(path).backfill("AAPL", bars(FRIDAY, 390) + bars(MONDAY, 120))
        service.install(History(path, write=False))
        handler.configure(max_bars=400, rate=None)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        handler.configure(handler.MAX_BARS, rate=None)
        service.uninstall()
        self._dir.cleanup()

    def get_app(self):
        return Application([("/history", HistoryHandler)])

    def test_without_start_the_reply_is_the_last_session(self):
        answer = self.fetch("/history?symbol=AAPL")
        assert answer.code == 200, answer.body
        got = [b["t"] for b in json.loads(answer.body)["bars"]]
        assert got == [MONDAY + 60 * i for i in range(120)]
        # with `end` only: the last session before it
        friday = json.loads(self.fetch(f"/history?symbol=AAPL&end={MONDAY}").body)["bars"]
        assert len(friday) == 390 and friday[0]["t"] == FRIDAY

    def test_more_bars_than_the_bound_is_a_400_that_says_how_to_narrow_it(self):
        answer = self.fetch("/history?symbol=AAPL&start=0")
        assert answer.code == 400
        text = answer.body.decode()
        assert text == ("bad query: 510 bars asked, at most 400 per reply: narrow "
                        "start/end or take a longer interval (5m, 15m, 1h, 1d)\n")
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert self.fetch("/history?symbol=AAPL&start=0&interval=5m").code == 200
        assert self.fetch(f"/history?symbol=AAPL&start={MONDAY}").code == 200

    def test_past_its_rate_a_client_gets_429_with_retry_after(self):
        handler.configure(max_bars=400, rate=0.01, burst=2)
        assert [self.fetch("/history?symbol=AAPL").code for _ in range(2)] == [200, 200]
        answer = self.fetch("/history?symbol=AAPL")
        assert answer.code == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.body.decode().startswith("too many /history requests")
        # a malformed query is refused before it costs a token
        handler.configure(max_bars=400, rate=0.01, burst=1)
        assert self.fetch("/history?symbol=%3Cb%3E").code == 400
        assert self.fetch("/history?symbol=AAPL").code == 200

    def test_the_query_and_the_encoding_run_off_the_event_loop(self):
        seen: dict[str, str] = {}
        history = service.get()
        read, encode = history.bars, handler.to_csv

        def recording_bars(*args, **kwargs):
            seen["query"] = threading.current_thread().name
            return read(*args, **kwargs)

        def recording_csv(rows):
            seen["encoding"] = threading.current_thread().name
            return encode(rows)

        history.bars = recording_bars
        handler.to_csv = recording_csv
        try:
            answer = self.fetch("/history?symbol=AAPL&format=csv")
        finally:
            handler.to_csv = encode
            del history.bars
        assert answer.code == 200 and len(answer.body.decode().splitlines()) == 121
        loop_thread = threading.current_thread().name  # the test's loop runs here
        assert seen["query"].startswith("photon-history") and seen["query"] != loop_thread
        assert seen["encoding"].startswith("photon-history")
