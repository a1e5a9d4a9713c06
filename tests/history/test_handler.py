"""GET /history on a served Tornado app: JSON, CSV, intervals, ranges, bad queries."""

from __future__ import annotations

import json

import pytest
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application

from app.history import service
from app.history.bars import Bar
from app.history.handler import BadQuery, HistoryHandler, parse_query
from app.history.service import History
from app.history.store import BarStore

T0 = 1_764_000_000 - 1_764_000_000 % 86400  # a UTC midnight


@pytest.mark.parametrize("args", [
    {}, {"symbol": "<script>alert(1)</script>"}, {"symbol": "AAPL", "interval": "2m"},
    {"symbol": "AAPL", "start": "yesterday"}, {"symbol": "AAPL", "start": "nan"},
    {"symbol": "AAPL", "start": "10", "end": "5"}, {"symbol": "AAPL", "format": "xml"},
    {"symbol": "A" * 200},
])
def test_malformed_queries_are_refused(args):
    with pytest.raises(BadQuery):
        parse_query(args)


def test_a_good_query():
    q = parse_query({"symbol": "aapl", "interval": "5m", "start": "100", "format": "csv"})
    assert (q.symbol, q.interval, q.start, q.end, q.csv) == ("AAPL", "5m", 100, None, True)


class HistoryRoute(AsyncHTTPTestCase):
    def setUp(self):
        import tempfile
        from pathlib import Path

        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "h.sqlite3"
        BarStore(path).backfill("AAPL", [Bar(T0 + 60 * i, 10 + i, 11 + i, 9 + i, 10.5 + i, 100)
                                         for i in range(120)])
        service.install(History(path, write=False))
        super().setUp()

    def tearDown(self):
        super().tearDown()
        service.uninstall()
        self._dir.cleanup()

    def get_app(self):
        return Application([("/history", HistoryHandler)])

    def _json(self, query: str) -> dict:
        answer = self.fetch(f"/history?{query}")
        assert answer.code == 200, answer.body
        assert answer.headers["Content-Type"] == "application/json"
        return json.loads(answer.body)

    def test_one_minute_bars_sorted(self):
        body = self._json("symbol=AAPL&interval=1m")
        assert body["symbol"] == "AAPL" and body["interval"] == "1m"
        assert len(body["bars"]) == 120
        assert body["bars"][0] == {"t": T0, "o": 10.0, "h": 11.0, "l": 9.0, "c": 10.5, "v": 100.0}
        assert [b["t"] for b in body["bars"]] == sorted(b["t"] for b in body["bars"])

    def test_coarser_intervals_and_ranges(self):
        assert len(self._json("symbol=AAPL&interval=5m")["bars"]) == 24
        assert len(self._json("symbol=AAPL&interval=15m")["bars"]) == 8
        hour = self._json("symbol=AAPL&interval=1h")["bars"]
        assert [b["t"] for b in hour] == [T0, T0 + 3600]
        assert hour[0]["v"] == 6000.0 and hour[0]["c"] == 10.5 + 59
        assert len(self._json("symbol=AAPL&interval=1d")["bars"]) == 1
        ranged = self._json(f"symbol=AAPL&start={T0 + 600}&end={T0 + 900}")["bars"]
        assert [b["t"] for b in ranged] == [T0 + 600 + 60 * i for i in range(5)]

    def test_unknown_symbol_has_no_bars(self):
        assert self._json("symbol=ZZZZ")["bars"] == []

    def test_csv(self):
        answer = self.fetch("/history?symbol=AAPL&interval=1h&format=csv")
        assert answer.code == 200 and answer.headers["Content-Type"].startswith("text/csv")
        lines = answer.body.decode().splitlines()
        assert lines[0] == "t,o,h,l,c,v" and len(lines) == 3

    def test_bad_query_is_one_line_and_echoes_nothing(self):
        for query in ("symbol=%3Cscript%3Ealert(1)%3C/script%3E", "symbol=AAPL&interval=%3Cb%3E",
                      "symbol=AAPL&start=%3Cimg%20src=x%3E"):
            answer = self.fetch(f"/history?{query}")
            assert answer.code == 400
            text = answer.body.decode()
            assert text.count("\n") == 1 and "<" not in text and "script" not in text
            assert answer.headers["Content-Type"].startswith("text/plain")
