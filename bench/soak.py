"""Soak: Photon sessions open and close continuously; memory and hub ref counts must
come back.

Each cycle opens one real session and closes it again. Most cycles are complete
(GET the page, WebSocket, ACK, PULL-DOC, ``document_ready``, wait for the first board
delta, close); every 10th only GETs the page and never connects (the server must
reap that session as unused), and every 10th (offset 5) opens the WebSocket and
closes it at once, before the ACK (the race ``app/server_fixes.py`` handles).
``concurrency`` cycles run at a time, with bounded count and wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urljoin

import aiohttp
import orjson

from bench.common import ServerProc, symbols_for, universe
from bench.load import DOCUMENT_READY, FAST_RE, TOKEN_RE, board_changes, bokeh_msg


async def one_cycle(http: aiohttp.ClientSession, base: str, i: int, symbols: list[str],
                    timeout: float = 20.0) -> str:
    """Open and close one session; returns its kind ('full', 'get-only', 'early-close')
    or 'error: ...'."""
    kind = "get-only" if i % 10 == 0 else "early-close" if i % 10 == 5 else "full"
    page = f"{base}/app?symbols={','.join(symbols)}"
    try:
        async with asyncio.timeout(timeout):
            async with http.get(page) as r:
                html = await r.text()
            if kind == "get-only":
                return kind
            token = TOKEN_RE.search(html).group(1)
            ws = await http.ws_connect(base.replace("http", "ws", 1) + "/app/ws",
                                       protocols=("bokeh", token), max_msg_size=0)
            try:
                if kind == "early-close":
                    return kind
                frames: list = []
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    frames.append(msg.data)
                    if len(frames) < 3:
                        continue
                    t = orjson.loads(frames[0])["msgtype"]
                    if t == "ACK":
                        for f in bokeh_msg("PULL-DOC-REQ", {}):
                            await ws.send_str(f)
                    elif t == "PULL-DOC-REPLY":
                        for f in bokeh_msg("PATCH-DOC", DOCUMENT_READY):
                            await ws.send_str(f)
                        m = FAST_RE.search(frames[2])
                        if m and m.group(1):  # ticks come over the fast lane
                            url = urljoin(page, m.group(1)).replace("http", "ws", 1)
                            async with http.ws_connect(url) as fast:
                                msg = await fast.receive()
                                if msg.type == aiohttp.WSMsgType.TEXT:
                                    return kind + "/fast"
                                return f"error: fast lane sent {msg.type.name}"
                    elif t == "PATCH-DOC" and board_changes(orjson.loads(frames[2])):
                        return kind
                    frames = []
                return "error: closed before the first delta"
            finally:
                await ws.close()
    except Exception as e:  # noqa: BLE001 - counted and reported
        return f"error: {type(e).__name__}: {e}"[:120]


async def soak(server: ServerProc, cycles: int, concurrency: int, max_s: float,
               k: int = 10, report_every_s: float = 5.0, log=print) -> dict:
    """Run ``cycles`` open/close cycles. At 0, 10, 25, 50, 75 and 100 % of them the load
    pauses until the server has reaped every session, and the idle RSS is recorded:
    growth between the 50 % checkpoint (long warm) and the end is what a leak would
    show; allocator high-water marks settle in the first part."""
    syms = universe()
    counts: dict[str, int] = {}
    series: list[tuple[float, int, int | None, float]] = []
    checkpoints: list[dict] = []
    done = 0
    t0 = time.monotonic()
    deadline = t0 + max_s
    next_i = 0

    def sample() -> None:
        h = server.health(timeout=10) or {}
        series.append((round(time.monotonic() - t0, 1), done, h.get("sessions"),
                       round(server.rss_mb(), 1)))
        el, d, live, rss = series[-1]
        log(f"  soak t={el:6.1f}s cycles={d:6d} ({d / max(el, 1e-9):5.1f}/s) "
            f"live sessions={live} RSS={rss:.1f} MB")

    async def idle_checkpoint() -> dict:
        """Wait (bounded) until every session is reaped, then record the idle RSS."""
        health: dict = {}
        for _ in range(60):
            health = await asyncio.to_thread(server.health, 10) or {}
            if health.get("sessions") == 0 and not health.get("subscriptions"):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.5)
        ck = {"cycles": done, "rss_mb": round(server.rss_mb(), 1),
              "sessions": health.get("sessions"), "subscriptions": health.get("subscriptions")}
        checkpoints.append(ck)
        log(f"  soak checkpoint: {done} cycles, all reaped: sessions={ck['sessions']} "
            f"subscriptions={ck['subscriptions']} idle RSS={ck['rss_mb']:.1f} MB")
        return health

    async def worker(http, upto: int):
        nonlocal done, next_i
        while next_i < upto and time.monotonic() < deadline:
            i = next_i
            next_i += 1
            kind = await one_cycle(http, server.base, i, symbols_for(i, k, syms))
            counts[kind] = counts.get(kind, 0) + 1
            done += 1

    async def reporter():
        while True:
            await asyncio.sleep(report_every_s)
            await asyncio.to_thread(sample)

    conn = aiohttp.TCPConnector(limit=0)
    health: dict = {}
    async with aiohttp.ClientSession(connector=conn) as http:
        await asyncio.to_thread(sample)
        await idle_checkpoint()
        rep = asyncio.create_task(reporter())
        try:
            for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
                upto = max(1, int(cycles * frac))
                await asyncio.gather(*(worker(http, upto) for _ in range(concurrency)))
                rep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await rep
                health = await idle_checkpoint()
                if time.monotonic() >= deadline:
                    break
                rep = asyncio.create_task(reporter())
        finally:
            rep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rep
    elapsed = time.monotonic() - t0
    await asyncio.to_thread(sample)
    half = [c for c in checkpoints if c["cycles"] >= cycles // 2]
    warm = half[0] if len(half) > 1 else None
    last = checkpoints[-1]
    growth = (None if warm is None or last["cycles"] <= warm["cycles"] else
              (last["rss_mb"] - warm["rss_mb"]) / (last["cycles"] - warm["cycles"]) * 1000)
    return {"cycles": done, "elapsed_s": round(elapsed, 1), "kinds": counts,
            "series": series, "checkpoints": checkpoints,
            "idle_growth_mb_per_1000": growth,
            "final_sessions": health.get("sessions"),
            "final_subscriptions": health.get("subscriptions"),
            "rss_end_mb": last["rss_mb"]}
