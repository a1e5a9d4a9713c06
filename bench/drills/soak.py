"""Soak: Photon sessions open and close continuously; memory and hub ref counts must
come back.

Each cycle opens one real session and closes it again. Most cycles are complete
(GET the page, WebSocket, ACK, PULL-DOC, ``document_ready``, wait for the first board
delta, close); every 10th only GETs the page and never connects (the server must
reap that session as unused), and every 10th (offset 5) opens the WebSocket and
closes it at once, before the ACK (the race ``app/runtime/server_fixes.py`` handles).
``concurrency`` cycles run at a time, with bounded count and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from urllib.parse import urljoin

import aiohttp
import orjson

from bench.clients.bokeh_protocol import DOCUMENT_READY, FAST_RE, TOKEN_RE, board_changes, bokeh_msg
from bench.common import ROOT, ServerProc, get_json, photon_server, symbols_for, universe


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
               k: int = 10, report_every_s: float = 5.0, log=print,
               probe: Callable[[], dict] | None = None) -> dict:
    """Run ``cycles`` open/close cycles. At 0, 10, 25, 50, 75 and 100 % of them the load
    pauses until the server has reaped every session, and the idle RSS is recorded:
    growth between the 50 % checkpoint (long warm) and the end is what a leak would
    show; allocator high-water marks settle in the first part. ``probe`` (blocking,
    run in a thread) adds what it returns to each checkpoint, e.g. the server's own
    object counts."""
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
        if probe is not None:
            ck["probe"] = await asyncio.to_thread(probe)
        checkpoints.append(ck)
        log(f"  soak checkpoint: {done} cycles, all reaped: sessions={ck['sessions']} "
            f"subscriptions={ck['subscriptions']} idle RSS={ck['rss_mb']:.1f} MB"
            + (f" {ck['probe']}" if probe is not None else ""))
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


def verdict(res: dict) -> list[str]:
    """The soak's verdict lines: idle RSS slope from the 50 % checkpoint, sessions and
    ref counts back to nothing, and (with the server's object counts) documents freed."""
    growth = res["idle_growth_mb_per_1000"]
    lines = ["idle RSS growth from the 50 % checkpoint: "
             + ("n/a" if growth is None else f"{growth:+.2f} MB per 1000 cycles")
             + ("" if growth is None or res["cycles"] < 2000 else
                f" ({'flat' if growth <= 1.0 else 'NOT flat'}: <= 1 MB per 1000 cycles)"),
             f"live sessions at end {res['final_sessions']} (must be 0); subscriptions at "
             f"end {res['final_subscriptions']} (must be {{}})"]
    probes = [c for c in res["checkpoints"] if "probe" in c]
    if probes:
        docs = [c["probe"].get("documents") for c in probes]
        lines.append("documents alive at the idle checkpoints (as the GC policy left them): "
                     + ", ".join(str(d) for d in docs))
    after = res.get("after_collect")
    if after and probes:
        base = probes[0]["probe"]  # before the first session: the idle baseline
        lines.append(f"after one full collection at the end: {after['documents']} documents "
                     f"(idle baseline {base.get('documents')}), {after['server_sessions']} "
                     f"server sessions, {after['tracked']} tracked objects (baseline "
                     f"{base.get('tracked')}, not collected)")
    return lines


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.drills.soak``: the soak alone against a fresh Photon server, with the
    server's own document and object counts at every checkpoint."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cycles", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--push-ms", type=int, default=250)
    p.add_argument("--max-s", type=float, default=3600.0, help="wall-time bound")
    p.add_argument("--gc", choices=("freeze", "default"), help="PHOTON_GC (app default if unset)")
    args = p.parse_args(argv)
    out = ROOT / "bench" / "out" / time.strftime("soak-%Y%m%d-%H%M%S")
    server = photon_server(args.push_ms, out)
    server.cmd += ["--plugins", "bench.gcobjects"]  # /bench/gc/live: counts from inside
    if args.gc:
        server.env["PHOTON_GC"] = args.gc
    server.start()

    def probe() -> dict:
        return get_json(server.base + "/bench/gc/live", timeout=120) or {}

    print(f"soak: {args.cycles} cycles, {args.concurrency} at a time, push {args.push_ms} ms, "
          f"PHOTON_GC={args.gc or 'app default'}; load average at start "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    try:
        res = asyncio.run(soak(server, args.cycles, args.concurrency, args.max_s,
                               log=lambda m: print(m, flush=True), probe=probe))
        res["after_collect"] = get_json(server.base + "/bench/gc", timeout=300)
        if res["after_collect"]:
            res["after_collect"].pop("types", None)
            res["after_collect"].update(probe())
    finally:
        server.stop()
    res["loadavg_end"] = os.getloadavg()
    print(f"\n{res['cycles']} cycles in {res['elapsed_s']} s; kinds {res['kinds']}; load "
          f"average at end {res['loadavg_end'][0]:.2f} {res['loadavg_end'][1]:.2f} "
          f"{res['loadavg_end'][2]:.2f}")
    print("checkpoint  cycles  idle RSS MB  sessions  documents  tracked objects  reclaims")
    for c in res["checkpoints"]:
        pr = c.get("probe", {})
        print(f"{c['cycles'] / max(args.cycles, 1):9.0%}  {c['cycles']:6d}  {c['rss_mb']:11.1f}"
              f"  {c['sessions']!s:>8}  {pr.get('documents')!s:>9}  {pr.get('tracked')!s:>15}"
              f"  {pr.get('reclaims')!s:>8}")
    for line in verdict(res):
        print(line)
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(res, indent=1))
    print(f"results: {out / 'soak.json'}")


if __name__ == "__main__":
    main()
