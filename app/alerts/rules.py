"""Price alerts: ``AAPL>230.5`` (at or above), ``TSLA<200`` (at or below), ``NVDA~2%``
(a move of 2 % either way from the price when the alert was set).

The one implementation of the syntax and of the rule, shared by the page
(``app/views/alerts.py`` re-exports it; ``app/views/alerts.js`` mirrors :func:`holds`
and :func:`step`, and ``tests/views/test_alerts.py`` runs both on the same cases) and
by the server's engine (:mod:`app.alerts.engine`), so an alert fires on the server
exactly when it fires in a tab. An alert fires once when its condition starts to hold
and re-arms when it stops holding; a fresh alert is armed, so one that already holds
fires at the first price.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from app.symbols import SYMBOL_RE, split_symbols

#: Most alerts a page keeps (a URL is no place for thousands).
MAX_ALERTS = 100
#: Longest entry we even try to read.
MAX_ENTRY_CHARS = 64
#: How many refused entries a notice names before summarising.
MAX_NAMED = 8

OPS = {">": "above", "<": "below", "~": "moves"}

_ENTRY = re.compile(r"^(?P<symbol>[^<>~]+)(?P<op>[<>~])(?P<value>[0-9]+(?:\.[0-9]+)?)"
                    r"(?P<pct>%?)$")


@dataclass(frozen=True, slots=True)
class Alert:
    """One condition on one symbol's last price."""

    symbol: str
    op: str
    """``>`` at or above ``value``, ``<`` at or below it, ``~`` a move of ``value`` %."""
    value: float

    @property
    def key(self) -> str:
        """The canonical text, as in the URL: ``AAPL>230.5``, ``NVDA~2%``."""
        text = f"{self.value:.6f}".rstrip("0").rstrip(".")
        return f"{self.symbol}{self.op}{text}{'%' if self.op == '~' else ''}"

    def as_json(self) -> dict:
        return {"key": self.key, "symbol": self.symbol, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class AlertList:
    """Outcome of parsing an alert list: what to keep and what was refused."""

    alerts: tuple[Alert, ...]
    malformed: tuple[str, ...] = ()
    unwatched: tuple[str, ...] = ()
    over_cap: int = 0

    def text(self) -> str:
        """The list as ``?alerts=`` holds it."""
        return ",".join(a.key for a in self.alerts)

    def message(self) -> str:
        """Plain text (never HTML) naming what was dropped; empty when nothing was."""
        parts = []
        if self.malformed:
            parts.append(f"Ignored malformed alerts: {_name(self.malformed)} "
                         "(write SYMBOL>price, SYMBOL<price or SYMBOL~percent%).")
        if self.unwatched:
            parts.append(f"Ignored alerts on symbols not on the board: {_name(self.unwatched)}.")
        if self.over_cap:
            parts.append(f"At most {MAX_ALERTS} alerts; dropped {self.over_cap}.")
        return " ".join(parts)


def _name(items: tuple[str, ...]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    more = len(items) - MAX_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def parse_alert(entry: str) -> Alert | None:
    """One ``SYMBOL>price`` / ``SYMBOL<price`` / ``SYMBOL~N%`` entry, or None if malformed."""
    if len(entry) > MAX_ENTRY_CHARS:
        return None
    m = _ENTRY.match(entry.strip())
    if m is None:
        return None
    symbol, op = m["symbol"].strip().upper(), m["op"]
    value = float(m["value"])
    if not SYMBOL_RE.match(symbol) or not math.isfinite(value) or value <= 0:
        return None
    if op == "~" and value > 100:
        return None
    if op != "~" and m["pct"]:
        return None  # "AAPL>2%": a percentage only makes sense for a move
    return Alert(symbol, op, value)


def parse_alerts(raw: str | None, watched: Collection[str] | None = None) -> AlertList:
    """Validate a comma separated alert list; keep the good ones in order, once each.

    ``watched``: the board's symbols; alerts on others are refused (named), as an
    alert that can never fire is a mistake worth saying. ``None`` accepts any symbol.
    """
    keep: list[Alert] = []
    malformed: list[str] = []
    unwatched: list[str] = []
    seen: set[str] = set()
    over = 0
    for entry in split_symbols(raw):
        alert = parse_alert(entry)
        if alert is None:
            shown = entry if len(entry) <= MAX_ENTRY_CHARS else entry[:MAX_ENTRY_CHARS] + "…"
            malformed.append(shown)
        elif watched is not None and alert.symbol not in watched:
            unwatched.append(alert.key)
        elif alert.key in seen:
            continue
        elif len(keep) >= MAX_ALERTS:
            over += 1
        else:
            seen.add(alert.key)
            keep.append(alert)
    return AlertList(tuple(keep), tuple(malformed), tuple(unwatched), over)


def holds(alert: Alert, price: float | None, base: float | None) -> bool:
    """Whether ``alert``'s condition holds at ``price``; ``base`` is the price when a
    move alert was set (None: not known yet, so it cannot hold)."""
    if price is None:
        return False
    if alert.op == ">":
        return price >= alert.value
    if alert.op == "<":
        return price <= alert.value
    if not base:
        return False
    return abs(price / base - 1) * 100 >= alert.value - 1e-9


def step(alert: Alert, armed: bool, price: float | None,
         base: float | None) -> tuple[bool, bool]:
    """One new price: ``(fired, armed_after)``. Fires when armed and the condition
    holds; re-arms once it no longer holds (the price went back). No price: no change."""
    if price is None:
        return False, armed
    now = holds(alert, price, base)
    if armed and now:
        return True, False
    return False, armed or not now
