"""A real Photon viewer without a browser, the load runner for ``--server photon``.

GET /app?symbols=..., take the session token from the page, open /app/ws with
subprotocols ["bokeh", token] and speak the Bokeh protocol (:mod:`bench.clients.bokeh_protocol`).
After the ACK: PULL-DOC-REQ, then ``document_ready``. PATCH-DOC messages are decoded;
the board's deltas (``MessageSent`` ``esm_event``, its ``msg:custom``; older apps:
``ModelChanged`` on ``delta``) and ``ModelChanged`` on ``rows`` carry the board's rows
and points, the hub ``cycle`` and its publication time ``at``. When the document names
a fast lane, its JSON messages carry the same (:mod:`bench.clients.fastlane_client`).
"""

from __future__ import annotations

import time

import aiohttp
import orjson

from bench.clients.bokeh_protocol import DOCUMENT_READY, FAST_RE, TOKEN_RE, board_changes, bokeh_msg
from bench.clients.fastlane_client import start_fast_lane
from bench.clients.load_stats import OTHER, Session, count_msg, on_cycle_rows


async def photon_session(sess: Session, http: aiohttp.ClientSession, base: str,
                         query: str = "") -> None:
    """One viewer; ``query`` is more of the page's URL (``&board=NAME``)."""
    url = f"{base}/app?symbols={','.join(sess.symbols)}{query}"
    async with http.get(url) as r:
        html = await r.text()
    m = TOKEN_RE.search(html)
    if not m:
        raise RuntimeError(f"no session token in page (HTTP {r.status})")
    ws = await http.ws_connect(base.replace("http", "ws", 1) + "/app/ws",
                               protocols=("bokeh", m.group(1)), max_msg_size=0,
                               compress=0, autoping=True, autoclose=True)
    sess.ws = ws
    frames: list = []
    expect = 3
    hdr = None
    async for msg in ws:
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            break
        frames.append(msg.data)
        if len(frames) == 1:
            hdr = orjson.loads(msg.data)
            expect = 3 + 2 * hdr.get("num_buffers", 0)
        if len(frames) < expect:
            continue
        now = time.time()
        kind = hdr["msgtype"]
        in_w = count_msg(sess, now, len(frames), sum(len(f) for f in frames))
        if kind == "PATCH-DOC":
            content = orjson.loads(frames[2])
            found = board_changes(content)
            if found is not None:
                rows, points, cycle, at = found
                on_cycle_rows(sess, rows, points, cycle, now, in_w, at)
            elif in_w:
                key = "PATCH-DOC " + ",".join(sorted({str(ev.get("attr") or ev.get("kind"))
                                                      for ev in content.get("events", ())}))
                OTHER[key] = OTHER.get(key, 0) + 1
            for ev in content.get("events", ()):
                if ev.get("attr") == "fast_url":
                    start_fast_lane(sess, http, url, ev.get("new") or "")
        elif kind == "ACK":
            for f in bokeh_msg("PULL-DOC-REQ", {}):
                await ws.send_str(f)
        elif kind == "PULL-DOC-REPLY":
            m = FAST_RE.search(frames[2])
            start_fast_lane(sess, http, url, m.group(1) if m else "")
            for f in bokeh_msg("PATCH-DOC", DOCUMENT_READY):
                await ws.send_str(f)
        elif in_w:
            OTHER[kind] = OTHER.get(kind, 0) + 1
        if kind == "ERROR":
            sess.err = orjson.loads(frames[2]).get("text", "ERROR")[:200]
        frames = []
