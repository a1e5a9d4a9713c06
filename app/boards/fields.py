"""What a saved board holds, and the rules each field follows.

The same rules as the page's URL keys (``?symbols=``, ``?sort=``, ``?alerts=``,
``?theme=``), which read them from here; but where the page drops a bad entry and
says so, a saved board refuses it: :class:`BoardError`, one line that names the
field and never repeats the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.alerts.rules import parse_alerts
from app.symbols import parse_symbols

#: Columns the board sorts by (``-`` in front: descending).
SORT_KEYS = ("symbol", "last", "change", "volume")
#: ``auto`` follows the browser's ``prefers-color-scheme``.
THEMES = ("auto", "light", "dark")
#: A board's name: 1 to 40 letters, digits, spaces, ``_`` and ``-``.
NAME_RE = re.compile(r"^[A-Za-z0-9 _-]{1,40}$")
#: The board a user gets when they have none yet.
FIRST_BOARD = "main"
#: The owner of every board with sign-in off (``PHOTON_AUTH=none``): the one local user.
LOCAL_USER = "local"
FIELDS = ("symbols", "sort", "alerts", "theme", "shared")


class BoardError(ValueError):
    """A board (or its name) that breaks a rule; the message is one line."""


def parse_sort(raw: str | None) -> str:
    """``change``, ``-change``...; anything else (or none) is "" (the picker's order)."""
    value = (raw or "").strip().lower()
    return value if value.lstrip("-") in SORT_KEYS and value.count("-") <= 1 else ""


def theme_from_arg(raw: str | None) -> str:
    """The theme a ``?theme=`` value asks for; anything unknown (or none) means "auto"."""
    value = (raw or "").strip().lower()
    return value if value in THEMES else "auto"


def board_name(raw: str | None) -> str:
    """``raw`` as a board name (spaces at the ends dropped), or :class:`BoardError`."""
    name = (raw or "").strip()
    if not NAME_RE.match(name):
        raise BoardError("a board name is 1 to 40 letters, digits, spaces, _ or -")
    return name


@dataclass(frozen=True, slots=True)
class Board:
    """One saved board. ``shared``: other signed-in users may open it, read-only."""

    name: str
    symbols: tuple[str, ...] = ()
    sort: str = ""
    alerts: str = ""
    theme: str = "auto"
    shared: bool = False
    updated_at: float = field(default=0.0, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "symbols": list(self.symbols), "sort": self.sort,
                "alerts": self.alerts, "theme": self.theme, "shared": self.shared,
                "updated_at": self.updated_at}


def board_from_json(name: str, body: Any, max_symbols: int) -> Board:
    """The board ``body`` (the API's JSON object) describes, or :class:`BoardError`.

    ``symbols`` is required (a list, in board order); ``sort``, ``alerts`` (the
    ``?alerts=`` text), ``theme`` and ``shared`` default to none, none, auto and no.
    """
    if not isinstance(body, dict):
        raise BoardError("the body must be a JSON object")
    if unknown := sorted(set(body) - set(FIELDS) - {"name", "updated_at"}):
        raise BoardError(f"unknown field (the fields are {', '.join(FIELDS)}): "
                         f"{len(unknown)} of them")
    raw = body.get("symbols")
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise BoardError("symbols must be a list of ticker symbols")
    picked = parse_symbols(raw, None, max_symbols)
    if picked.invalid:
        raise BoardError(f"symbols: {len(picked.invalid)} not ticker symbols "
                         "(e.g. AAPL, BRK.B, BINANCE:BTCUSDT)")
    if picked.over_cap:
        raise BoardError(f"symbols: at most {max_symbols} on a board")
    sort = _text(body, "sort")
    if sort and parse_sort(sort) != sort.strip().lower():
        raise BoardError(f"sort must be one of {', '.join(SORT_KEYS)}, '-' in front "
                         "for descending, or empty")
    alerts = parse_alerts(_text(body, "alerts"), watched=set(picked.symbols))
    if alerts.malformed:
        raise BoardError(f"alerts: {len(alerts.malformed)} malformed (write SYMBOL>price, "
                         "SYMBOL<price or SYMBOL~percent%, comma separated)")
    if alerts.unwatched:
        raise BoardError(f"alerts: {len(alerts.unwatched)} on symbols not on the board")
    if alerts.over_cap:
        raise BoardError("alerts: too many on one board")
    theme = _text(body, "theme") or "auto"
    if theme not in THEMES:
        raise BoardError(f"theme must be one of {', '.join(THEMES)}")
    shared = body.get("shared", False)
    if not isinstance(shared, bool):
        raise BoardError("shared must be true or false")
    return Board(board_name(name), picked.symbols, parse_sort(sort), alerts.text(), theme,
                 shared)


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 8192:
        raise BoardError(f"{key} must be text")
    return value

