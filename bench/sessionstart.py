"""Session start: how fast one process opens sessions while hundreds are live.

    python -m bench.sessionstart                    # 500 live, burst of 200, 20 pages
    python -m bench.sessionstart --live 300 --open 100 --pages 10
    python -m bench.sessionstart --rev HEAD~1 --rev .   # a commit, then the work tree

1. A fresh Photon server (as ``photon`` starts it, default cadence) and ``--live``
   sessions held live by a load worker (``bench.load``: the Bokeh protocol and the fast
   lane, 10 symbols each).
2. **Pages at that load**: ``--pages`` page loads in headless Chromium, one after the
   other, each a new tab: from the page request (``performance`` time origin) to the
   first price on the board, with the HTML response and "WebSocket Connected" on the
   way; first visits (empty cache: BokehJS and Panel's 2.9 MB of scripts loaded) and
   returning viewers (scripts from the cache).
3. **Burst**: ``--open`` more sessions from raw-protocol clients, ``--concurrency`` in
   flight at a time (page GET, WebSocket, document, ``document_ready``, first update),
   while Chromium loads pages again. Sessions opened per second = sessions live at the
   end / time from the first request to the last first update; per session, request to
   first update.

Prints figures (p50/p95/max), server CPU and RSS; not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bench import load
from bench.browser import FIRST_PRICE_JS, LAUNCH_ARGS
from bench.cells import export_rev
from bench.common import (
    ROOT,
    ServerProc,
    as_users_start_it,
    opening_ms,
    pct,
    photon_server,
    symbols_for,
    universe,
)
from bench.gcobjects import close_sessions, open_sessions
from bench.load_stats import Session
from bench.photon_client import photon_session


def summary(values: list[float]) -> str:
    """``p50 / p95 / max`` in milliseconds (``-`` when there are none)."""
    if not values:
        return "-"
    return " / ".join(f"{pct(values, q) * 1000:.0f}" for q in (0.5, 0.95, 1.0))


async def page_loads(browser, url: str, n: int, stop: asyncio.Event | None = None,
                     cached: bool = True) -> list[dict]:
    """Load ``url`` in ``n`` new tabs one after the other (or until ``stop``): timings in s.

    ``cached``: the tabs share one browser context, so BokehJS and Panel's scripts come
    from its cache after the first (a returning viewer); else each tab is a first visit."""
    out = []
    shared = await browser.new_context() if cached else None
    for _ in range(n):
        if stop is not None and stop.is_set():
            break
        page = await (shared.new_page() if shared else browser.new_page())
        await page.add_init_script(FIRST_PRICE_JS)
        try:
            await page.goto(url, timeout=60_000)
            await page.wait_for_function("() => window.__photonStart.price !== null",
                                         timeout=60_000, polling=50)
            got = await page.evaluate("""() => ({
              ...window.__photonStart,
              html: performance.getEntriesByType('navigation')[0].responseEnd})""")
            out.append({k: (v / 1000 if v is not None else None) for k, v in got.items()})
        except Exception as e:  # noqa: BLE001 - a page that never showed a price is reported
            out.append({"price": None, "error": f"{type(e).__name__}: {e}"[:120]})
        finally:
            await page.close()
    if shared is not None:
        await shared.close()
    return out


async def burst(base: str, first: int, n: int, concurrency: int,
                query: str = "") -> tuple[list[float], float]:
    """Open ``n`` sessions, ``concurrency`` at a time; (request-to-first-update of each
    that went live, seconds from the first request to the last first update). ``query``:
    more of each page's URL."""
    syms = universe()
    gate = asyncio.Semaphore(concurrency)
    conn = aiohttp.TCPConnector(limit=0)
    sessions = [Session(first + j, symbols_for(first + j, 10, syms)) for j in range(n)]
    took: list[float] = []
    async with aiohttp.ClientSession(connector=conn) as http:
        t0 = time.time()

        async def one(sess: Session) -> None:
            async with gate:
                start = time.time()
                runner = functools.partial(photon_session, query=query)
                sess.task = asyncio.create_task(load.run_one(sess, runner, http, base))
                try:
                    await asyncio.wait_for(sess.ready.wait(), 60)
                except TimeoutError:
                    return
                if sess.t_ready is not None and not sess.err:
                    took.append(sess.t_ready - start)

        await asyncio.gather(*(one(s) for s in sessions))
        last = max((s.t_ready for s in sessions if s.t_ready), default=t0)
        await asyncio.gather(*(load.close(s) for s in sessions))
    return took, last - t0


async def live_cpu_rate(server: ServerProc, seconds: float = 5.0) -> float:
    """The server's CPU seconds per second with only the live sessions (no opening)."""
    c0, t0 = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return (server.cpu_seconds() - c0) / (time.monotonic() - t0)


