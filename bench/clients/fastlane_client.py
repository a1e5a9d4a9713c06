"""The load client's side of Photon's fast lane: one JSON text frame per hub cycle,
rows with their points inline, counted like the Bokeh deltas (:mod:`bench.clients.load_stats`).

A Photon page names its fast-lane URL in the document (``fast_url``, empty when the
board sends Bokeh deltas); :func:`start_fast_lane` opens it beside the Bokeh socket.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urljoin

import aiohttp
import orjson

from bench.clients.load_stats import Session, count_msg, on_cycle_rows


async def fast_lane(sess: Session, http: aiohttp.ClientSession, url: str) -> None:
    """Photon's fast lane: one JSON text frame per cycle, rows with their points inline."""
    ws = await http.ws_connect(url, max_msg_size=0, compress=0)
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        now = time.time()
        in_w = count_msg(sess, now, 1, len(msg.data))
        data = orjson.loads(msg.data)
        rows = data.get("rows") or []
        points = {r["symbol"]: r.get("points") or [] for r in rows}
        on_cycle_rows(sess, rows, points, data.get("cycle"), now, in_w, data.get("at"))


def start_fast_lane(sess: Session, http, page_url: str, fast_url: str) -> None:
    if sess.fast is not None:
        sess.fast.cancel()
        sess.fast = None
    if not fast_url:
        sess.transport = "bokeh"
        return
    sess.transport = "fast"
    url = urljoin(page_url, fast_url).replace("http", "ws", 1)

    async def run():
        try:
            await fast_lane(sess, http, url)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded per session
            sess.err = sess.err or f"fast lane: {type(e).__name__}: {e}"[:200]

    sess.fast = asyncio.create_task(run())
