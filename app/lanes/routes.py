"""Extra routes on the Bokeh/Tornado server: ``/health``, ``/metrics``, the fast lane.

Served by ``photon`` and by ``panel serve app --plugins app.routes`` (Panel
plugins expose ``ROUTES``).
"""

from __future__ import annotations

import json
import math
import time

from tornado.web import RequestHandler

from app.access.identity import Door, Guarded, may_see_details
from app.hub.hub import Hub, get_hub
from app.lanes import bokehlane, fastlane
from app.runtime.metrics import MetricsHandler
from app.runtime.process import process_id
from app.ticks import FeedState

#: Feed states in which the server cannot show fresh prices at all.
UNHEALTHY = {FeedState.DOWN, FeedState.RELAY_DOWN, FeedState.AUTH_FAILED, FeedState.STOPPED}


def health_report(hub: Hub) -> tuple[int, dict]:
    """(HTTP status, JSON body) describing the process: 503 when the feed is down."""
    h = hub.health()
    refs = hub.refcounts()
    retry_in = None if h.retry_at is None else round(max(0.0, h.retry_at - time.time()), 1)
    body = {
        "status": "down" if h.state in UNHEALTHY else "ok",
        "feed": h.feed,
        "upstream": h.upstream,
        "state": h.state.value,
        "last_tick_age_s": _round(h.last_tick_age),
        "last_message_age_s": _round(h.last_message_age),
        "reconnects": h.reconnects,
        "last_error": h.last_error,
        "retry_in_s": retry_in,
        "detail": detail(h.last_error, retry_in),
        "symbols": sorted(refs),
        "symbol_count": len(refs),
        "subscriptions": refs,
        "sessions": h.sessions,
        "ticks_received": hub.ticks_received,
        "cycle": hub.cycle,
        "cycle_at": hub.cycle_at,
        "cycles_missed": hub.cycles_missed,
        "push_interval_ms": hub.push_interval_ms,
        "push_interval_min_ms": hub.push_interval_floor_ms,
        "push_interval_max_ms": hub.push_interval_ceiling_ms,
        "cadence_load": round(hub.cadence_load, 3),
        "process": process_id(),  # read now: a forked worker has its own
        "fast_lane_sockets": lane.sockets if (lane := fastlane.get()) else None,
        "bokeh_lane_sessions": None if (lane := bokehlane.get()) is None else len(lane),
        **hub.health_details(),  # e.g. "history": the store's state (app/history)
    }
    return (503 if h.state in UNHEALTHY else 200), body


def detail(last_error: str, retry_in_s: float | None) -> str:
    """Why the state is what it is and when the next attempt comes, in one line:
    what the page's status line says (e.g. "feed error: ...; retrying in 2 s")."""
    retry = "" if retry_in_s is None else f"retrying in {max(1, math.ceil(retry_in_s))} s"
    return "; ".join(part for part in (last_error, retry) if part)


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


class HealthHandler(Guarded, RequestHandler):
    """``GET /health``: one JSON object an operator can read at a glance; with sign-in
    on, a caller not signed in (nor holding a token) gets only its ``status``."""

    photon_door = Door.OPEN

    def get(self) -> None:
        status, body = health_report(get_hub())
        if not may_see_details(self):
            body = {"status": body["status"]}
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class GuardedMetrics(Guarded, MetricsHandler):
    """``GET /metrics`` for those signed in, or holding a token (Prometheus)."""


ROUTES = [
    ("/health", HealthHandler, {}),
    ("/metrics", GuardedMetrics, {}),
    (fastlane.PATH, fastlane.TickSocket, {}),
]