def report_pages(label: str, pages: list[dict]) -> None:
    ok = [p for p in pages if p.get("price") is not None]
    errors = sorted({p["error"] for p in pages if p.get("error")})
    print(f"  {label}: {len(ok)}/{len(pages)} pages showed a price")
    if ok:
        print(f"    request to first price  p50/p95/max ms: {summary([p['price'] for p in ok])}")
        print(f"    HTML response end       p50/p95/max ms: {summary([p['html'] for p in ok])}")
        conn = [p["connected"] for p in ok if p.get("connected") is not None]
        print(f"    'WebSocket Connected'   p50/p95/max ms: {summary(conn)}")
    for e in errors:
        print(f"    error: {e}")


async def measure(server: ServerProc, args) -> None:
    from playwright.async_api import async_playwright

    # --board NAME: a saved board (made from these symbols by the first page that opens
    # it, read from the store by every later one); a revision without saved boards
    # ignores the key and opens the same symbols unsaved.
    query = f"&board={quote(args.board)}" if args.board else ""
    url = f"{server.base}/app?symbols={','.join(symbols_for(0, 10, universe()))}{query}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=LAUNCH_ARGS)
        await page_loads(browser, url, 2)  # Chromium's own start-up, not the server's
        print(f"\nChromium, {args.live} sessions live, no other load:")
        report_pages("first visits (empty cache)",
                     await page_loads(browser, url, args.pages, cached=False))
        report_pages("returning (scripts cached)", await page_loads(browser, url, args.pages))

        # What the live sessions cost on their own (their updates), to take out of the
        # burst's CPU: a slow burst would otherwise count more of it per session.
        live_rate = await live_cpu_rate(server)
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        stop = asyncio.Event()
        browsing = asyncio.create_task(page_loads(browser, url, args.pages, stop))
        took, span = await burst(server.base, args.live, args.open, args.concurrency, query)
        stop.set()
        cpu_s = server.cpu_seconds() - cpu0
        window = time.monotonic() - t0
        cpu = cpu_s / window * 100
        pages = await browsing
        await browser.close()
    print(f"\nBurst: {args.open} sessions opened, {args.concurrency} in flight, "
          f"beside {args.live} live:")
    print(f"  {len(took)}/{args.open} live in {span:.1f} s: "
          f"{len(took) / span if span else 0:.1f} sessions/s; server CPU {cpu:.0f} %, "
          f"{cpu_s / max(1, len(took) + len(pages)) * 1000:.0f} ms per session opened "
          f"(with the live ones' updates meanwhile), "
          f"{opening_ms(cpu_s, live_rate, window, len(took) + len(pages)):.0f} ms above the "
          f"live ones' own {live_rate * 100:.0f} %; RSS {server.rss_mb():.0f} MB")
    print(f"  request to first update (raw client) p50/p95/max ms: {summary(took)}")
    report_pages("Chromium during the burst (returning)", pages)


def run(args, label: str, src: Path | None) -> None:
    """Every phase against one server: the work tree's app (``src`` None) or a copy."""
    logdir = ROOT / "bench" / "out" / time.strftime("start-%Y%m%d-%H%M%S")
    server = as_users_start_it(photon_server(args.push_ms, Path(logdir), src=src)).start()
    print(f"\n=== {label} ===")
    try:
        close_sessions(open_sessions(server.base, 1), server.base)  # warm: imports, caches
        idle, cpu0 = server.rss_mb(), server.cpu_seconds()
        t0 = time.monotonic()
        worker = open_sessions(server.base, args.live, first=1, need=0.99)
        ramp = time.monotonic() - t0
        print(f"load average {os.getloadavg()[0]:.2f}; {worker.ready} sessions live in "
              f"{ramp:.1f} s (batches of 20: {worker.ready / ramp:.1f} sessions/s, server "
              f"CPU {(server.cpu_seconds() - cpu0) / worker.ready * 1000:.0f} ms per "
              f"session); RSS {idle:.0f} MB idle, {server.rss_mb():.0f} MB with them")
        try:
            asyncio.run(measure(server, args))
        finally:
            worker.stdin.write("\n")
            worker.stdin.close()
            worker.wait(60)
        print(f"load average at the end {os.getloadavg()[0]:.2f}; logs in {logdir}")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--live", type=int, default=500, help="sessions held live throughout")
    p.add_argument("--open", type=int, default=200, help="sessions opened in the burst")
    p.add_argument("--concurrency", type=int, default=20, help="burst sessions in flight")
    p.add_argument("--pages", type=int, default=20, help="Chromium page loads per phase")
    p.add_argument("--push-ms", type=int, default=100, help="PHOTON_PUSH_INTERVAL_MS (floor)")
    p.add_argument("--board", default="", help="open the saved board NAME (?board=NAME; "
                   "the Chromium pages and the burst; the live sessions stay unsaved)")
    p.add_argument("--rev", action="append", default=[],
                   help="a git revision of app/ to measure ('.': the work tree); repeat "
                   "to compare in one run (default: the work tree)")
    args = p.parse_args(argv)
    for rev in args.rev or ["."]:
        run(args, "work tree" if rev == "." else rev, None if rev == "." else export_rev(rev))


if __name__ == "__main__":
    main()
