"""Backfill: the minute bars of a symbol's current (or last) session, from where the
feed can get them, on the symbol's first subscription.

- mock: a seeded, plausible session (a Brownian bridge from the previous close to
  the current price), the same for the same seed, symbol and day;
- replay: the recording's trades before the point the replay starts from;
- Alpaca: ``GET /v2/stocks/bars`` (1Min), under the feed's own REST budget;
- Finnhub: ``GET /stock/candle`` (resolution 1), which free keys may not use: the
  first 403 notes "no history on this plan" and no further call is made.

Bars end before the minute the subscription started in: that minute and later
ones come from live trades, so nothing is counted twice. Feeds never import this
module; it reads what it needs from them.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

from app.feeds.base import Feed
from app.feeds.mock import ACTIVITY
from app.feeds.restkit import TokenBucket, redact
from app.history.bars import Bar, fold, minute
from app.market_hours import NEW_YORK, day_window, is_crypto_or_fx, session

log = logging.getLogger(__name__)

DAY_S = 86400
NO_PLAN = "no history on this plan"


# -- which session ----------------------------------------------------------------------
def last_session(symbol: str, now: float) -> tuple[int, int]:
    """(start, end) epoch s of the session in progress at ``now``, else the last one.

    Stocks: the NYSE regular session (a Saturday gives Friday's); crypto and FX: the
    last 24 hours. ``end`` is exclusive and never after ``now``'s minute.
    """
    cut = minute(now)
    if is_crypto_or_fx(symbol):
        return cut - DAY_S, cut
    day = datetime.fromtimestamp(now, UTC).astimezone(NEW_YORK).date()
    for _ in range(15):
        hours = session(day)
        if hours is not None and hours[0].timestamp() <= now:
            return int(hours[0].timestamp()), min(int(hours[1].timestamp()), cut)
        day -= timedelta(days=1)
    return cut - DAY_S, cut


def session_around(symbol: str, ts: float) -> tuple[int, int]:
    """(start, end) of the session holding the bar at ``ts`` (a stored bar's start)."""
    if is_crypto_or_fx(symbol):
        return int(ts) + 60 - DAY_S, int(ts) + 60
    start, end = last_session(symbol, ts)
    return start, max(end, int(ts) + 60)


@dataclass
class Fetched:
    """What a backfill got: bars (sorted), and a note for the symbol's row if any."""

    bars: list[Bar] = field(default_factory=list)
    note: str = ""


# -- mock ---------------------------------------------------------------------------------
def mock_session(symbol: str, start: int, end: int, *, first: float, last: float,
                 vol: float, rate: float, lot: int, seed: object = None,
                 activity: Callable[[int], float] | None = None) -> list[Bar]:
    """Minute bars over [start, end): from ``first`` to ``last`` along a seeded bridge.

    ``vol`` is the mock's volatility per sqrt(second); a session uses a quarter of it
    (the live mock is livelier than a real day). Volume is U-shaped over the day, times
    ``activity(t)`` of each minute (the extended hours trade a tenth as much); minutes
    without any activity (the market closed) have no bar.
    """
    n = max(0, (end - start) // 60)
    if n == 0:
        return []
    rng = random.Random(f"{seed}|{symbol}|{start}")
    sigma = vol * math.sqrt(60) / 4
    walk = [0.0]
    for _ in range(n):
        walk.append(walk[-1] + rng.gauss(0.0, sigma))
    drift = math.log(last / first) - walk[-1]
    path = [first * math.exp(w + drift * i / n) for i, w in enumerate(walk)]
    bars = []
    for i in range(n):
        o, c = round(path[i], 2), round(path[i + 1], 2)
        wick = abs(rng.gauss(0.0, sigma / 2))
        h = round(max(o, c) * (1 + wick), 2)
        lo = round(min(o, c) * (1 - abs(rng.gauss(0.0, sigma / 2))), 2)
        x = i / max(n - 1, 1)
        shape = 1.0 + 2.5 * (x - 0.5) ** 2 * 4  # busier at the open and the close
        weight = 1.0 if activity is None else activity(start + 60 * i)
        v = float(max(1, int(rate * 60 * lot * shape * weight * rng.uniform(0.5, 1.5))))
        if weight > 0:
            bars.append(Bar(start + 60 * i, o, max(h, o, c), max(0.01, min(lo, o, c)), c, v))
    return bars


class MockBackfill:
    """A seeded day for the mock feed's instruments, ending at the current price: its
    trading day so far, extended hours included, as the mock trades it (a tenth as
    busy outside the regular session)."""

    is_fast = True

    def __init__(self, feed: Feed, clock: Callable[[], float] = time.time):
        self.feed = feed
        self._clock = clock

    def window(self, symbol: str) -> tuple[int, int]:
        now = self._clock()
        start, end = day_window(symbol, now)
        return start, min(end, minute(now))

    def session(self, symbol: str) -> Fetched:
        ins = self.feed.market.instruments.get(symbol)  # a MockFeed
        if ins is None:
            return Fetched()
        start, end = self.window(symbol)
        return self._bars(symbol, start, end, ins.prev_close,
                          self.feed.market.price(symbol))

    def between(self, symbol: str, start: int, end: int, *,
                close: float | None = None) -> Fetched:
        """An earlier day [start, end) ending at ``close`` (the next day's open; default
        the current price), from a seeded open near it."""
        ins = self.feed.market.instruments.get(symbol)
        if ins is None:
            return Fetched()
        last = close if close is not None else self.feed.market.price(symbol)
        rng = random.Random(f"{getattr(self.feed, 'seed', None)}|{symbol}|{start}|open")
        first = last * math.exp(rng.gauss(0.0, ins.vol * math.sqrt(end - start) / 4))
        return self._bars(symbol, start, end, first, last)

    def _bars(self, symbol: str, start: int, end: int, first: float, last: float) -> Fetched:
        ins = self.feed.market.instruments[symbol]
        phase, share = self.feed.phase, ACTIVITY

        def activity(t: int) -> float:
            return share[phase(symbol, datetime.fromtimestamp(t, UTC))]
        return Fetched(mock_session(symbol, start, end, first=round(first, 2),
                                    last=last, vol=ins.vol, rate=ins.rate, lot=ins.lot,
                                    seed=getattr(self.feed, "seed", None), activity=activity))


# -- replay -------------------------------------------------------------------------------
class ReplayBackfill:
    """The recording's trades before the replay's start point, as bars."""

    is_fast = True

    def __init__(self, feed: Feed):
        self.feed = feed

    def window(self, symbol: str) -> tuple[int, int]:
        return 0, 2**62

    def session(self, symbol: str) -> Fetched:
        recorded = self.feed.recording.ticks  # a ReplayFeed
        if not recorded:
            return Fetched()
        begin = recorded[0].rx + self.feed.start_s
        before = [r.tick for r in recorded if r.rx < begin and r.tick.symbol == symbol]
        bars = fold(before)
        return Fetched(sorted(bars.values(), key=lambda b: b.t))


# -- REST providers -------------------------------------------------------------------------
def _num(value: object) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) and value >= 0 else None


def _bar(t: object, o: object, h: object, lo: object, c: object, v: object) -> Bar | None:
    vals = [_num(x) for x in (o, h, lo, c, v)]
    if not isinstance(t, int | float) or any(x is None for x in vals) or min(vals[:4]) <= 0:
        return None
    return Bar(minute(t), *vals)


def parse_alpaca_bars(symbol: str, data: object) -> tuple[list[Bar], str | None]:
    """Bars of ``symbol`` from a ``/v2/stocks/bars`` answer, and the next page token."""
    from app.feeds.alpaca import parse_time

    if not isinstance(data, dict):
        return [], None
    items = (data.get("bars") or {}).get(symbol) or []
    out = []
    for item in items if isinstance(items, list) else []:
        try:
            t = parse_time(item.get("t")) if isinstance(item, dict) else None
        except ValueError:
            t = None
        if t is not None and (b := _bar(t, item.get("o"), item.get("h"), item.get("l"),
                                        item.get("c"), item.get("v"))):
            out.append(b)
    token = data.get("next_page_token")
    return out, token if isinstance(token, str) and token else None


def parse_finnhub_candles(data: object) -> list[Bar]:
    """Bars from a ``/stock/candle`` answer (``s: no_data`` gives none)."""
    if not isinstance(data, dict) or data.get("s") != "ok":
        return []
    cols = [data.get(k) for k in ("t", "o", "h", "l", "c", "v")]
    if not all(isinstance(c, list) for c in cols) or len({len(c) for c in cols}) != 1:
        return []
    return [b for row in zip(*cols, strict=True) if (b := _bar(*row))]


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RestBackfill:
    """Shared shape of the REST backfills: the window, the budget, one note on refusal."""

    is_fast = False

    def __init__(self, base_url: str, secrets: tuple[str, ...], limiter: TokenBucket | None,
                 *, timeout_s: float = 10.0, clock: Callable[[], float] = time.time):
        self.base_url = base_url.rstrip("/")
        self._secrets = secrets
        self.limiter = limiter or TokenBucket(60)
        self.timeout_s = timeout_s
        self._clock = clock
        self.session_http = requests.Session()
        self.refused = ""
        """Set on the provider's first 401/403: no further calls (no retry storm)."""
        self.calls = 0

    def window(self, symbol: str) -> tuple[int, int]:
        return last_session(symbol, self._clock())

    def _get(self, url: str, params: dict) -> requests.Response | None:
        if not self.limiter.try_acquire():
            log.info("history backfill skipped: the REST budget is spent for now")
            return None
        self.calls += 1
        try:
            return self.session_http.get(url, params=params, timeout=self.timeout_s)
        except requests.RequestException as exc:
            log.warning("history backfill: %s", redact(str(exc), *self._secrets)[:200])
            return None

    def session(self, symbol: str) -> Fetched:
        if self.refused:
            return Fetched(note=self.refused)
        start, end = self.window(symbol)
        return self._fetch(symbol, start, end)

    def between(self, symbol: str, start: int, end: int, *,
                close: float | None = None) -> Fetched:
        """An earlier day's bars [start, end) (the chart's "5 days")."""
        if self.refused:
            return Fetched(note=self.refused)
        return self._fetch(symbol, start, end)

    def _fetch(self, symbol: str, start: int, end: int) -> Fetched:  # pragma: no cover
        raise NotImplementedError

    def _refuse(self, status: int) -> Fetched:
        self.refused = NO_PLAN
        log.warning("history backfill: the provider answered HTTP %d: %s", status, NO_PLAN)
        return Fetched(note=NO_PLAN)


class AlpacaBackfill(RestBackfill):
    """``/v2/stocks/bars`` with ``timeframe=1Min`` (IEX on the free plan), paged."""

    def __init__(self, key_id: str, secret: str, base_url: str, limiter: TokenBucket | None,
                 *, data_feed: str = "iex", **kwargs):
        super().__init__(base_url, (key_id, secret), limiter, **kwargs)
        self.session_http.headers.update({"APCA-API-KEY-ID": key_id,
                                          "APCA-API-SECRET-KEY": secret})
        self.data_feed = data_feed

    def _fetch(self, symbol: str, start: int, end: int) -> Fetched:
        params = {"symbols": symbol, "timeframe": "1Min", "start": _iso(start),
                  "end": _iso(end), "limit": 10000, "feed": self.data_feed, "sort": "asc"}
        bars: list[Bar] = []
        for _ in range(10):  # pages; a day of minutes is one page
            answer = self._get(f"{self.base_url}/v2/stocks/bars", params)
            if answer is None:
                break
            if answer.status_code in (401, 403):
                return self._refuse(answer.status_code)
            if answer.status_code != 200:
                log.warning("history backfill %s: Alpaca answered HTTP %d", symbol,
                            answer.status_code)
                break
            try:
                page, token = parse_alpaca_bars(symbol, answer.json())
            except ValueError:
                break
            bars.extend(page)
            if not token:
                break
            params["page_token"] = token
        return Fetched(sorted((b for b in bars if start <= b.t < end), key=lambda b: b.t))


class FinnhubBackfill(RestBackfill):
    """``/stock/candle`` at resolution 1 (paid plans); the key goes in a header."""

    def __init__(self, api_key: str, base_url: str, limiter: TokenBucket | None, **kwargs):
        super().__init__(base_url, (api_key,), limiter, **kwargs)
        self.session_http.headers["X-Finnhub-Token"] = api_key

    def _fetch(self, symbol: str, start: int, end: int) -> Fetched:
        answer = self._get(f"{self.base_url}/stock/candle",
                           {"symbol": symbol, "resolution": "1", "from": start, "to": end - 1})
        if answer is None:
            return Fetched()
        if answer.status_code in (401, 403):
            return self._refuse(answer.status_code)
        if answer.status_code != 200:
            log.warning("history backfill %s: Finnhub answered HTTP %d", symbol,
                        answer.status_code)
            return Fetched()
        try:
            bars = parse_finnhub_candles(answer.json())
        except ValueError:
            return Fetched()
        return Fetched(sorted((b for b in bars if start <= b.t < end), key=lambda b: b.t))


def backfill_for(feed: Feed, settings) -> MockBackfill | ReplayBackfill | RestBackfill | None:
    """The backfill of ``feed`` (the upstream this process holds), if it has one."""
    # The REST budget the feed's reference lookups already keep to, shared.
    rest = getattr(feed, "_rest", None)
    limiter = getattr(rest, "limiter", None)
    kind = feed.feed_type
    if kind == "mock":
        return MockBackfill(feed)
    if kind == "replay":
        return ReplayBackfill(feed)
    if kind == "alpaca":
        return AlpacaBackfill(settings.alpaca_key_id.reveal(),
                              settings.alpaca_secret_key.reveal(), settings.alpaca_rest_url,
                              limiter, data_feed="sip" if "/sip" in settings.alpaca_ws_url
                              else "iex")
    if kind == "finnhub":
        return FinnhubBackfill(settings.finnhub_api_key.reveal(), settings.finnhub_rest_url,
                               limiter)
    return None
