"""Embedded sparklines at scale: what N live embeds cost the server, and what they see.

    python -m bench.probes.embeds                          # 1,000 embeds, 20 s window
    python -m bench.probes.embeds --embeds 2000 --window 30 --push-ms 1000

``photon`` as users start it (mock feed), its idle RSS read, then N embeds opened the
way a browser opens one (app/embed/): ``GET /sparkline?symbol=S`` (the page, with the
price in it), then the page's socket ``/photon/spark?symbol=S``; symbols round-robin
over the mock universe, in batches of 50, each batch live (its first message, the
row, received) before the next. Then a window in which every embed counts what
arrives: updates, its longest gap between two (the gaps at the window's edges count,
:class:`bench.common.GapMeter`) and tick-to-client (receipt minus the update's
publication time ``at``, the hub's clock on the same machine). Prints the page's
response time during the ramp, RSS idle and loaded (per embed), server and client
CPU, the cadence ``/health`` reported, and the viewer's figures. Not a pass/fail test;
one aiohttp client process holds every embed (``client CPU`` says if it was the
bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
import orjson
import psutil

from bench.common import (
    ROOT,
    GapMeter,
    as_users_start_it,
    gap_stats,
    log,
    pct,
    photon_server,
    sample_cadence,
    universe,
)

BATCH = 50


class Embed:
    """One embed's socket and what it saw."""

    __slots__ = ("symbol", "first", "gap", "updates", "delays", "err")

    def __init__(self, symbol: str):
        self.symbol = symbol
        self.first = asyncio.get_running_loop().create_future()
        self.gap = GapMeter()
        self.updates = 0
        self.delays: list[float] = []
        self.err = ""


async def run_embed(e: Embed, http: aiohttp.ClientSession, base: str, window: list[float],
                    page_ms: list[float]) -> None:
    try:
        t0 = time.perf_counter()
        async with http.get(f"{base}/sparkline?symbol={e.symbol}") as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"page {r.status}")
        page_ms.append((time.perf_counter() - t0) * 1000)
        url = f"{base.replace('http', 'ws', 1)}/photon/spark?symbol={e.symbol}"
        async with http.ws_connect(url, origin=base, max_msg_size=0, compress=0) as ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                now = time.time()
                data = orjson.loads(msg.data)
                if "snapshot" in data and not e.first.done():
                    e.first.set_result(now)
                if not data.get("rows"):
                    continue
                w0, w1 = window
                e.gap.update(now, w0, w1)
                if w0 <= now <= w1:
                    e.updates += 1
                    if data.get("at"):
                        e.delays.append(now - data["at"])
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded per embed
        e.err = f"{type(exc).__name__}: {exc}"[:200]
    if not e.first.done():
        e.first.set_result(None)


async def measure(n: int, window_s: float, push_ms: int) -> None:
    logdir = ROOT / "bench" / "out" / f"embeds-{time.strftime('%Y%m%d-%H%M%S')}"
    server = as_users_start_it(photon_server(push_ms, logdir)).start()
    me = psutil.Process()
    try:
        await asyncio.sleep(2)
        idle = server.rss_mb()
        symbols = universe()
        window = [float("inf"), float("inf")]
        page_ms: list[float] = []
        embeds = [Embed(symbols[i % len(symbols)]) for i in range(n)]
        conn = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=conn) as http:
            t_ramp = time.time()
            tasks = []
            for start in range(0, n, BATCH):
                batch = embeds[start:start + BATCH]
                tasks += [asyncio.create_task(run_embed(e, http, server.base, window,
                                                        page_ms)) for e in batch]
                await asyncio.wait_for(asyncio.gather(*(e.first for e in batch)), 120)
            ramp_s = time.time() - t_ramp
            live = sum(1 for e in embeds if e.first.result() is not None and not e.err)
            await asyncio.sleep(2)
            cadence: list[float] = []
            w0 = time.time()
            w1 = w0 + window_s
            window[:] = [w0, w1]
            cpu0, me0 = server.cpu_seconds(), sum(me.cpu_times()[:2])
            sampler = asyncio.create_task(sample_cadence(server.base, w1, cadence))
            await asyncio.sleep(window_s)
            cpu = (server.cpu_seconds() - cpu0) / window_s * 100
            client_cpu = (sum(me.cpu_times()[:2]) - me0) / window_s * 100
            loaded = server.rss_mb()
            health = server.health() or {}
            await sampler
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        server.stop()
    gaps = [e.gap.close(w0, w1) for e in embeds]
    delays = sorted(d * 1000 for e in embeds for d in e.delays)
    per_s = [e.updates / window_s for e in embeds]
    errors = sorted({e.err for e in embeds if e.err})
    g = gap_stats(gaps)
    log(f"\n{n} embeds (/sparkline, then /photon/spark), push interval {push_ms} ms, "
        f"{window_s:.0f} s window; logs in {logdir}")
    log(f"  live                 {live}/{n} (ramp {ramp_s:.1f} s; server sessions "
        f"{health.get('sessions')}, fast-lane sockets {health.get('fast_lane_sockets')})")
    log(f"  page response        p50 {pct(page_ms, .5):.0f} ms, p95 {pct(page_ms, .95):.0f} ms")
    log(f"  RSS                  idle {idle:.0f} MB, loaded {loaded:.0f} MB: "
        f"{(loaded - idle) / max(n, 1) * 1024:.0f} kB per embed")
    log(f"  server CPU           {cpu:.0f} % of a core (client {client_cpu:.0f} %)")
    if cadence:
        log(f"  cadence (/health)    {min(cadence):.0f} / {pct(cadence, .5):.0f} / "
            f"{max(cadence):.0f} ms (min / median / max)")
    log(f"  updates per embed    p50 {pct(per_s, .5):.1f}/s, min {min(per_s):.1f}/s")
    log(f"  longest gap          p50 {g['gap_p50']:.2f} s, p95 {g['gap_p95']:.2f} s, "
        f"max {g['gap_max']:.2f} s")
    if delays:
        log(f"  tick-to-client       p50 {pct(delays, .5):.0f} ms, p99 {pct(delays, .99):.0f} ms")
    for err in errors[:5]:
        log(f"  error: {err}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.probes.embeds",
                                description=__doc__.split("\n")[0])
    p.add_argument("--embeds", type=int, default=1000, help="embeds to open")
    p.add_argument("--window", type=float, default=20.0, help="measurement window, s")
    p.add_argument("--push-ms", type=int, default=100, help="PHOTON_PUSH_INTERVAL_MS")
    args = p.parse_args(argv)
    asyncio.run(measure(args.embeds, args.window, args.push_ms))


if __name__ == "__main__":
    main()
