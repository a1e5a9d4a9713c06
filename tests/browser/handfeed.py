"""A Photon server on a fake Finnhub whose prices the test sets by hand, one trade at a
time: for what depends on exact prices (sorting by change, alerts crossing a level)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from tests.fakes import FakeFinnhub
from tests.support import Server, photon_server, wait_until

KEY = "sk-test-HANDFEED-1"


class HandFeed:
    """The fake upstream and the server reading it; :meth:`trade` moves a price."""

    def __init__(self, fake: FakeFinnhub, server: Server):
        self.fake = fake
        self.server = server

    def url(self, path: str) -> str:
        return self.server.url(path)

    def wait_subscribed(self, *symbols: str) -> None:
        wait_until(lambda: (c := self.fake.current) is not None and set(symbols) <= c.subscribed,
                   timeout=20, what=f"the upstream streaming {symbols}")

    def trade(self, symbol: str, price: float, size: int = 10) -> None:
        self.wait_subscribed(symbol)
        self.fake.trades({"s": symbol, "p": price, "t": int(time.time() * 1000), "v": size,
                          "c": ["1"]})


@contextlib.contextmanager
def hand_feed(tmp: Path, start: dict[str, float],
              prev_close: dict[str, float]) -> Iterator[HandFeed]:
    """Serve Photon on a fake Finnhub quoting ``start`` prices against ``prev_close``."""
    with FakeFinnhub(token=KEY) as fake:
        fake.quotes = {s: {"c": p, "d": None, "dp": None, "h": p, "l": p,
                           "o": prev_close[s], "pc": prev_close[s], "t": 1}
                       for s, p in start.items()}
        env = {"PHOTON_FEED": "finnhub", "FINNHUB_API_KEY": KEY,
               "PHOTON_PUSH_INTERVAL_MS": "100", "PHOTON_STALE_AFTER_S": "600",
               "FINNHUB_WS_URL": fake.ws_url, "FINNHUB_REST_URL": fake.rest_url}
        with photon_server(tmp, env=env) as server:
            yield HandFeed(fake, server)
