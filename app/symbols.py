"""Parsing and validating the ticker lists users type or put in a URL."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

#: ``AAPL``, ``BRK.B``, ``BINANCE:BTCUSDT``, ``OANDA:EUR_USD``.
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}(:[A-Z0-9][A-Z0-9._\-]{0,29})?$")
#: Longest entry we even try to read; anything longer is refused unread.
MAX_ENTRY_CHARS = 64
#: How many refused entries a message names before summarising.
MAX_NAMED = 8


@dataclass(frozen=True)
class Selection:
    """Outcome of parsing a ticker list: what to keep and what was refused, and why."""

    symbols: tuple[str, ...]
    invalid: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    over_cap: tuple[str, ...] = field(default=())
    cap: int = 0

    @property
    def ok(self) -> bool:
        return not (self.invalid or self.unknown or self.over_cap)

    def message(self) -> str:
        """Plain text (never HTML) naming what was dropped; empty when nothing was."""
        parts = []
        if self.invalid:
            parts.append(f"Ignored malformed symbols: {_name(self.invalid)}.")
        if self.unknown:
            parts.append(f"Unknown symbols: {_name(self.unknown)}.")
        if self.over_cap:
            parts.append(
                f"At most {self.cap} symbols per session; dropped {len(self.over_cap)}: "
                f"{_name(self.over_cap)}."
            )
        return " ".join(parts)


def _name(items: tuple[str, ...]) -> str:
    shown = ", ".join(repr(i) if not i.strip() else i for i in items[:MAX_NAMED])
    more = len(items) - MAX_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def split_symbols(raw: str | Iterable[str] | None) -> list[str]:
    """Split a comma/space separated string (or a list of them) into entries."""
    if raw is None:
        return []
    chunks = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for chunk in chunks:
        out.extend(p for p in re.split(r"[,\s]+", str(chunk)) if p)
    return out


def parse_symbols(raw: str | Iterable[str] | None, known: Collection[str] | None,
                  cap: int) -> Selection:
    """Normalise (upper case, de-duplicated, order kept), validate and cap a ticker list.

    ``known`` is the feed's universe; ``None`` accepts any well-formed symbol.
    """
    keep: list[str] = []
    invalid: list[str] = []
    unknown: list[str] = []
    over: list[str] = []
    seen: set[str] = set()
    for entry in split_symbols(raw):
        sym = entry.strip().upper()
        if len(sym) > MAX_ENTRY_CHARS:
            invalid.append(sym[:MAX_ENTRY_CHARS] + "…")
            continue
        if sym in seen:
            continue
        seen.add(sym)
        if not SYMBOL_RE.match(sym):
            invalid.append(entry.strip())
        elif known is not None and sym not in known:
            unknown.append(sym)
        elif len(keep) >= cap:
            over.append(sym)
        else:
            keep.append(sym)
    return Selection(tuple(keep), tuple(invalid), tuple(unknown), tuple(over), cap)
