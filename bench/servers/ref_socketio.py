"""Reference (b): the common way to build this, Flask + Flask-SocketIO on eventlet.

One room per ticker; a client joins the rooms of its symbols with a ``join`` event.
A background task wakes every push interval, publishes a cycle of the same hub over
the same seeded mock feed as Photon, takes what changed, and emits each changed
ticker's row (with its new sparkline points, the cycle and its publication time
``at``) to that ticker's room as a ``tick`` event. So a client
gets one Socket.IO message per changed symbol per cycle, with the same payload
Photon's board delta carries for that symbol.

    python -m bench.servers.ref_socketio --port 8002 --push-interval-ms 1000

``/?symbols=AAPL,MSFT`` is a minimal board page for the browser probe
(bench/clients/browser.py): the official Socket.IO client (bench/servers/static/socket.io.min.js,
socket.io-client 4.8.4, MIT, vendored: no CDN here) joins the rooms and sets each
ticker's price as text, with the same test hooks as Photon's board.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402 - after monkey patching, as eventlet requires
import time  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

from app.feeds.mock import MockFeed  # noqa: E402
from bench.servers.refhub import LoopHub  # noqa: E402

app = Flask(__name__)
sio = SocketIO(app, async_mode="eventlet", cors_allowed_origins="*", logger=False,
               engineio_logger=False)
SUBS: dict = {}
HUB: dict = {}


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Socket.IO reference</title>
<script src="/static/socket.io.min.js"></script></head>
<body><div class="photon-body"></div>
<script>
  // Rows keyed by symbol, with Photon's test hooks; the latest tick's trade time and
  // publication time are kept where the probe reads them (window.__photonFast).
  window.__photonRefPage = true
  window.__photonFast = {rows: new Map(), at: null, fresh: false, messages: 0}
  const symbols = (new URLSearchParams(location.search).get("symbols") || "").split(",")
    .filter(Boolean)
  const body = document.querySelector(".photon-body")
  const prices = new Map()
  for (const sym of symbols) {
    const row = document.createElement("div")
    row.dataset.symbol = sym
    const px = document.createElement("span")
    px.className = "photon-price"
    px.textContent = "—"
    row.append(sym + " ", px)
    body.append(row)
    prices.set(sym, px)
  }
  const socket = io({transports: ["websocket"]})
  socket.on("connect", () => {
    console.log("WebSocket Connected")
    socket.emit("join", {symbols})
  })
  socket.on("tick", (t) => {
    const f = window.__photonFast
    f.rows = new Map([[t.symbol, t.ts]])
    f.at = t.at
    f.fresh = true
    f.messages++
    const px = prices.get(t.symbol)
    if (px) px.textContent = t.price
  })
</script></body></html>
"""


@app.route("/")
def page():
    return PAGE


@app.route("/health")
def health():
    hub = HUB["hub"]
    return jsonify(status="ok", sessions=len(SUBS), subscriptions=hub.refcounts(),
                   cycle=hub.cycle, push_interval_ms=hub.push_interval_ms)


@sio.on("join")
def on_join(data):
    symbols = [s for s in (data or {}).get("symbols", []) if isinstance(s, str)]
    old = SUBS.pop(request.sid, None)
    if old is not None:
        old.close()
    SUBS[request.sid] = HUB["hub"].subscribe(symbols)
    for s in symbols:
        join_room(s)


@sio.on("disconnect")
def on_disconnect(*_args):
    sub = SUBS.pop(request.sid, None)
    if sub is not None:
        sub.close()


def emitter(interval_s: float) -> None:
    hub = HUB["hub"]
    cycle = 0
    next_at = time.monotonic()
    while True:  # fixed rate, like tornado's PeriodicCallback and Photon's hub
        next_at += interval_s
        sio.sleep(max(0.0, next_at - time.monotonic()))
        if time.monotonic() - next_at > interval_s:  # fell behind: skip, don't burst
            next_at = time.monotonic()
        hub.publish()
        ch = hub.changes_since(cycle, list(hub.refcounts()))
        cycle = ch.cycle
        at = getattr(ch, "at", None)
        for row in ch.rows:
            sym = row["symbol"]
            sio.emit("tick", {**row, "points": ch.points.get(sym, []), "cycle": ch.cycle,
                              "at": at}, to=sym)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--push-interval-ms", type=int, default=1000)
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    interval = args.push_interval_ms / 1000
    HUB["hub"] = LoopHub(MockFeed(seed=args.seed), push_interval_ms=args.push_interval_ms).start()
    sio.start_background_task(emitter, interval)
    print(f"socketio reference on :{args.port}", flush=True)
    sio.run(app, host="127.0.0.1", port=args.port, log_output=False)


if __name__ == "__main__":
    main()
