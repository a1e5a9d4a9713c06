"""Issue 9's targets in one run, measured from the viewers' side.

    python -m bench.scenarios.acceptance                    # every cell below (about 15 minutes)
    python -m bench.scenarios.acceptance --only t100,sio100 --window 15
    python -m bench.scenarios.acceptance --only t1000 --rev aa10ba9 --rev .   # before and now

One Photon process as users start it (default session lifetimes), 10 symbols per
session, sessions from raw-protocol load workers (``bench.clients.load``):

``t1000``  1,000 sessions with the cadence pinned at 1,000 ms (floor = ceiling).
``t2000``  2,000 sessions with the default adaptive cadence (floor 100 ms, ceiling 1 s).
``t100``   100 sessions, default settings, plus one Chromium page (tick-to-DOM).
``sio100`` the Flask-SocketIO reference at 100 ms (Photon's default floor), 100
           sessions plus one Chromium page on its own board page.

Per cell: sessions live; updates delivered against what the server published
(the hub's publication log, as ``bench.run`` defines it); each session's longest gap
between two updates (p50 / p95 / max over sessions) against the cadence the server
reported (``/health`` ``push_interval_ms``, sampled every second); updates a session
received per promised cycle (hub cycles published in the window that reached a session,
against the window divided by the mean reported cadence: ``bench/reports/viewer.py``; a cycle in
which none of its 10 symbols traded brings nothing, so a little under 1 is normal);
tick-to-client and, with Chromium, tick-to-DOM (p50 / p99); full-collection pauses
(``photon_gc_pause_seconds``, generation 2); server CPU; RSS per session. Session
start is ``bench.sessionstart``. Figures and verdicts are printed, not asserted: the
machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from pathlib import Path

from bench.cells import Cell, export_rev
from bench.clients.browser import BrowserProbe
from bench.clients.workers import Workers
from bench.common import (
    ROOT,
    Histogram,
    ServerProc,
    as_users_start_it,
    pct,
    photon_server,
    ref_server,
    sample_cadence,
    symbols_for,
    universe,
)
from bench.reports.viewer import viewer_figures
from bench.scenarios.gcpause import gen2_pauses, p99_bound

#: name: (server_name, sessions, floor ms, ceiling ms or None for the default, Chromium)
CELLS = {
    "t1000": ("photon", 1000, 1000, 1000, False),
    "t2000": ("photon", 2000, 100, None, False),
    "t100": ("photon", 100, 100, None, True),
    "sio100": ("socketio", 100, 100, None, True),
}


def start_server(server_name: str, floor: int, ceiling: int | None, logdir: Path,
                 src: Path | None = None) -> ServerProc:
    if server_name == "socketio":
        return ref_server("socketio", floor, logdir).start()
    server = as_users_start_it(photon_server(floor, logdir, src=src))
    if ceiling is not None:
        server.env["PHOTON_MAX_PUSH_INTERVAL_MS"] = str(ceiling)
    return server.start()


async def cpu_at(when: float, server: ServerProc, workers: Workers) -> tuple[float, float]:
    """CPU seconds of the server and of the load workers at ``when`` (Unix time)."""
    await asyncio.sleep(max(0.0, when - time.time()))
    return server.cpu_seconds(), workers.cpu_seconds()


async def run_cell(name: str, window: float, logdir: Path, settle: float = 5.0,
                   src: Path | None = None) -> dict:
    server_name, n, floor, ceiling, browser = CELLS[name]
    server = await asyncio.to_thread(start_server, server_name, floor, ceiling, logdir, src)
    probe = None
    try:
        idle = server.rss_mb()
        workers = Workers(Cell(server_name, n, floor, k=10), server.base,
                          nproc=math.ceil(n / 1000), batch=20, ramp_timeout=600)
        t_ramp = time.monotonic()
        ramps = await workers.start()
        ramp_s = time.monotonic() - t_ramp
        ready = sum(r["ready"] for r in ramps)
        await asyncio.sleep(settle)  # the ramp's load off the cadence controller
        if browser:
            path = "/app" if server_name == "photon" else "/"
            probe = BrowserProbe(f"{server.base}{path}?symbols="
                                 f"{','.join(symbols_for(0, 10, universe()))}")
            await probe.start()
        photon = server_name == "photon"
        gc0 = await asyncio.to_thread(gen2_pauses, server.base) if photon else {}
        h0 = await asyncio.to_thread(server.health) or {}
        cpu0, wcpu0, t0 = server.cpu_seconds(), workers.cpu_seconds(), time.time()
        w0, w1 = t0 + 1.0, t0 + 1.0 + window
        cadence: list[float] = []
        sampler = asyncio.create_task(sample_cadence(server.base, w1, cadence))
        at_end = asyncio.create_task(cpu_at(w1, server, workers))  # workers exit after
        results = await workers.measure(w0, w1, w1 + 2.0)
        await sampler
        scpu1, wcpu1 = await at_end
        cpu = (scpu1 - cpu0) / (w1 - t0) * 100
        wcpu = (wcpu1 - wcpu0) / (w1 - t0) * 100
        gc1 = await asyncio.to_thread(gen2_pauses, server.base) if photon else {}
        h1 = await asyncio.to_thread(server.health) or {}
        dom = await probe.collect(w0, w1) if probe else {}
        rss = server.rss_mb()
        await workers.stop()
    finally:
        if probe is not None:
            await probe.stop()
        await asyncio.to_thread(server.stop)
    gc_delta = {k: gc1.get(k, 0) - gc0.get(k, 0) for k in gc1}
    out = summarise(name, server_name, n, ready, ramp_s, results, cadence or [float(floor)],
                    window, cpu, wcpu, idle, rss, gc_delta, dom)
    # the hub thread woke a whole interval late: starved of the GIL or the CPU
    out["cycles_missed"] = h1.get("cycles_missed", 0) - h0.get("cycles_missed", 0)
    return out


def summarise(name, server_name, n, ready, ramp_s, results, cadence, window, cpu, wcpu, idle,
              rss, gc_delta, dom) -> dict:
    delivered = intended = 0
    hist = Histogram()  # tick-to-client, every update of every session
    sessions = [s for r in results for s in r["sessions"]]
    for r in results:
        hist.merge(r["hist"])
        publog = {sym: len(ts) for sym, ts in r["publog"].items()}
        for s in r["sessions"]:
            delivered += s["delivered"]
            intended += sum(publog.get(sym, 0) for sym in symbols_for(s["i"], 10, universe()))
    # every session counts: one that never got an update waited the whole window
    seen = viewer_figures(sessions, window, cadence, cadence[0])
    dom_ms = sorted(1000 * x for x in dom.get("dom", []))
    return {
        "cell": name, "server": server_name, "n": n, "ready": ready, "ramp_s": ramp_s,
        "delivered_pct": 100.0 * delivered / intended if intended else 0.0,
        "cadence_ms": (min(cadence), sorted(cadence)[len(cadence) // 2], max(cadence)),
        "gap_s": (seen["gap_p50"], seen["gap_p95"], seen["gap_max"]),
        "per_cycle": seen["received_ratio"],
        "tick_client_ms": (hist.quantile(0.5), hist.quantile(0.99)),
        "tick_dom_ms": (pct(dom_ms, 0.5), pct(dom_ms, 0.99), len(dom_ms)),
        "cpu_pct": cpu, "workers_cpu_pct": wcpu, "rss_mb": rss,
        "mb_per_session": (rss - idle) / ready if ready else None,
        "gc_pauses": int(gc_delta.get("count", 0)), "gc_p99": p99_bound(gc_delta),
        "gc_max_bucket": p99_bound(gc_delta, 1.0),  # every pause
    }


def fmt(v, spec: str = ".0f", scale: float = 1.0) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v * scale,
                                                                                     spec)


def verdicts(r: dict) -> list[str]:
    """The issue's target for this cell, met or not, with the figure."""
    live = r["ready"] == r["n"]
    p50, p95, gmax = r["gap_s"]
    cad_max = r["cadence_ms"][2] / 1000
    out = []
    if r["cell"] == "t1000":
        out.append(f"every session live: {'yes' if live else 'NO'} ({r['ready']}/{r['n']})")
        out.append(f">= 99 % delivered: {'yes' if r['delivered_pct'] >= 99 else 'NO'} "
                   f"({r['delivered_pct']:.1f} %)")
        out.append(f"gap p95 <= 1.5 s: {'yes' if p95 is not None and p95 <= 1.5 else 'NO'} "
                   f"({fmt(p95, '.2f')} s)")
        out.append(f"full-collection pause p99 <= 100 ms: {r['gc_p99']} "
                   f"({r['gc_pauses']} pauses, all {r['gc_max_bucket']})")
    elif r["cell"] == "t2000":
        out.append(f"every session live: {'yes' if live else 'NO'} ({r['ready']}/{r['n']})")
        out.append(f">= 99 % of updates at the reported cadence: "
                   f"{'yes' if r['delivered_pct'] >= 99 else 'NO'} ({r['delivered_pct']:.1f} %, "
                   f"cadence {r['cadence_ms'][0]:.0f}-{r['cadence_ms'][2]:.0f} ms)")
        ok = gmax is not None and gmax <= 3 * cad_max
        out.append(f"no gap > 3 x cadence ({3 * cad_max:.1f} s): {'yes' if ok else 'NO'} "
                   f"(longest {fmt(gmax, '.2f')} s)")
    elif r["cell"] == "t100":
        p99 = r["tick_dom_ms"][1]
        out.append(f"tick-to-DOM p99 <= 150 ms: {'yes' if p99 is not None and p99 <= 150 else 'NO'}"
                   f" ({fmt(p99)} ms over {r['tick_dom_ms'][2]} updates)")
    if r["server"] == "photon" and r["mb_per_session"] is not None:
        out.append(f"RSS <= 0.3 MB per session: {'yes' if r['mb_per_session'] <= 0.3 else 'NO'} "
                   f"({r['mb_per_session']:.2f} MB)")
    return out


