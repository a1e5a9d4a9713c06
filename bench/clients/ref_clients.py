"""Load runners for the reference servers the benchmark compares Photon with.

``tornado``
    bench/servers/ref_tornado.py: one JSON text frame per session per cycle.
``socketio``
    bench/servers/ref_socketio.py through python-socketio's AsyncClient: one ``tick`` event
    per changed symbol per cycle, rooms joined with a ``join`` event.
"""

from __future__ import annotations

import time

import aiohttp
import orjson

from bench.clients.load_stats import Session, count_msg, on_cycle_rows, on_rows


async def tornado_session(sess: Session, http: aiohttp.ClientSession, base: str) -> None:
    url = base.replace("http", "ws", 1) + f"/ws?symbols={','.join(sess.symbols)}"
    ws = await http.ws_connect(url, max_msg_size=0, compress=0)
    sess.ws = ws
    sess.transport = "tornado"
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        now = time.time()
        data = orjson.loads(msg.data)
        in_w = count_msg(sess, now, 1, len(msg.data))
        if "points" in data:
            on_cycle_rows(sess, data["rows"], data["points"], data.get("cycle"), now, in_w,
                          data.get("at"))
        else:  # snapshot
            on_rows(sess, data["rows"], {r["symbol"]: r.get("points") or []
                                         for r in data["rows"]}, now)


async def socketio_session(sess: Session, http: aiohttp.ClientSession, base: str) -> None:
    import logging

    import socketio

    # "packet queue is empty, aborting" per client at close: noise, not a result.
    logging.getLogger("engineio.client").setLevel(logging.ERROR)

    client = socketio.AsyncClient(reconnection=False, http_session=http, handle_sigint=False)
    sess.ws = client
    sess.transport = "socketio"

    @client.on("tick")
    async def tick(data):
        now = time.time()
        # Payload size as sent: '42["tick",<json>]' (the JSON re-encoded here).
        in_w = count_msg(sess, now, 1, 10 + len(orjson.dumps(data)))
        on_cycle_rows(sess, [data], {data["symbol"]: data.get("points") or []},
                      data.get("cycle"), now, in_w, data.get("at"))
        if not sess.ready.is_set():
            sess.t_ready = now
            sess.ready.set()

    await client.connect(base, transports=["websocket"], wait_timeout=30)
    await client.emit("join", {"symbols": sess.symbols})
    await client.wait()
