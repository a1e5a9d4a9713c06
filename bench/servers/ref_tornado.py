"""Reference (a): the ceiling for Python fan-out, a bare Tornado WebSocket server.

Same data path as Photon up to the session: Photon's own :class:`~app.hub.hub.Hub` over
the same seeded mock feed, the same push interval, and per session the same
``changes_since`` selection. Instead of a Bokeh document it sends each session one
JSON text frame per cycle, ``{"cycle", "at", "rows", "points"}`` (the same rows, points
and cycle publication time Photon's board delta carries), from one periodic callback
that publishes the hub's cycle and then loops over all sessions (so pushes are aligned
with publication and never conflate two cycles). No Bokeh, no Panel, no per-session document.

    python -m bench.servers.ref_tornado --port 8001 --push-interval-ms 250
    ws://127.0.0.1:8001/ws?symbols=AAPL,TSLA     GET /health
"""

from __future__ import annotations

import argparse
import json

from tornado import ioloop, web, websocket

from app.feeds.mock import MockFeed
from app.hub.hub import Hub
from bench.servers.refhub import LoopHub

SESSIONS: set[FeedSocket] = set()


class FeedSocket(websocket.WebSocketHandler):
    hub: Hub

    def initialize(self, hub: Hub) -> None:
        self.hub = hub
        self.sub = None
        self.cycle = 0

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self) -> None:
        raw = self.get_argument("symbols", "")
        symbols = [s for s in raw.split(",") if s]
        self.sub = self.hub.subscribe(symbols)
        ch = self.hub.changes_since(0, self.sub.symbols)
        self.cycle = ch.cycle
        rows = [{**r, "points": ch.points.get(r["symbol"], [])} for r in ch.rows]
        self.write_message(json.dumps({"rows": rows}))
        SESSIONS.add(self)

    def push(self) -> None:
        ch = self.hub.changes_since(self.cycle, self.sub.symbols)
        self.cycle = ch.cycle
        if ch.rows:
            self.write_message(json.dumps({"cycle": ch.cycle, "at": getattr(ch, "at", None),
                                           "rows": ch.rows, "points": ch.points}))

    def on_message(self, message) -> None:
        pass

    def on_close(self) -> None:
        SESSIONS.discard(self)
        if self.sub is not None:
            self.sub.close()


class Health(web.RequestHandler):
    def initialize(self, hub: Hub) -> None:
        self.hub = hub

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "ok", "sessions": len(SESSIONS),
                                "subscriptions": self.hub.refcounts(),
                                "cycle": self.hub.cycle,
                                # the fixed cadence it promises (the push loop's interval)
                                "push_interval_ms": self.hub.push_interval_ms}))


def push_all(hub: Hub) -> None:
    hub.publish()
    for s in list(SESSIONS):
        try:
            s.push()
        except websocket.WebSocketClosedError:
            SESSIONS.discard(s)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--push-interval-ms", type=int, default=250)
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    hub = LoopHub(MockFeed(seed=args.seed), push_interval_ms=args.push_interval_ms).start()
    app = web.Application([(r"/ws", FeedSocket, {"hub": hub}),
                           (r"/health", Health, {"hub": hub})])
    app.listen(args.port, address="127.0.0.1")
    ioloop.PeriodicCallback(lambda: push_all(hub), args.push_interval_ms).start()
    print(f"tornado reference on :{args.port}", flush=True)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
