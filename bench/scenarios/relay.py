"""Scale-out benchmark: one Photon process alone against two behind the relay.

    python -m bench.scenarios.relay                 # N in 250, 500, 1000 per setup, 20 s windows
    python -m bench.scenarios.relay --n 300 600 --window 15

Each setup serves N sessions (raw-protocol clients from bench/clients/load.py, 10 symbols
each, the cadence pinned at --push-ms) and is measured from the viewers' side:
sessions live, updates delivered against what the hubs published, and each
session's longest gap between two updates (p50/p95 over sessions). "two" runs
redis-server, `photon relay` and two server processes; the sessions are split
between the two ports, as a load balancer would. It also times what the relay adds:
from publication in the relay to receipt by a Redis subscriber on loopback. Prints
figures and the ratio two/one of the largest N that held (every session live,
>= 99 % delivered, gap p95 <= 1.5 x the interval); not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psutil

from bench.cells import Cell
from bench.clients.workers import Workers
from bench.common import NO_SESSION_LIMITS, ROOT, ServerProc, free_port, gap_stats, pct
from bench.reports.viewer import GAP_P95_FACTOR

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def photon(port: int, push_ms: int, logdir: Path, redis_url: str | None) -> ServerProc:
    env = {"PHOTON_PUSH_INTERVAL_MS": str(push_ms), "PHOTON_MAX_PUSH_INTERVAL_MS": str(push_ms),
           "PHOTON_MOCK_SEED": "11", "PHOTON_FEED": "mock", "PYTHONUNBUFFERED": "1",
           **NO_SESSION_LIMITS}
    if redis_url:
        env["PHOTON_REDIS_URL"] = redis_url
    cmd = [sys.executable, "-m", "app", "--port", str(port),
           "--check-unused-sessions", "250", "--unused-session-lifetime", "1000"]
    return ServerProc(f"photon-{port}", cmd, env, port, logdir / f"photon-{port}.log")


class Setup:
    """The processes of one setup: "one" (a plain process) or "two" (relay + 2 servers)."""

    def __init__(self, kind: str, push_ms: int, logdir: Path):
        self.kind, self.push_ms, self.logdir = kind, push_ms, logdir
        self.servers: list[ServerProc] = []
        self.helpers: list[subprocess.Popen] = []
        self.redis_url: str | None = None

    def start(self) -> Setup:
        if self.kind == "two":
            port = free_port()
            self.helpers.append(subprocess.Popen(
                [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=subprocess.DEVNULL))
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)
            relay_log = (self.logdir / "relay.log").open("w")
            self.helpers.append(subprocess.Popen(
                [sys.executable, "-m", "app", "relay", "--redis-url", self.redis_url],
                cwd=ROOT, stdout=relay_log, stderr=subprocess.STDOUT,
                env={**_env(), "PHOTON_MOCK_SEED": "11"}))
        for _ in range(2 if self.kind == "two" else 1):
            self.servers.append(photon(free_port(), self.push_ms, self.logdir,
                                       self.redis_url).start())
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        for p in reversed(self.helpers):
            p.terminate()
            p.wait(10)

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(p.pid) for p in self.helpers] + [s.ps for s in self.servers]

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes())

    def rss_mb(self) -> float:
        return sum(p.memory_info().rss for p in self.processes()) / 2**20


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


async def run_cell(setup: Setup, n: int, window: float) -> dict:
    """N sessions split over the setup's servers; measured over ``window`` seconds."""
    groups = []
    share = [n // len(setup.servers) + (i < n % len(setup.servers))
             for i in range(len(setup.servers))]
    for server, count in zip(setup.servers, share, strict=True):
        cell = Cell("photon", count, setup.push_ms, k=10)
        groups.append(Workers(cell, server.base, nproc=2, batch=20, ramp_timeout=240))
    ramps = await asyncio.gather(*(g.start() for g in groups))
    ready = sum(r["ready"] for rs in ramps for r in rs)
    cpu0, t0 = setup.cpu_seconds(), time.time()
    w0, w1 = t0 + 1.0, t0 + 1.0 + window
    results = await asyncio.gather(*(g.measure(w0, w1, w1 + 2.0) for g in groups))
    cpu = (setup.cpu_seconds() - cpu0) / (time.time() - t0) * 100
    for g in groups:  # reap the workers while this loop still runs
        for proc in g.procs:
            await proc.wait()
    delivered = intended = 0
    gaps: list[float] = []
    for per_server in results:
        for r in per_server:
            publog = {sym: len(ts) for sym, ts in r["publog"].items()}
            for s in r["sessions"]:
                delivered += s["delivered"]
                gaps.append(s["max_gap"])
            intended += sum(publog.get(sym, 0) for s in r["sessions"]
                            for sym in _symbols(s["i"]))
    return {"setup": setup.kind, "n": n, "ready": ready, "push_ms": setup.push_ms,
            "delivered_pct": 100.0 * delivered / intended if intended else 0.0,
            **gap_stats(gaps), "cpu_pct": cpu,
            "rss_mb": setup.rss_mb()}


