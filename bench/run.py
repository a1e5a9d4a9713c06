"""Photon capacity benchmark: ``python -m bench.run --quick`` (minutes) or ``--full``.

See bench/README.md for what is measured and how each number is defined.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench.cells import SERVERS, build_cells, export_rev, make_server, run_cell
from bench.common import log, supports_transport
from bench.reports.latency import latency_summary
from bench.reports.report import report
from bench.reports.verdicts import plain, saturated

OUT = Path(__file__).resolve().parent / "out"


async def run_soak(opts) -> dict:
    from bench.drills.soak import soak

    server = make_server("photon", opts.soak_push_ms, opts)
    log(f"\nSoak: {opts.soak_cycles} open/close cycles, {opts.soak_concurrency} at a time, "
        f"push {opts.soak_push_ms} ms, at most {opts.soak_max_s:.0f} s")
    await asyncio.to_thread(server.start)
    try:
        res = await soak(server, opts.soak_cycles, opts.soak_concurrency, opts.soak_max_s,
                         k=opts.k, log=log)
    finally:
        await asyncio.to_thread(server.stop)
    log(f"  {res['cycles']} cycles in {res['elapsed_s']} s ({res['kinds']}); idle RSS "
        "checkpoints " + ", ".join(f"{c['cycles']} cycles: {c['rss_mb']:.1f} MB"
                                   for c in res["checkpoints"])
        + f"; live sessions at end {res['final_sessions']}; hub subscriptions at end "
        f"{res['final_subscriptions']}")
    return res


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="N in 10,100; short windows "
                      "(default)")
    mode.add_argument("--full", action="store_true", help="N in 10,100,300,1000 (+500@1000, "
                      "150@250 for Photon); 30 s windows; 10,000-cycle soak")
    p.add_argument("--servers", help="comma-separated from " + ",".join(SERVERS) + " (default: "
                   "all in --full, all but photon-bokeh in --quick; photon-bokeh only where "
                   "the app has PHOTON_TRANSPORT)")
    p.add_argument("--sessions", help="comma-separated N list (overrides the mode)")
    p.add_argument("--intervals", help="push intervals in ms (default 1000,250)")
    p.add_argument("--k", type=int, default=10, help="symbols per session")
    p.add_argument("--duration", type=float, help="measurement window, seconds")
    p.add_argument("--drain", type=float, default=2.0, help="seconds after the window in "
                   "which updates with tick time inside it still count")
    p.add_argument("--batch", type=int, default=20, help="sessions connecting at once")
    p.add_argument("--sessions-per-worker", type=int, default=1000,
                   help="load worker processes = ceil(N / this)")
    p.add_argument("--ramp-timeout", type=float, default=600.0)
    p.add_argument("--soak-cycles", type=int)
    p.add_argument("--soak-concurrency", type=int, default=10)
    p.add_argument("--soak-push-ms", type=int, default=250)
    p.add_argument("--soak-max-s", type=float, help="wall-time bound of the soak")
    p.add_argument("--slow", type=int, default=50, help="slow clients (0: skip that test)")
    p.add_argument("--slow-sessions", type=int, default=100,
                   help="normal sessions beside the slow clients")
    p.add_argument("--slow-push-ms", type=int, default=1000,
                   help="push interval of the slow-client run (one Photon passes at N=100)")
    p.add_argument("--no-soak", action="store_true")
    p.add_argument("--no-skip", action="store_true", help="also run N above one that "
                   "already failed with the server >= 70 %% CPU or < 90 %% delivered (skipped "
                   "by default: minutes of ramp into an overloaded server tell nothing new)")
    p.add_argument("--report", type=Path, metavar="RESULTS_JSON",
                   help="only print the tables and verdicts of an earlier run's results.json")
    p.add_argument("--no-browser", action="store_true",
                   help="run the latency sweep without the Chromium probe")
    p.add_argument("--latency-intervals", default="250,100,50",
                   help="push intervals (ms) of the latency sweep: Photon (default transport) "
                   "at --latency-sessions sessions, each with the browser probe "
                   "(default 250,100,50; '' skips the sweep and the probe)")
    p.add_argument("--no-latency", action="store_true", help="skip the latency sweep")
    p.add_argument("--latency-sessions", type=int, default=100)
    p.add_argument("--latency-duration", type=float,
                   help="window of the latency cells, s (default 6 quick, --duration full)")
    p.add_argument("--profile", action="store_true",
                   help="py-spy record the Photon server during each Photon window")
    p.add_argument("--rev", help="benchmark this git revision of app/ (git archive), e.g. "
                   "HEAD, instead of the work tree")
    p.add_argument("--out", type=Path, default=OUT, help="logs, profiles, results JSON")
    opts = p.parse_args(argv)
    full = opts.full
    sessions_given = opts.sessions is not None
    opts.servers = ([t for t in opts.servers.split(",") if t] if opts.servers
                    else list(SERVERS) if full else ["photon", "tornado", "socketio"])
    unknown = set(opts.servers) - set(SERVERS)
    if unknown:
        p.error(f"unknown servers {sorted(unknown)}; choose from {SERVERS}")
    opts.sessions = ([int(x) for x in opts.sessions.split(",")] if opts.sessions
                     else [10, 100, 300, 1000] if full else [10, 100])
    opts.intervals = ([int(x) for x in opts.intervals.split(",")] if opts.intervals
                      else [1000, 250])
    opts.extra_photon = [(500, 1000), (150, 250)] if full and not sessions_given else []
    opts.duration = opts.duration or (30.0 if full else 8.0)
    opts.soak_cycles = opts.soak_cycles or (10_000 if full else 400)
    opts.soak_max_s = opts.soak_max_s or (2400.0 if full else 150.0)
    opts.slow_duration = 60.0 if full else 20.0
    opts.latency_intervals = ([] if opts.no_latency else
                              [int(x) for x in opts.latency_intervals.split(",") if x.strip()])
    opts.latency_duration = opts.latency_duration or (opts.duration if full else 6.0)
    return opts


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    opts = parse(argv)
    if opts.report:
        data = json.loads(opts.report.read_text())
        saved = parse([a for a in data.get("argv") or [] if a != "--report"])
        opts.servers = [t for t in SERVERS if any(r["cell"]["server"] == t
                                                  for r in data["results"])]
        opts.intervals, opts.duration, opts.k = saved.intervals, saved.duration, saved.k
        report(data["results"], data.get("soak"), opts)
        return
    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    opts.logdir = opts.out / stamp
    opts.logdir.mkdir(parents=True, exist_ok=True)
    opts.src = export_rev(opts.rev) if opts.rev else None
    if "photon-bokeh" in opts.servers and not supports_transport(opts.src):
        opts.servers.remove("photon-bokeh")  # this Photon has only the Bokeh path
    opts.workers_for = lambda n: max(1, -(-n // opts.sessions_per_worker))
    cells = build_cells(opts)
    log(f"Photon bench ({'full' if opts.full else 'quick'}): {len(cells)} cells "
        f"({', '.join(opts.servers)}), {opts.k} symbols/session, {opts.duration:.0f} s "
        f"windows; app from {opts.rev or 'the work tree'}; {os.cpu_count()} CPUs; logs in "
        f"{opts.logdir}")
    results = []
    for cell in cells:
        over = next((r for r in results if not opts.no_skip and plain(r) and "ratio" in r
                     and r["cell"]["server"] == cell.server
                     and r["cell"]["push_ms"] == cell.push_ms and r["cell"]["n"] < cell.n
                     and not cell.slow and not cell.browser and not cell.latency
                     and saturated(r)), None)
        if over is not None:
            log(f"- {cell.server} N={cell.n} @{cell.push_ms}ms: skipped, already overloaded "
                f"at N={over['cell']['n']} ({(over['ratio'] or 0) * 100:.1f} % delivered, "
                f"server CPU {over['server_cpu_pct']:.0f} %)")
            results.append({"cell": cell.__dict__.copy(), "label": str(cell),
                            "skipped": f"overloaded at N={over['cell']['n']}"})
            continue
        try:
            results.append(asyncio.run(run_cell(cell, opts)))
        except Exception as e:  # noqa: BLE001 - one failed cell must not lose the others
            log(f"  cell failed: {type(e).__name__}: {e}")
            results.append({"cell": cell.__dict__.copy(), "label": str(cell), "error": str(e)})
    soak_res = None
    if not opts.no_soak:
        try:
            soak_res = asyncio.run(run_soak(opts))
        except Exception as e:  # noqa: BLE001
            log(f"  soak failed: {type(e).__name__}: {e}")
    report(results, soak_res, opts)
    path = opts.logdir / "results.json"
    path.write_text(json.dumps({"results": results, "soak": soak_res, "argv": argv,
                                "latency": latency_summary(results)},
                               indent=1, default=str))
    log(f"\nDone in {time.time() - started:.0f} s; JSON: {path}")
    if opts.src:
        shutil.rmtree(opts.src, ignore_errors=True)


if __name__ == "__main__":
    main()
