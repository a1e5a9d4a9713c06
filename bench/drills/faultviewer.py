"""Viewers for bench/drills/faults.py: each holds a board open through nginx, as a page does,
and comes back by itself when its server or socket goes away.

    python -m bench.drills.faultviewer --base http://127.0.0.1:PORT --first 0 --count 250 --k 3

A viewer GETs ``/app?symbols=...`` (with its ``photon_node`` affinity cookie, as a
browser would send it), opens Bokeh's WebSocket (ACK, PULL-DOC-REQ, document_ready)
and the board's fast lane, and reads both. When either closes it waits about a second
(Bokeh's reconnect) and starts over from the page, as the page does when it finds
another process behind the address (status.js reloads). Only the fast lane's rows
are read for prices.

Line protocol on stdout (JSON): ``{"event": "status", "fresh": n, "live": n}`` about
once a second (``fresh``: viewers that were shown a trade made after the last
``{"mark": t}`` read on stdin, which the line repeats); ``{"stop": true}`` on stdin ends it with
``{"event": "result", ...}``: per viewer the receipt time and newest trade time of
every update, and every (symbol, trade time, price) shown, with how often.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from urllib.parse import urljoin

import aiohttp
import orjson

from bench.clients.bokeh_protocol import DOCUMENT_READY, FAST_RE, TOKEN_RE, bokeh_msg
from bench.common import symbols_for, universe

STOP = asyncio.Event()
MARK = [float("inf")]


class Viewer:
    __slots__ = ("i", "symbols", "cookie", "updates", "newest", "last_ts", "connects",
                 "errors")

    def __init__(self, i: int, symbols: list[str]):
        self.i, self.symbols = i, symbols
        self.cookie = ""
        self.updates: list[tuple[float, float]] = []  # (receipt, newest trade time shown)
        self.newest = 0.0
        self.last_ts: dict[str, float] = {}
        self.connects = 0
        self.errors: dict[str, int] = {}


SHOWN: dict[tuple[str, float, float], int] = {}  # (symbol, trade ts, price) -> times


def headers(v: Viewer) -> dict[str, str]:
    return {"Cookie": f"photon_node={v.cookie}"} if v.cookie else {}


async def read_bokeh(ws) -> None:
    async for msg in ws:
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return


async def read_fast(v: Viewer, ws) -> None:
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            return
        now = time.time()
        newest = 0.0
        for row in orjson.loads(msg.data).get("rows") or ():
            ts, last, sym = row.get("ts"), row.get("last"), row.get("symbol")
            if ts is None or last is None:
                continue
            key = (sym, ts, last)
            SHOWN[key] = SHOWN.get(key, 0) + 1
            if v.last_ts.get(sym) != ts:
                v.last_ts[sym] = ts
                newest = max(newest, ts)
        if newest:
            v.updates.append((now, newest))
            v.newest = max(v.newest, newest)


async def handshake(ws) -> str:
    """ACK, PULL-DOC-REQ, PULL-DOC-REPLY (the fast lane's URL), document_ready."""
    frames: list = []
    async for msg in ws:
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            break
        frames.append(msg.data)
        header = orjson.loads(frames[0])
        if len(frames) < 3 + 2 * header.get("num_buffers", 0):
            continue
        kind, content, frames = header["msgtype"], frames[2], []
        if kind == "ACK":
            for f in bokeh_msg("PULL-DOC-REQ", {}):
                await ws.send_str(f)
        elif kind == "PULL-DOC-REPLY":
            for f in bokeh_msg("PATCH-DOC", DOCUMENT_READY):
                await ws.send_str(f)
            found = FAST_RE.search(content)
            if not found or not found.group(1):
                raise RuntimeError("no fast lane in the document")
            return found.group(1)
    raise RuntimeError("socket closed during the handshake")


async def view_once(v: Viewer, http: aiohttp.ClientSession, base: str) -> None:
    page = f"{base}/app?symbols={','.join(v.symbols)}"
    async with http.get(page, headers=headers(v)) as r:
        html = await r.text()
        if (node := r.cookies.get("photon_node")) is not None:
            v.cookie = node.value
    token = TOKEN_RE.search(html)
    if not token:
        raise RuntimeError(f"no session token (HTTP {r.status})")
    ws = await http.ws_connect(base.replace("http", "ws", 1) + "/app/ws", headers=headers(v),
                               protocols=("bokeh", token.group(1)), max_msg_size=0,
                               compress=0)
    try:
        fast_url = await handshake(ws)
        fast = await http.ws_connect(urljoin(page, fast_url).replace("http", "ws", 1),
                                     headers=headers(v), max_msg_size=0, compress=0)
        v.connects += 1
        try:
            tasks = [asyncio.create_task(read_bokeh(ws)), asyncio.create_task(read_fast(v, fast)),
                     asyncio.create_task(STOP.wait())]
            _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in pending:
                t.cancel()
        finally:
            await fast.close()
    finally:
        await ws.close()


async def viewer(v: Viewer, http: aiohttp.ClientSession, base: str) -> None:
    while not STOP.is_set():
        try:
            await view_once(v, http, base)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - counted, then the page comes back
            name = type(e).__name__
            v.errors[name] = v.errors.get(name, 0) + 1
        if not STOP.is_set():
            await asyncio.sleep(1.0 + random.random())  # Bokeh's reconnect, then a reload


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def commands() -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        cmd = json.loads(line) if line.strip() else {"stop": True}
        if "mark" in cmd:
            MARK[0] = cmd["mark"]
        if cmd.get("stop"):
            STOP.set()
            return


async def main(args) -> None:
    syms = universe()
    viewers = [Viewer(args.first + j, symbols_for(args.first + j, args.k, syms))
               for j in range(args.count)]
    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as http:
        tasks = []
        for j, v in enumerate(viewers):
            tasks.append(asyncio.create_task(viewer(v, http, args.base)))
            if j % args.batch == args.batch - 1:
                await asyncio.sleep(args.pause)
        reader = asyncio.create_task(commands())
        while not STOP.is_set():
            emit({"event": "status", "mark": MARK[0],
                  "live": sum(bool(v.updates) for v in viewers),
                  "fresh": sum(v.newest > MARK[0] for v in viewers)})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(STOP.wait(), 1.0)
        await reader
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    emit({"event": "result",
          "viewers": [{"i": v.i, "updates": v.updates, "connects": v.connects,
                       "errors": v.errors} for v in viewers],
          "shown": [[s, ts, p, n] for (s, ts, p), n in SHOWN.items()]})


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--k", type=int, default=3, help="symbols per viewer")
    p.add_argument("--batch", type=int, default=10, help="viewers started at once")
    p.add_argument("--pause", type=float, default=0.5, help="seconds between batches")
    return p.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse()))
