"""What the relay and the server processes say to each other through Redis.

One place for the key names and the message formats, as pure functions, so the
relay (:mod:`app.relay.publisher`) and the server side (:mod:`app.feeds.redis_feed`) cannot
drift apart.

Layout (prefix ``photon:``):

* ``t:SYM``: a pub/sub channel per symbol. Each message is one batch of that
  symbol's trades, ``{"at": publication time, "ticks": [[price, size, ts], ...]}``.
  A server subscribes to exactly the symbols its sessions watch, so it never
  receives, parses or filters a trade nobody on it wants; per-symbol channels keep
  each symbol's trades in order, which is the only order the board needs.
* ``q:SYM``: a hash with the symbol's last quote and reference prices, so a server
  that starts late, or a symbol newly watched, shows a price at once (pub/sub has
  no history).
* ``feed``: a hash with the upstream's name, label, state, error and the relay's
  heartbeat time ``beat``; a server says "relay down" when ``beat`` gets old.
* ``want:PROC``: a set per server process with the symbols its sessions watch,
  expiring unless the process refreshes it (heartbeat); ``procs`` is a sorted set
  of process ids by last heartbeat, and ``interest`` a channel that wakes the relay
  when a set changes.
* ``universe``: the upstream's symbols for the picker (JSON), set by the relay.
* ``relay:lock``: held by the one relay that talks to the upstream.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.ticks import FeedState, Reference, SymbolInfo, Tick

PREFIX = "photon:"
FEED_KEY = PREFIX + "feed"
UNIVERSE_KEY = PREFIX + "universe"
PROCS_KEY = PREFIX + "procs"
INTEREST_CHANNEL = PREFIX + "interest"
LOCK_KEY = PREFIX + "relay:lock"

#: A server's declaration of what it watches lives this long without a heartbeat.
WANT_TTL_S = 10.0
#: How often a server refreshes its declaration, and the relay its heartbeat.
HEARTBEAT_S = 0.5

# -- the schemas' bounds ----------------------------------------------------------
#: Longest channel message or hash value read at all; longer ones are refused unread.
MAX_MESSAGE_BYTES = 1 << 20
#: Trades per channel message (the relay splits bigger batches).
MAX_TICKS_PER_MESSAGE = 5000
#: Symbols one server process may declare; a bigger set is refused whole.
MAX_DECLARED = 1000
#: Symbols in the universe a relay publishes.
MAX_UNIVERSE = 20_000
#: Longest label, error text or company name shown.
MAX_TEXT = 500
#: Times (trade, publication, heartbeat) are Unix seconds within these bounds; a
#: time in milliseconds or a garbage number falls outside.
MIN_TS, MAX_TS = 946_684_800.0, 4_102_444_800.0  # 2000-01-01 .. 2100-01-01
#: A heartbeat this far in the future (clock skew) is believed, no further: a beat
#: from far ahead would keep a dead relay looking alive.
MAX_FUTURE_S = 60.0
#: The same syntax as :data:`app.symbols.SYMBOL_RE` (a test checks they agree):
#: ``AAPL``, ``BRK.B``, ``BINANCE:BTCUSDT``.
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}(:[A-Z0-9][A-Z0-9._\-]{0,29})?$")
#: Process ids in ``procs`` and ``want:PROC``.
PROC_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class Malformed(ValueError):
    """Input from Redis that does not match its schema; the message says why (no data)."""


def valid_symbol(symbol: object) -> bool:
    return isinstance(symbol, str) and SYMBOL_RE.match(symbol) is not None


def tick_channel(symbol: str) -> str:
    return f"{PREFIX}t:{symbol}"


def symbol_of_channel(channel: str | bytes) -> str:
    text = _text(channel, 200) if isinstance(channel, bytes) else channel
    return text[len(PREFIX) + 2:]


def quote_key(symbol: str) -> str:
    return f"{PREFIX}q:{symbol}"


def want_key(proc: str) -> str:
    return f"{PREFIX}want:{proc}"


# -- checks every decoder uses ----------------------------------------------------
def _text(raw: object, limit: int = MAX_TEXT) -> str:
    """A string from Redis: UTF-8, at most ``limit`` characters."""
    if isinstance(raw, bytes):
        if len(raw) > 4 * limit:
            raise Malformed(f"text longer than {limit} characters")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("not UTF-8") from None
    if not isinstance(raw, str):
        raise Malformed(f"expected text, got {type(raw).__name__}")
    if len(raw) > limit:
        raise Malformed(f"text longer than {limit} characters")
    return raw


def _number(raw: object, what: str, *, low: float = -math.inf, high: float = math.inf,
            above: float | None = None, text: bool = False) -> float:
    """A finite float in ``[low, high]`` (and ``> above``). JSON must hold a number;
    with ``text``, numeric text is read (hash fields are always strings)."""
    if isinstance(raw, bool):
        raise Malformed(f"{what} is not a number")
    if text and isinstance(raw, bytes | str):
        try:
            raw = float(_text(raw, 40))
        except ValueError:
            raise Malformed(f"{what} is not a number") from None
    if not isinstance(raw, int | float):
        raise Malformed(f"{what} is not a number")
    try:
        value = float(raw)
    except OverflowError:  # an int too big for a float
        raise Malformed(f"{what} out of range") from None
    if not math.isfinite(value) or value < low or value > high or (
            above is not None and value <= above):
        raise Malformed(f"{what} out of range")
    return value


def _timestamp(raw: object, what: str, text: bool = False) -> float:
    return _number(raw, what, low=MIN_TS, high=MAX_TS, text=text)


def _json(message: str | bytes) -> object:
    if len(message) > MAX_MESSAGE_BYTES:
        raise Malformed(f"message over {MAX_MESSAGE_BYTES} bytes")
    try:
        return json.loads(message)
    except (ValueError, TypeError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Malformed("not JSON") from None


# -- t:SYM: one symbol's trades ---------------------------------------------------
def encode_ticks(ticks: Iterable[Tick], at: float) -> str:
    """One symbol's batch of trades as a channel message (at most
    :data:`MAX_TICKS_PER_MESSAGE`: see :func:`batches`)."""
    return json.dumps({"at": round(at, 6), "ticks": [[t.price, t.size, t.ts] for t in ticks]},
                      separators=(",", ":"))


def batches(ticks: list[Tick]) -> list[list[Tick]]:
    """``ticks`` in slices a server accepts as one message each."""
    n = MAX_TICKS_PER_MESSAGE
    return [ticks[i:i + n] for i in range(0, len(ticks), n)]


def decode_ticks(symbol: str, message: str | bytes) -> tuple[float, list[Tick]]:
    """(publication time, trades) of a channel message.

    Schema: ``{"at": time, "ticks": [[price > 0, size >= 0, time], ...]}``, at most
    :data:`MAX_TICKS_PER_MESSAGE` trades; any entry out of it refuses the whole
    message (:class:`Malformed`): a producer that sends one bad trade is not trusted
    with the others.
    """
    data = _json(message)
    if not isinstance(data, dict):
        raise Malformed("ticks message is not an object")
    at = _timestamp(data.get("at"), "at")
    entries = data.get("ticks")
    if not isinstance(entries, list):
        raise Malformed("ticks is not a list")
    if len(entries) > MAX_TICKS_PER_MESSAGE:
        raise Malformed(f"more than {MAX_TICKS_PER_MESSAGE} ticks")
    ticks = []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 3:
            raise Malformed("a tick is not [price, size, ts]")
        price = _number(entry[0], "price", above=0.0)
        size = _number(entry[1], "size", low=0.0)
        ticks.append(Tick(symbol, price, size, _timestamp(entry[2], "ts")))
    return at, ticks


# -- q:SYM: last quote and reference prices ---------------------------------------
#: Fields of a ``q:SYM`` hash.
QUOTE_FIELDS = ("prev_close", "open", "high", "low", "last", "volume", "ts")


def encode_quote(values: Mapping[str, float | None]) -> dict[str, str]:
    """A quote snapshot as hash fields (unknown values left out)."""
    return {k: repr(float(v)) for k, v in values.items() if k in QUOTE_FIELDS and v is not None}


def decode_reference(symbol: str, fields: Mapping[bytes | str, bytes | str]) -> Reference | None:
    """The reference a late joiner starts from; None until the previous close is known.

    Schema: prices finite and > 0, ``volume`` >= 0, ``ts`` a sane time; other fields
    are ignored. Any known field out of it refuses the hash (:class:`Malformed`).
    """
    values: dict[str, float] = {}
    for k, v in fields.items():
        key = k.decode("utf-8", "replace") if isinstance(k, bytes) else k
        if key == "volume":
            values[key] = _number(v, key, low=0.0, text=True)
        elif key == "ts":
            values[key] = _timestamp(v, key, text=True)
        elif key in QUOTE_FIELDS:
            values[key] = _number(v, key, above=0.0, text=True)
    if "prev_close" not in values:
        return None
    return Reference(symbol, prev_close=values["prev_close"], open=values.get("open"),
                     high=values.get("high"), low=values.get("low"), last=values.get("last"))


# -- feed: the upstream's state and the relay's heartbeat --------------------------
@dataclass(frozen=True)
class FeedStatus:
    """What the relay says of its upstream, beat by beat (the ``feed`` hash)."""

    beat: float
    """When the relay wrote this (``time.time()``)."""
    state: FeedState
    feed: str = ""
    label: str = ""
    last_error: str = ""
    reconnects: int = 0
    relay: str = ""
    retry_at: float | None = None
    msg_at: float | None = None
    """When the upstream last sent anything."""
    notes: dict[str, str] = field(default_factory=dict)
    """Symbols the upstream will not stream now, each with why."""


def encode_feed(status: FeedStatus) -> dict[str, str]:
    """The ``feed`` hash; texts cut to what :func:`decode_feed` accepts."""
    notes = {sym: why[:MAX_TEXT] for sym, why in list(status.notes.items())[:MAX_DECLARED]}
    return {
        "feed": status.feed[:40], "label": status.label[:100], "state": status.state.value,
        "last_error": status.last_error[:MAX_TEXT], "reconnects": str(status.reconnects),
        "relay": status.relay[:64], "retry_at": repr(status.retry_at) if status.retry_at else "",
        "msg_at": repr(status.msg_at) if status.msg_at else "",
        "notes": json.dumps(notes), "beat": repr(status.beat),
    }


def decode_feed(fields: Mapping[bytes | str, bytes | str],
                now: float | None = None) -> FeedStatus | None:
    """The relay's last word; None while no relay has beaten (no ``beat`` field).

    Schema: ``beat`` a time at most :data:`MAX_FUTURE_S` ahead of ``now``; ``state``
    one of :class:`FeedState`; texts UTF-8 and bounded; ``retry_at``/``msg_at``
    times or empty; ``notes`` a JSON object of symbol to text. Anything else:
    :class:`Malformed`.
    """
    raw = {_text(k, 40): v for k, v in fields.items()}
    if not raw.get("beat"):
        return None
    now = time.time() if now is None else now
    beat = _timestamp(raw["beat"], "beat", text=True)
    if beat > now + MAX_FUTURE_S:
        raise Malformed("beat is in the future")
    state_text = _text(raw.get("state") or FeedState.CONNECTING.value, 40)
    try:
        state = FeedState(state_text)
    except ValueError:
        raise Malformed("unknown state") from None

    def optional_time(name: str) -> float | None:
        value = raw.get(name)
        return _timestamp(value, name, text=True) if value else None

    notes = _json(raw.get("notes") or "{}")
    if not isinstance(notes, dict) or len(notes) > MAX_DECLARED or not all(
            valid_symbol(k) and isinstance(v, str) and len(v) <= MAX_TEXT
            for k, v in notes.items()):
        raise Malformed("notes is not an object of symbol to text")
    reconnects = raw.get("reconnects") or "0"
    return FeedStatus(
        beat=beat, state=state, feed=_text(raw.get("feed") or "", 40),
        label=_text(raw.get("label") or "", 100), last_error=_text(raw.get("last_error") or ""),
        reconnects=int(_number(reconnects, "reconnects", low=0, high=2**53, text=True)),
        relay=_text(raw.get("relay") or "", 64), retry_at=optional_time("retry_at"),
        msg_at=optional_time("msg_at"), notes=notes)


# -- universe: the symbols the picker offers --------------------------------------
def encode_universe(open_universe: bool, symbols: Iterable[SymbolInfo]) -> str:
    return json.dumps({"open": open_universe, "symbols": [[i.symbol, i.name] for i in symbols]})


def decode_universe(raw: str | bytes) -> tuple[bool, list[SymbolInfo]]:
    """(any symbol may be asked for, the symbols offered). Schema: ``{"open": bool,
    "symbols": [[symbol, name], ...]}``, valid symbols, bounded names and count."""
    data = _json(raw)
    if not isinstance(data, dict):
        raise Malformed("universe is not an object")
    open_universe = data.get("open", True)
    entries = data.get("symbols", [])
    if not isinstance(open_universe, bool) or not isinstance(entries, list):
        raise Malformed("universe fields have the wrong types")
    if len(entries) > MAX_UNIVERSE:
        raise Malformed(f"more than {MAX_UNIVERSE} symbols")
    infos = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and valid_symbol(entry[0])):
            raise Malformed("a universe entry is not [symbol, name]")
        infos.append(SymbolInfo(entry[0], _text(entry[1])))
    return open_universe, infos


# -- want:PROC and procs: what each server watches ---------------------------------
def decode_proc(raw: bytes | str) -> str:
    """A process id from ``procs``."""
    proc = _text(raw, 64)
    if not PROC_RE.match(proc):
        raise Malformed("process id has the wrong syntax")
    return proc


def decode_declaration(members: Iterable[bytes | str]) -> tuple[set[str], int]:
    """(valid symbols, how many members were not) of one server's ``want:PROC`` set.

    A set over :data:`MAX_DECLARED` is refused whole (:class:`Malformed`): the relay
    must not subscribe its upstream to whatever a broken or hostile writer put there.
    """
    members = list(members)
    if len(members) > MAX_DECLARED:
        raise Malformed(f"more than {MAX_DECLARED} symbols declared")
    good: set[str] = set()
    bad = 0
    for member in members:
        try:
            symbol = _text(member, 64)
        except Malformed:
            bad += 1
            continue
        if valid_symbol(symbol):
            good.add(symbol)
        else:
            bad += 1
    return good, bad
