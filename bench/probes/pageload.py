"""Page weight: what a viewer's first (and next) visit costs on their link.

    python -m bench.probes.pageload                 # 8 loads per cell
    python -m bench.probes.pageload --loads 20 --detail
    python -m bench.probes.pageload --rev 9d72d62 --rev .   # a commit's app, then the work tree's

``photon`` at its defaults (mock feed, as ``photon`` starts it) and the Socket.IO
reference page (bench/servers/ref_socketio.py) at the same cadence; each page is loaded in
headless Chromium through CDP:

* pages: ``/app`` (the board, default symbols), ``/sparkline?symbol=AAPL`` (an embed),
  and the reference's ``/?symbols=AAPL,TSLA,GOOGL``;
* links: loopback as is, and a viewer's link emulated by Chromium
  (``Network.emulateNetworkConditions``: 10 Mbit/s down and up, 40 ms round trips);
* caches: cold (each load in a new browser context: an empty cache, a first visit)
  and warm (one context primed by a first load; each later load a new tab in it: a
  returning viewer).

Per load: bytes on the wire (the sum of ``Network.loadingFinished``
``encodedDataLength``: compressed bodies plus headers; the WebSocket's frames are not
counted), requests (HTTP responses, from the cache or not), and the time from the
page request (``performance`` time origin) to the first price painted: either one
the server wrote into the HTML (app/views/first_paint.py; its paint time from Element
Timing) or the live board's (a ``.photon-price`` with a digit, found through Panel's
shadow roots, polled every 10 ms), and the live board's alone (*live board*: BokehJS
started, the document built, prices updating from there). Prints p50/p95 over the
loads, and on the way the p50 of the HTML's arrival (``html``) and of Panel's
'WebSocket Connected' (``ws``, Bokeh pages); not a pass/fail test.
``--detail`` lists the largest responses of one cold load of each page with their
encoding and cache headers.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.cells import export_rev
from bench.clients.browser import LAUNCH_ARGS
from bench.common import ROOT, ServerProc, as_users_start_it, pct, photon_server, ref_server
from bench.sessionstart import FIRST_PRICE_JS

#: A viewer's link: 10 Mbit/s each way, 40 ms round trip (CDP wants bytes/s and ms).
LINK = {"offline": False, "latency": 40, "downloadThroughput": 10e6 / 8,
        "uploadThroughput": 10e6 / 8}
#: Wait this long after the first price for late requests (fonts, icons) to count.
SETTLE_S = 0.5


@dataclass
class Load:
    """One page load: what crossed the wire and when the first price showed."""

    bytes: int = 0
    requests: int = 0
    price_s: float | None = None  # the first price painted: the HTML's or the board's
    board_s: float | None = None  # the live board's first price
    html_s: float | None = None  # the page's HTML fully received
    connected_s: float | None = None  # 'WebSocket Connected' logged (Bokeh pages)
    error: str = ""
    responses: dict[str, dict] = field(default_factory=dict)


async def load_once(context, url: str, link: dict | None) -> Load:
    """Load ``url`` in a new tab of ``context``, through CDP, on ``link`` (None: as is)."""
    out = Load()
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    urls: dict[str, str] = {}

    def on_response(ev: dict) -> None:
        r = ev["response"]
        h = {k.lower(): v for k, v in r.get("headers", {}).items()}
        urls[ev["requestId"]] = r["url"]
        out.responses[r["url"]] = {"status": r.get("status"),
                                   "encoding": h.get("content-encoding", ""),
                                   "cache": h.get("cache-control", ""),
                                   "type": h.get("content-type", "").split(";")[0],
                                   "cached": bool(r.get("fromDiskCache")
                                                  or r.get("fromMemoryCache")),
                                   "bytes": 0}

    def on_finished(ev: dict) -> None:
        out.bytes += int(ev.get("encodedDataLength", 0))
        out.requests += 1
        url = urls.get(ev["requestId"])
        if url in out.responses:
            out.responses[url]["bytes"] = int(ev.get("encodedDataLength", 0))

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    await cdp.send("Network.enable")
    if link is not None:
        await cdp.send("Network.emulateNetworkConditions", link)
    await page.add_init_script(FIRST_PRICE_JS)
    try:
        await page.goto(url, timeout=60_000)
        await page.wait_for_function("() => window.__photonStart.price !== null",
                                     timeout=60_000, polling=50)
        got = await page.evaluate("""() => ({...window.__photonStart,
          html: performance.getEntriesByType('navigation')[0].responseEnd})""")
        out.board_s, out.html_s = got["price"] / 1000, got["html"] / 1000
        painted = got.get("painted") / 1000 if got.get("painted") else None
        out.price_s = min(out.board_s, painted) if painted is not None else out.board_s
        out.connected_s = got["connected"] / 1000 if got.get("connected") else None
        await page.wait_for_timeout(SETTLE_S * 1000)
    except Exception as e:  # noqa: BLE001 - a page that never showed a price is reported
        out.error = f"{type(e).__name__}: {e}"[:120]
    finally:
        await cdp.detach()
        await page.close()
    return out


async def loads(browser, url: str, n: int, link: dict | None, warm: bool) -> list[Load]:
    """``n`` loads of ``url``: each in a fresh context (cold), or tabs of one primed one."""
    out = []
    shared = None
    if warm:
        shared = await browser.new_context()
        await load_once(shared, url, link)  # the first visit fills the cache
    for _ in range(n):
        ctx = shared or await browser.new_context()
        out.append(await load_once(ctx, url, link))
        if shared is None:
            await ctx.close()
    if shared is not None:
        await shared.close()
    return out


def row(label: str, got: list[Load]) -> str:
    ok = [g for g in got if g.price_s is not None]
    kb = [g.bytes / 1000 for g in got]
    reqs = [g.requests for g in got]
    times = [g.price_s for g in ok]
    first = (f"{pct(times, 0.5) * 1000:6.0f} {pct(times, 0.95) * 1000:6.0f}" if times
             else f"{'-':>6} {'-':>6}")
    board = [g.board_s * 1000 for g in ok]
    html = [g.html_s * 1000 for g in ok]
    conn = [g.connected_s * 1000 for g in ok if g.connected_s is not None]
    steps = (f" {pct(html, 0.5):5.0f} {pct(conn, 0.5) if conn else float('nan'):5.0f}"
             f" {pct(board, 0.5):6.0f} {pct(board, 0.95):6.0f}"
             if html else f" {'-':>5} {'-':>5} {'-':>6} {'-':>6}")
    errors = sorted({g.error for g in got if g.error})
    note = f"  {len(got) - len(ok)} failed: {errors[0]}" if errors else ""
    return (f"{label:<40} {pct(kb, 0.5):9,.0f} {pct(reqs, 0.5):5.0f} {first}"
            f" {len(ok):>3}/{len(got)}{steps}{note}")


def detail(label: str, got: Load, top: int = 12) -> None:
    print(f"\n{label}: {got.bytes / 1000:,.0f} kB in {got.requests} responses; largest:")
    print(f"  {'kB':>7}  {'encoding':<8} {'cache-control':<28} url")
    biggest = sorted(got.responses.items(), key=lambda kv: -kv[1]["bytes"])[:top]
    for url, r in biggest:
        short = url.split("//", 1)[-1].split("/", 1)[-1][:70]
        print(f"  {r['bytes'] / 1000:7,.1f}  {r['encoding'] or '-':<8} "
              f"{(r['cache'] or '-')[:28]:<28} /{short}")


async def measure(pages: list[tuple[str, str]], args) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=LAUNCH_ARGS)
        for _, url in pages:  # Chromium's and each server's own start-up, not counted
            ctx = await browser.new_context()
            await load_once(ctx, url, None)
            await ctx.close()
        print(f"\n{'page, link, cache':<40} {'kB wire':>9} {'reqs':>5} "
              f"{'p50 ms':>6} {'p95 ms':>6} {'ok':>5} {'html':>5} {'ws':>5} "
              f"{'p50 ms':>6} {'p95 ms':>6}")
        print(f"{'':<40} {'(p50)':>9} {'(p50)':>5} {'first price':>13} {'':>5} "
              f"{'(p50 ms)':>11} {'live board':>13}   ({args.loads} loads a cell)")
        for name, url in pages:
            for link_name, link in (("loopback", None), ("10Mbit/40ms", LINK)):
                for warm in (False, True):
                    got = await loads(browser, url, args.loads, link, warm)
                    print(row(f"{name} {link_name} {'warm' if warm else 'cold'}", got),
                          flush=True)
        if args.detail:
            for name, url in pages:
                ctx = await browser.new_context()
                detail(name, await load_once(ctx, url, None))
                await ctx.close()
        await browser.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--loads", type=int, default=8, help="page loads per cell")
    p.add_argument("--push-ms", type=int, default=100,
                   help="the cadence of both servers (Photon's default: 100)")
    p.add_argument("--detail", action="store_true",
                   help="list the largest responses of a cold load of each page")
    p.add_argument("--no-ref", action="store_true", help="skip the Socket.IO reference")
    p.add_argument("--rev", action="append", default=[],
                   help="a git revision of app/ to measure ('.': the work tree); repeat "
                   "to compare in one run (default: the work tree)")
    args = p.parse_args(argv)
    logdir = Path(ROOT / "bench" / "out" / time.strftime("pageload-%Y%m%d-%H%M%S"))
    servers: list[ServerProc] = []
    try:
        pages = []
        for rev in args.rev or ["."]:
            src = None if rev == "." else export_rev(rev)
            photon = as_users_start_it(photon_server(args.push_ms, logdir, src=src)).start()
            servers.append(photon)
            name = "photon" if rev == "." else rev
            pages += [(f"{name} /app", f"{photon.base}/app"),
                      (f"{name} /sparkline", f"{photon.base}/sparkline?symbol=AAPL")]
        if not args.no_ref:
            ref = ref_server("socketio", args.push_ms, logdir).start()
            servers.append(ref)
            pages.append(("socketio ref", f"{ref.base}/?symbols=AAPL,TSLA,GOOGL"))
        asyncio.run(measure(pages, args))
    finally:
        for s in servers:
            s.stop()
    print(f"logs in {logdir}")


if __name__ == "__main__":
    main()
