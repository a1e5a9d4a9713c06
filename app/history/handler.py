"""``GET /history?symbol=AAPL&interval=1m[&start=&end=][&format=csv]``: stored bars.

Answers ``{"symbol", "interval", "bars": [{"t","o","h","l","c","v"}, ...]}`` sorted by
``t`` (bar start, epoch s), or the same as CSV. An unknown symbol has no bars; a
malformed query gets 400 and one plain-text line that repeats nothing of the query.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from tornado.web import RequestHandler

from app.access.identity import Guarded
from app.history import service
from app.history.bars import INTERVALS, to_csv
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


class HistoryHandler(Guarded, RequestHandler):
    """Bars from this process's history store (empty where it keeps none)."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        names = ("symbol", "interval", "start", "end", "format")
        try:
            query = parse_query({n: self.get_query_argument(n, None) for n in names})
        except BadQuery as exc:
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"bad query: {exc}\n")
            return
        history = service.get()
        bars = [] if history is None else history.bars(query.symbol, query.interval,
                                                       query.start, query.end)
        if query.csv:
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.finish(to_csv(bars))
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"symbol": query.symbol, "interval": query.interval,
                                "bars": [b.as_dict() for b in bars]}, separators=(",", ":")))
