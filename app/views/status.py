"""The status line: feed name and state, age of the last tick, symbol count.

Server-side values change rarely (state transitions, whole seconds of staleness),
so this sends almost nothing while the feed is healthy. The browser adds what only
it can know: whether its own connection to the server is up.
"""

from __future__ import annotations

from pathlib import Path

import param

from app.hub.health import Health
from app.market_hours import PHASE_WORDS, Phase
from app.runtime.process import process_id
from app.ticks import FeedState
from app.views.esm import SharedSourceComponent

_HERE = Path(__file__).parent

#: Words a person understands for each feed state.
STATE_WORDS = {
    FeedState.CONNECTING: "connecting",
    FeedState.LIVE: "live",
    FeedState.STALE: "stale",
    FeedState.MARKET_CLOSED: "market closed",
    FeedState.AUTH_FAILED: "authentication failed",
    FeedState.RATE_LIMITED: "rate limited",
    FeedState.DOWN: "disconnected",
    FeedState.RELAY_DOWN: "relay down",
    FeedState.STOPPED: "stopped",
}


def stale_note(state: FeedState) -> str:
    """What the board says above prices that are not live; empty while live."""
    if state is FeedState.LIVE:
        return ""
    if state is FeedState.MARKET_CLOSED:
        return "Market closed: showing the last prices."
    if state is FeedState.CONNECTING:
        return "Connecting to the feed…"
    return f"Feed {STATE_WORDS[state]}: showing the last prices received."


def age_text(age: float | None) -> str:
    """``<1 s``, ``12 s``, ``3 min``; ``no ticks yet`` before the first."""
    if age is None:
        return "no ticks yet"
    if age < 1:
        return "<1 s"
    if age < 120:
        return f"{int(age)} s"
    return f"{int(age // 60)} min"


def state_words(state: FeedState, phase: Phase = Phase.REGULAR) -> str:
    """The state in words; a live feed outside the regular session says which part of
    the day it is ("pre-market", "after hours")."""
    if state is FeedState.LIVE and phase in (Phase.PRE, Phase.POST):
        return PHASE_WORDS[phase]
    return STATE_WORDS[state]


def status_values(health: Health) -> dict[str, str | float]:
    """What the status line shows of ``health`` (the same for every viewer)."""
    state = FeedState(health.state)
    return {
        "feed": health.label,
        "state": state.value,
        "words": state_words(state, health.phase),
        "age": age_text(health.last_tick_age),
        "detail": health.last_error,
        "retry_at": health.retry_at or 0.0,
        # A replay's trades are hours old by design: their delay says nothing.
        "measure_delay": health.feed != "replay",
    }


class StatusView(SharedSourceComponent):
    """Browser side of the status line; :meth:`show` maps a hub ``Health`` onto it."""

    feed = param.String(default="", doc="Feed label, e.g. 'Mock'.")
    state = param.String(default="connecting", doc="FeedState value.")
    words = param.String(default="connecting", doc="The state in words.")
    age = param.String(default="", doc="Age of the last tick, in words.")
    symbols = param.Integer(default=0, doc="Symbols this session watches.")
    detail = param.String(default="", doc="Why the state is what it is (plain text).")
    measure_delay = param.Boolean(default=True, doc="Show the tick-to-screen delay "
                                  "(not for replays, whose trades are old by design).")
    retry_at = param.Number(default=0.0, doc="When the feed next tries to reconnect "
                            "(Unix seconds; 0: not waiting). The page counts down to it.")
    process = param.String(default="", doc="Server process id (this process's, also in a "
                             "forked --num-procs worker); see status.js.")
    health_url = param.String(default="", doc="Where /health is, relative to the page; "
                              "empty where there is no server (notebooks).")
    title = param.String(default="", doc="The page's heading above the status line (empty: "
                         "none, as in a notebook). With it, heading and status line are "
                         "the page's banner landmark (a <header>). Part of this component "
                         "so that a page costs one model less per session.")
    subtitle = param.String(default="", doc="Smaller words after the title.")
    cadence_ms = param.Integer(default=0, doc="The hub's cadence when the page was built, "
                               "so the first paint says it; later updates carry it.")

    _esm = _HERE / "status.js"

    def __init__(self, **params):
        params.setdefault("process", process_id())  # at build time, not at import
        super().__init__(**params)
    _stylesheets = [(_HERE / "status.css").read_text()]

    def show(self, health: Health, symbols: int) -> None:
        """Reflect ``health``; only changed values go to the browser."""
        self.param.update(**status_values(health), symbols=symbols)
