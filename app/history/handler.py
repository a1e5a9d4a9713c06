"""``GET /history?symbol=AAPL&interval=1m[&start=&end=][&format=csv]``: stored bars.

Answers ``{"symbol", "interval", "bars": [{"t","o","h","l","c","v"}, ...]}`` sorted by
``t`` (bar start, epoch s), or the same as CSV. Without ``start`` it is the symbol's
last session on record. An unknown symbol has no bars; a malformed query gets 400 and
one plain-text line that repeats nothing of the query.

No reply stalls the board: more than ``PHOTON_HISTORY_MAX_BARS`` bars is a 400 saying
how to narrow the query; the query and its encoding run on a small thread pool, off
the event loop every viewer's updates go through; and each client has a request rate
(a token bucket: 429 with ``Retry-After`` past it).
"""

from __future__ import annotations

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from app.access import clients
from app.access.identity import Guarded
from app.access.rate import RateLimits, retry_after
from app.history import service
from app.history.bars import INTERVALS, to_csv
from app.runtime import metrics
from app.symbols import MAX_ENTRY_CHARS, SYMBOL_RE


class BadQuery(ValueError):
    """A query /history cannot answer; the message names the parameter, never its value."""


@dataclass(frozen=True, slots=True)
class Query:
    symbol: str
    interval: str
    start: int | None
    end: int | None
    csv: bool


def _epoch(name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadQuery(f"{name} must be epoch seconds") from None
    if not math.isfinite(value) or not 0 <= value < 2**40:
        raise BadQuery(f"{name} must be epoch seconds")
    return int(value)


def parse_query(args: dict[str, str | None]) -> Query:
    """The query from its raw arguments; :class:`BadQuery` (one line) if malformed."""
    symbol = (args.get("symbol") or "").strip().upper()
    if len(symbol) > MAX_ENTRY_CHARS or not SYMBOL_RE.match(symbol):
        raise BadQuery("symbol is missing or not a ticker symbol")
    interval = args.get("interval") or "1m"
    if interval not in INTERVALS:
        raise BadQuery("interval must be one of " + ", ".join(INTERVALS))
    start, end = _epoch("start", args.get("start")), _epoch("end", args.get("end"))
    if start is not None and end is not None and end < start:
        raise BadQuery("end must not be before start")
    fmt = args.get("format") or "json"
    if fmt not in ("json", "csv"):
        raise BadQuery("format must be json or csv")
    return Query(symbol, interval, start, end, fmt == "csv")


class TooManyBars(ValueError):
    """A reply over the bound; the message says how to narrow the query."""


#: Most bars in one reply (PHOTON_HISTORY_MAX_BARS).
MAX_BARS = 10_000


def too_many(query: Query, count: int, max_bars: int) -> TooManyBars:
    """The 400's line: how many bars were asked, the bound, and how to narrow it."""
    coarser = [i for i, s in INTERVALS.items() if s > INTERVALS[query.interval]]
    return TooManyBars(
        f"{count} bars asked, at most {max_bars} per reply: narrow start/end"
        + (f" or take a longer interval ({', '.join(coarser)})" if coarser else ""))


def answer(query: Query, max_bars: int = MAX_BARS) -> tuple[str, str]:
    """(content type, body) of ``query``'s reply: the work a request costs, run on the
    pool. Raises :class:`TooManyBars` past ``max_bars``."""
    history = service.get()
    window: tuple[int | None, int | None] | None = (query.start, query.end)
    if history is not None and query.start is None:  # the last session (before ``end``)
        window = history.last_session(query.symbol, query.end)
    bars = []
    if history is not None and window is not None:
        minutes = history.minutes_stored(query.symbol, *window)
        if query.interval == "1m" and minutes is not None and minutes > max_bars:
            raise too_many(query, minutes, max_bars)  # known without reading them
        bars = history.bars(query.symbol, query.interval, *window)
    if len(bars) > max_bars:
        raise too_many(query, len(bars), max_bars)
    if query.csv:
        return "text/csv; charset=utf-8", to_csv(bars)
    return "application/json", json.dumps(
        {"symbol": query.symbol, "interval": query.interval,
         "bars": [b.as_dict() for b in bars]}, separators=(",", ":"))


class Limits:
    """The route's bounds, set from the settings at start-up (:func:`configure`)."""

    def __init__(self, max_bars: int = MAX_BARS, rate: RateLimits | None = None):
        self.max_bars = max_bars
        self.rate = rate


_limits = Limits()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def configure(max_bars: int, rate: float | None = None, burst: int = 1) -> None:
    """Bound replies to ``max_bars`` and each client to ``rate`` requests a second after
    a ``burst`` (None: no rate)."""
    global _limits
    _limits = Limits(max_bars, None if rate is None else RateLimits(rate, burst))


def pool() -> ThreadPoolExecutor:
    """One thread for every /history request of the process: queries wait their turn
    there, never on the event loop. One, because the work (resampling, encoding) holds
    the GIL: each more thread would take another share of it from the event loop."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="photon-history")
        return _pool


class HistoryHandler(Guarded, RequestHandler):
    """Bars from this process's history store (empty where it keeps none)."""

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        names = ("symbol", "interval", "start", "end", "format")
        try:
            query = parse_query({n: self.get_query_argument(n, None) for n in names})
        except BadQuery as exc:
            self._plain(400, f"bad query: {exc}")
            return
        limits = _limits
        if limits.rate is not None:
            wait = limits.rate.take(await clients.client_of(self))
            if wait > 0:
                metrics.observe_refused("history_rate")
                self.set_header("Retry-After", str(retry_after(wait)))
                self._plain(429, "too many /history requests: try again in "
                            f"{retry_after(wait)} s")
                return
        try:
            content_type, body = await IOLoop.current().run_in_executor(
                pool(), answer, query, limits.max_bars)
        except TooManyBars as exc:
            metrics.observe_refused("history_bars")
            self._plain(400, f"bad query: {exc}")
            return
        self.set_header("Content-Type", content_type)
        self.finish(body)

    def _plain(self, status: int, line: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(line + "\n")