def report(rows: list[dict]) -> None:
    print(f"\nload average {os.getloadavg()[0]:.2f}")
    print("| cell | live | ramp s | cadence ms min/med/max | delivered | gap s p50/p95/max | "
          "upd per promised cycle | tick-to-client ms p50/p99 | tick-to-DOM ms p50/p99 | "
          "GC pauses (p99) | CPU % (workers) | RSS MB (per session) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cad = "/".join(f"{c:.0f}" for c in r["cadence_ms"])
        gap = "/".join(fmt(g, ".2f") for g in r["gap_s"])
        at = f" @{r['rev']}" if r.get("rev", ".") != "." else ""
        print(f"| {r['cell']}{at} ({r['server']}) | {r['ready']}/{r['n']} | {r['ramp_s']:.0f} | "
              f"{cad} | "
              f"{r['delivered_pct']:.1f} % | {gap} | {fmt(r['per_cycle'], '.2f')} | "
              f"{fmt(r['tick_client_ms'][0])}/{fmt(r['tick_client_ms'][1])} | "
              f"{fmt(r['tick_dom_ms'][0])}/{fmt(r['tick_dom_ms'][1])} | "
              f"{r['gc_pauses']} ({r['gc_p99']}) | "
              f"{r['cpu_pct']:.0f} ({r['workers_cpu_pct']:.0f}) | "
              f"{r['rss_mb']:.0f} ({fmt(r['mb_per_session'], '.2f')}) |")
    for r in rows:
        at = f" @{r['rev']}" if r.get("rev", ".") != "." else ""
        if r.get("cycles_missed"):
            print(f"  {r['cell']}{at}: hub cycles missed in the window: {r['cycles_missed']}")
        for line in verdicts(r):
            print(f"  {r['cell']}{at}: {line}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(CELLS), help="cells to run, comma-separated")
    p.add_argument("--window", type=float, default=30.0, help="seconds measured per cell")
    p.add_argument("--settle", type=float, default=5.0,
                   help="seconds between the last session live and the window")
    p.add_argument("--rev", action="append", default=[],
                   help="a git revision of app/ to run Photon's cells on ('.': the work "
                   "tree); repeat to compare in one run (default: the work tree)")
    args = p.parse_args(argv)
    logdir = ROOT / "bench" / "out" / time.strftime("targets-%Y%m%d-%H%M%S")
    rows = []
    for rev in args.rev or ["."]:
        src = None if rev == "." else export_rev(rev)
        for name in [c.strip() for c in args.only.split(",") if c.strip()]:
            print(f"- {name} at {rev}: {CELLS[name][:4]}, load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)
            row = asyncio.run(run_cell(name, args.window, logdir, args.settle, src))
            row["rev"] = rev
            rows.append(row)
    report(rows)
    print(f"logs in {logdir}")


if __name__ == "__main__":
    main()
