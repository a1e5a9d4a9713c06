"""One cell of the benchmark: a fresh server, N sessions, a measured window.

A cell is (server_name, N sessions, push interval); :func:`run_cell` starts the server,
ramps the load workers, measures the window from both sides (the server's CPU, RSS and
/health through it; the workers' view of every session) and stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tarfile
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.cell import Cell
from bench.clients.workers import Workers
from bench.common import (
    ROOT,
    ServerProc,
    is_photon,
    log,
    pct,
    photon_server,
    ref_server,
    sample_cadence,
    socket_queues,
    symbols_for,
    universe,
)
from bench.reports.summary import rss_per_session, sessions_held, slope, summarise
from bench.reports.tables import one_line
from bench.reports.viewer import viewer_figures

SERVERS = ("photon", "photon-bokeh", "tornado", "socketio")
START = {"photon": photon_server, "tornado": partial(ref_server, "tornado"),
           "socketio": partial(ref_server, "socketio")}


def make_server(server_name: str, push_ms: int, opts) -> ServerProc:
    if server_name == "photon":
        return photon_server(push_ms, opts.logdir, src=opts.src)
    if server_name == "photon-bokeh":
        return photon_server(push_ms, opts.logdir, src=opts.src, transport="bokeh")
    return START[server_name](push_ms, opts.logdir)


def export_rev(rev: str) -> Path:
    """``git archive`` of ``rev`` into a temp dir: benchmark a commit, not a moving tree."""
    dest = Path(tempfile.mkdtemp(prefix="photon-bench-src-"))
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "app"], check=True,
                          capture_output=True).stdout
    tar = dest / "src.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")
    tar.unlink()
    return dest


async def run_cell(cell: Cell, opts) -> dict:
    server = make_server(cell.server, cell.push_ms, opts)
    label = cell.label or f"{cell.server} N={cell.n} @{cell.push_ms}ms"
    log(f"- {label}: starting server")
    await asyncio.to_thread(server.start)
    workers = probe = spy = None
    res: dict = {"cell": cell.__dict__.copy(), "label": label}
    try:
        if is_photon(cell.server):  # first page load imports and compiles; not per session
            await asyncio.to_thread(server.health)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(subprocess.run, ["curl", "-s", "-o", "/dev/null",
                                                         server.base + "/app"], timeout=30)
        await asyncio.sleep(2.5)
        rss0 = server.rss_mb()
        workers = Workers(cell, server.base, opts.workers_for(cell.n), opts.batch,
                          opts.ramp_timeout)
        ramped = await workers.start()
        ready = sum(r["ready"] for r in ramped)
        ramp_s = max(r["ramp_s"] for r in ramped)
        errors = sorted({e for r in ramped for e in r["errors"]})
        log(f"  ramped {ready}/{cell.n} sessions in {ramp_s:.1f}s"
            + (f", {ramped[0]['slow_ok']} slow clients" if cell.slow else "")
            + (f"; errors: {errors[:3]}" if errors else ""))
        if cell.browser:
            from bench.clients.browser import BrowserProbe

            syms = symbols_for(0, cell.k, universe())
            probe = BrowserProbe(f"{server.base}/app?symbols={','.join(syms)}")
            try:
                await probe.start()
            except Exception as e:  # noqa: BLE001 - report it, keep the load numbers
                log(f"  browser probe failed: {type(e).__name__}: {e}")
                res["browser_error"] = str(e)
                with contextlib.suppress(Exception):
                    await probe.stop()
                probe = None
        await asyncio.sleep(2.0)
        duration = cell.duration or opts.duration
        w0 = time.time() + 1.0
        w1 = w0 + duration
        end = w1 + opts.drain
        results_task = asyncio.create_task(workers.measure(w0, w1, end))
        await asyncio.sleep(max(0.0, w0 - time.time()))
        ta = time.time()
        h0 = await asyncio.to_thread(server.health, 10) or {}
        th0 = (ta + time.time()) / 2  # /health is answered by the (loaded) server loop
        t0, cpu0, wcpu0 = time.time(), server.cpu_seconds(), workers.cpu_seconds()
        if cell.profile and shutil.which("py-spy"):
            spy = await start_profile(server, cell, opts)
        readings = [h0.get("push_interval_ms")]  # the cadence promised, through the window
        sampler = asyncio.create_task(sample_cadence(server.base, w1, readings))
        rss_series = []
        while time.time() < w1:
            rss_series.append((round(time.time() - w0, 1), round(server.rss_mb(), 1)))
            await asyncio.sleep(min(1.0, max(0.0, w1 - time.time())))
        t1, cpu1, wcpu1 = time.time(), server.cpu_seconds(), workers.cpu_seconds()
        rss1 = server.rss_mb()
        rss_series.append((round(t1 - w0, 1), round(rss1, 1)))
        ta = time.time()
        h1 = await asyncio.to_thread(server.health, 10) or {}
        th1 = (ta + time.time()) / 2
        await sampler
        readings.append(h1.get("push_interval_ms"))
        # The span between the two readings: from the hub's own publication times when
        # /health has them (exact, however late a busy loop answered), else the
        # midpoints of the two requests.
        at0, at1 = (h0.get("cycle_at") or 0.0), (h1.get("cycle_at") or 0.0)
        hub_span = at1 - at0 if at0 > 0 and at1 > at0 else th1 - th0
        if cell.slow:
            queues = await asyncio.to_thread(socket_queues, server.port)
            slow_ports = {p for r in ramped for p in r.get("slow_ports", [])}
            slow_q = [q[1] for p, q in queues.items() if p in slow_ports]
            other_q = [q[1] for p, q in queues.items() if p not in slow_ports]
            res["slow_sendq"] = {"slow_sockets": len(slow_q), "slow_total_kb": sum(slow_q) / 1024,
                                 "slow_max_kb": max(slow_q, default=0) / 1024,
                                 "other_total_kb": sum(other_q) / 1024}
        if spy is not None:
            res["profile"] = await stop_profile(spy)
        if probe is not None:
            await asyncio.sleep(max(0.0, end - time.time()))
            got = await probe.collect(w0, w1)
            res["browser"] = {"dom_p50": pct(got["dom"], 0.5), "dom_p99": pct(got["dom"], 0.99),
                              "frame_p50": pct(got["frame"], 0.5),
                              "frame_p99": pct(got["frame"], 0.99), "n": len(got["dom"]),
                              "pub_p50": pct(got["pub"], 0.5), "pub_p99": pct(got["pub"], 0.99),
                              "pub_n": len(got["pub"]),
                              "console_connected": probe.console_connected,
                              "state": got["state"]}
        results = await results_task
        res.update(summarise(cell, duration, results, ready, ramp_s, errors))
        # What the viewers saw against the cadence the server promised (/health at both
        # ends of the window and about every second between; a server without it
        # promised the cell's interval).
        res.update(viewer_figures([s for r in results for s in r["sessions"]], duration,
                                  readings, cell.push_ms))
        res.update({
            "server_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
            "client_cpu_pct": 100 * (wcpu1 - wcpu0) / (t1 - t0),
            "rss0_mb": rss0, "rss_mb": rss1, "rss_series": rss_series,
            "hub_cycles": (h1.get("cycle", 0) - h0.get("cycle", 0)) if h1 and h0 else None,
            "hub_cycles_per_s": ((h1.get("cycle", 0) - h0.get("cycle", 0)) / hub_span
                                 if h1 and h0 and hub_span > 0 else None),
            "hub_cycles_s": hub_span,
            # Cycles the hub's thread skipped because it woke a whole interval late
            # (Photon's /health has it; the other cycles missing from hub cyc/s had
            # nothing changed to publish).
            "hub_cycles_missed": ((h1.get("cycles_missed", 0) - h0.get("cycles_missed", 0))
                                  if h1 and h0 and "cycles_missed" in h1 else None),
            "health_sessions": h1.get("sessions"),
        })
        if res["hub_cycles"]:
            res["msgs_per_cycle"] = res["msgs_per_session"] / res["hub_cycles"]
            res["delta_msgs_per_cycle"] = res["delta_msgs_per_session"] / res["hub_cycles"]
            res["frames_per_cycle"] = res["frames_per_session"] / res["hub_cycles"]
            res["other_msgs_per_cycle"] = res["other_msgs_per_session_total"] / res["hub_cycles"]
        res["sessions_held"] = sessions_held(res)
        res["rss_per_session_mb"] = rss_per_session(res)
        if cell.slow:
            res["slow_rss_slope_mb_per_min"] = slope(rss_series) * 60
    finally:
        if spy is not None and spy.returncode is None:
            spy.kill()
        if probe is not None:
            with contextlib.suppress(Exception):
                await probe.stop()
        if workers is not None:
            await workers.stop()
        await asyncio.to_thread(server.stop)
    log("  " + one_line(res))
    return res


async def start_profile(server: ServerProc, cell: Cell, opts):
    path = opts.logdir / f"profile-{cell.server}-{cell.n}-{cell.push_ms}.txt"
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(server.ps.pid), "--format", "raw", "--threads",
        "--rate", "50", "--duration", str(int(cell.duration or opts.duration)),
        "--output", str(path), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    spy.path = path  # type: ignore[attr-defined]
    return spy


async def stop_profile(spy) -> dict:
    try:
        await asyncio.wait_for(spy.wait(), 30)
    except TimeoutError:
        spy.kill()
    from bench.reports.profile import summarise_collapsed

    return summarise_collapsed(spy.path)


def build_cells(opts) -> list[Cell]:
    cells = []
    for push in opts.intervals:
        for n in opts.sessions:
            for t in opts.servers:
                cells.append(Cell(t, n, push, k=opts.k, profile=(is_photon(t) and opts.profile)))
    for t in [t for t in opts.servers if is_photon(t)]:
        for n, push in opts.extra_photon:
            if n not in opts.sessions and push in opts.intervals:
                cells.append(Cell(t, n, push, k=opts.k, profile=opts.profile))
    if "photon" in opts.servers:
        # The latency sweep, each with the browser probe: cells of their own, so that
        # Chromium's CPU on this small machine does not skew the others.
        for push in opts.latency_intervals:
            cells.append(Cell("photon", opts.latency_sessions, push, k=opts.k,
                              browser=not opts.no_browser, latency=True,
                              duration=opts.latency_duration))
    if opts.slow and "photon" in opts.servers:
        cells.append(Cell("photon", opts.slow_sessions, opts.slow_push_ms, k=opts.k,
                          slow=opts.slow, duration=opts.slow_duration))
    return cells