def _symbols(i: int) -> list[str]:
    from bench.common import symbols_for, universe

    return symbols_for(i, 10, universe())


def held(r: dict) -> bool:
    gap_ok = r["gap_p95"] is not None and r["gap_p95"] <= GAP_P95_FACTOR * r["push_ms"] / 1000
    return r["ready"] == r["n"] and r["delivered_pct"] >= 99.0 and gap_ok


def relay_latency(redis_url: str, seconds: float = 10.0) -> list[float]:
    """Publication in the relay (its ``at``) to receipt here, for every message."""
    import redis

    client = redis.Redis.from_url(redis_url)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.psubscribe("photon:t:*")
    delays: list[float] = []
    end = time.time() + seconds
    while time.time() < end:
        msg = sub.get_message(timeout=0.5)
        if msg and msg["type"] == "pmessage":
            delays.append(time.time() - json.loads(msg["data"])["at"])
    sub.close()
    return delays


def redis_figures(redis_url: str, pid: int, seconds: float = 5.0) -> dict:
    import redis

    proc = psutil.Process(pid)
    c0 = sum(proc.cpu_times()[:2])
    time.sleep(seconds)
    cpu = (sum(proc.cpu_times()[:2]) - c0) / seconds * 100
    info = redis.Redis.from_url(redis_url).info("memory")
    return {"redis_cpu_pct": cpu, "redis_used_mb": info["used_memory"] / 2**20}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[250, 500, 1000])
    p.add_argument("--push-ms", type=int, default=1000)
    p.add_argument("--window", type=float, default=20.0)
    opts = p.parse_args(argv)
    logdir = Path(tempfile.mkdtemp(prefix="photon-relay-bench-"))
    results = []
    extra: dict = {}
    for kind in ("one", "two"):
        with ExitStack() as stack:
            setup = Setup(kind, opts.push_ms, logdir).start()
            stack.callback(setup.stop)
            for n in opts.n:
                r = asyncio.run(run_cell(setup, n, opts.window))
                results.append(r)
                print(line(r), flush=True)
                time.sleep(3)  # let closed sessions be reaped before the next N
            if kind == "two":
                extra.update(asyncio.run(run_cell_background(setup, opts)))
    report(results, extra, opts)


async def run_cell_background(setup: Setup, opts) -> dict:
    """Relay latency and Redis cost while 200 sessions watch (sessions keep symbols
    subscribed, so the relay publishes)."""
    groups = []
    for server in setup.servers:
        groups.append(Workers(Cell("photon", 100, setup.push_ms, k=10), server.base,
                              nproc=1, batch=20, ramp_timeout=120))
    await asyncio.gather(*(g.start() for g in groups))
    loop = asyncio.get_running_loop()
    delays = await loop.run_in_executor(None, relay_latency, setup.redis_url, 10.0)
    figures = await loop.run_in_executor(None, redis_figures, setup.redis_url,
                                         setup.helpers[0].pid, 5.0)
    now = time.time()
    await asyncio.gather(*(g.measure(now - 1, now - 0.5, now) for g in groups))
    for g in groups:
        for proc in g.procs:
            await proc.wait()
    return {"relay_p50_ms": 1000 * pct(delays, 0.5), "relay_p99_ms": 1000 * pct(delays, 0.99),
            "relay_messages": len(delays), **figures}


def line(r: dict) -> str:
    gap = "-" if r["gap_p50"] is None else f"{r['gap_p50']:.2f}/{r['gap_p95']:.2f}"
    return (f"{r['setup']:>4} N={r['n']:<5} live {r['ready']}/{r['n']}  delivered "
            f"{r['delivered_pct']:.1f} %  gap p50/p95 {gap} s  CPU {r['cpu_pct']:.0f} %  "
            f"RSS {r['rss_mb']:.0f} MB  {'held' if held(r) else 'NOT held'}")


def report(results: list[dict], extra: dict, opts) -> None:
    print("\n| setup | N | live | delivered | gap p50/p95 s | CPU % (all processes) | RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        gap = "-" if r["gap_p50"] is None else f"{r['gap_p50']:.2f} / {r['gap_p95']:.2f}"
        print(f"| {r['setup']} | {r['n']} | {r['ready']} | {r['delivered_pct']:.1f} % | {gap} | "
              f"{r['cpu_pct']:.0f} | {r['rss_mb']:.0f} |")
    best = {k: max([r["n"] for r in results if r["setup"] == k and held(r)], default=0)
            for k in ("one", "two")}
    ratio = best["two"] / best["one"] if best["one"] else float("nan")
    print(f"\nlargest N held at {opts.push_ms} ms: one process {best['one']}, "
          f"two behind the relay {best['two']} (ratio {ratio:.2f})")
    if extra:
        print(f"relay latency (relay publication -> Redis subscriber), "
              f"{extra['relay_messages']} messages: p50 {extra['relay_p50_ms']:.1f} ms, "
              f"p99 {extra['relay_p99_ms']:.1f} ms; redis-server CPU "
              f"{extra['redis_cpu_pct']:.1f} %, memory {extra['redis_used_mb']:.1f} MB")


if __name__ == "__main__":
    main()
