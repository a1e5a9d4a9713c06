"""``python -m bench.abuse``: the attacks of issue 25, each with one normal viewer watching.

Each attack runs on a fresh Photon (mock feed, default cadence, 30 days of one-minute
AAPL bars stored, ``PHOTON_TRUSTED_PROXIES=127.0.0.1`` so the bench can play several
clients through ``X-Forwarded-For``, as nginx would pass them on). A normal viewer (its
own process and address: a page, Bokeh's socket and the fast lane, 10 symbols, the load
clients of :mod:`bench.photon_client`) watches through the attack and reports its
longest wait between two updates and how long ``/health`` took (polled 4 times a
second). Attacks, from their own process:

* ``sessions``: one client opens full sessions (page, Bokeh socket, fast lane), 20 in
  flight, for the window, and keeps what it gets;
* ``full``: the same from 100 addresses against a process that holds ``FULL_AT``
  sessions (``PHOTON_MAX_SESSIONS``): past it, 503s, while the viewer stays in;
* ``history``: ``/history`` flood from one client, 10 in flight, cycling through the last
  session, 30 days of 1m bars (more than the bound) and 30 days of 5m bars;
* ``history-crowd``: the same from 100 addresses (the rate per client hardly bites:
  what is left is the pool that keeps the work off the event loop);
* ``silent``: 200 sessions (each its own address) that stop reading their sockets;
* ``halfopen``: 500 HTTP connections that send a request line and then one header line
  every 10 s, never the end of the head;
* ``none`` (only when asked for): the viewer alone, the baseline on a shared machine;
* ``burst`` (only when asked for): one client's 20 tabs at once, then held: what
  building sessions costs the viewer, without refusals.

Figures, not pass/fail: what the attacker got, the viewer's longest gap, /health's
latency, RSS before, at its peak and a minute after the attacker left, and what the
server counted in ``/metrics``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, ServerProc, free_port, pct, symbols_for, universe
from bench.load_stats import Session, W

VIEWER_IP = "198.51.100.1"
ATTACKER_IP = "203.0.113.7"
ATTACKS = ("sessions", "full", "history", "history-crowd", "silent", "halfopen")
#: ``full``: the process's limit, low enough for the bench to reach it.
FULL_AT = 40
#: "none": the viewer alone on the same machine, the figures' baseline; "burst": one
#: client's 20 tabs at once and no more (within the limits). Not run by default.
CHOICES = ("none", "burst", *ATTACKS)


# -- the server ---------------------------------------------------------------------------
def store_days(path: Path, symbol: str = "AAPL", days: int = 30) -> int:
    """``days`` of one-minute bars of ``symbol`` up to now, every minute, in the store."""
    from app.history.bars import Bar
    from app.history.store import BarStore

    now = int(time.time()) // 60 * 60
    rng = random.Random(7)
    price, bars = 200.0, []
    for t in range(now - days * 86400, now - 60, 60):
        price = max(1.0, price + rng.gauss(0, 0.05))
        bars.append(Bar(t, price, price + 0.1, price - 0.1, price, 100))
    store = BarStore(path)
    store.backfill(symbol, bars)
    store.close()
    return len(bars)


def server(logdir: Path, history: Path, **env_extra: str) -> ServerProc:
    port = free_port()
    cmd = [sys.executable, "-m", "app", "--port", str(port)]
    env = {"PHOTON_FEED": "mock", "PHOTON_MOCK_SEED": "11", "PYTHONUNBUFFERED": "1",
           "PHOTON_HISTORY": str(history), "PHOTON_TRUSTED_PROXIES": "127.0.0.1", **env_extra}
    return ServerProc("photon", cmd, env, port, logdir / f"photon-{port}.log")


def gc_pauses(log: Path) -> list[int]:
    """The server's garbage-collector pauses (ms) from its ``gc_pause`` log lines."""
    import re

    text = log.read_text(errors="replace") if log.exists() else ""
    return [int(m) for m in re.findall(r"gc_pause generation=\d+ ms=(\d+)", text)]


def metrics(base: str) -> dict[str, float]:
    """Photon's limit counters from /metrics, by ``name{labels}``."""
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return {line.split(" ")[0]: float(line.split(" ")[-1]) for line in text.splitlines()
            if line.startswith(("photon_connections_closed_total",
                                "photon_requests_refused_total"))}


# -- the normal viewer (its own process) ------------------------------------------------
async def viewer(base: str) -> None:
    """Hold one viewer; print ``{"ready"}``; read the window from stdin; print figures."""
    import aiohttp  # bench-only (bench/requirements.txt)

    from bench.photon_client import photon_session

    sess = Session(0, symbols_for(0, 10, universe()))
    async with aiohttp.ClientSession(headers={"X-Forwarded-For": VIEWER_IP}) as http:
        task = asyncio.create_task(photon_session(sess, http, base))
        await asyncio.wait_for(sess.ready.wait(), 120)
        print(json.dumps({"ready": True}), flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        w0, w1 = json.loads(line)["window"]
        W.w0, W.w1, W.end = w0, w1, w1
        health: list[float] = []
        await asyncio.sleep(max(0.0, w0 - time.time()))
        while time.time() < w1:
            t0 = time.perf_counter()
            try:
                async with http.get(base + "/health",
                                    timeout=aiohttp.ClientTimeout(total=10)) as r:
                    await r.read()
                health.append((time.perf_counter() - t0) * 1000)
            except (TimeoutError, aiohttp.ClientError):
                health.append(10_000.0)
            await asyncio.sleep(0.25)
        gap = sess.gaps.close(w0, w1)
        print(json.dumps({"gap_s": gap, "updates": len(sess.updates), "err": sess.err,
                          "health_ms": health}), flush=True)
        task.cancel()


# -- attacks (the bench's process) -------------------------------------------------------
async def flood_sessions(base: str, until: float, addresses: int = 1,
                         each: int | None = None) -> dict:
    import aiohttp  # bench-only (bench/requirements.txt)

    from bench.photon_client import photon_session

    got: dict[str, int] = {}
    held: list[tuple[Session, asyncio.Task]] = []
    clients = [ATTACKER_IP] if addresses == 1 else [f"203.0.113.{i}" for i in range(addresses)]
    https = [aiohttp.ClientSession(headers={"X-Forwarded-For": ip}) for ip in clients]
    try:
        async def worker(w: int) -> None:
            n = 0
            while time.time() < until and (each is None or n < each):
                n += 1
                http = https[(w * 13 + n) % len(https)]
                sess = Session(w * 100_000 + n, symbols_for(n, 10, universe()))
                task = asyncio.create_task(photon_session(sess, http, base))
                ready = asyncio.create_task(sess.ready.wait())
                await asyncio.wait({task, ready}, timeout=30,
                                   return_when=asyncio.FIRST_COMPLETED)
                ready.cancel()
                if sess.ready.is_set():
                    got["live"] = got.get("live", 0) + 1
                    held.append((sess, task))
                    continue
                text = repr(task.exception()) if task.done() else "no update in 30 s"
                key = next((c for c in ("429", "503") if f"HTTP {c}" in text), "other")
                got[key] = got.get(key, 0) + 1
                if not task.done():
                    task.cancel()

        await asyncio.gather(*(worker(w) for w in range(20)))
        await asyncio.sleep(max(0.0, until - time.time()))
        for _, task in held:
            task.cancel()
        await asyncio.sleep(0.5)
    finally:
        for http in https:
            await http.close()
    return {"attempts": sum(got.values()), **got}


async def flood_history(base: str, until: float, addresses: int) -> dict:
    import aiohttp  # bench-only (bench/requirements.txt)

    queries = ["symbol=AAPL", "symbol=AAPL&start=0", "symbol=AAPL&start=0&interval=5m"]
    got: dict[str, int] = {}
    body_bytes = [0]
    async with aiohttp.ClientSession() as http:
        async def worker(w: int) -> None:
            n = 0
            while time.time() < until:
                n += 1
                ip = ATTACKER_IP if addresses == 1 else f"203.0.113.{(w * 7 + n) % addresses}"
                url = f"{base}/history?{queries[n % len(queries)]}"
                try:
                    async with http.get(url, headers={"X-Forwarded-For": ip},
                                        timeout=aiohttp.ClientTimeout(total=60)) as r:
                        body_bytes[0] += len(await r.read())
                        got[str(r.status)] = got.get(str(r.status), 0) + 1
                except (TimeoutError, aiohttp.ClientError):
                    got["error"] = got.get("error", 0) + 1

        await asyncio.gather(*(worker(w) for w in range(10)))
    return {"requests": sum(got.values()), **got, "MB": round(body_bytes[0] / 2**20, 1)}


async def silent_sessions(base: str, until: float, count: int = 200) -> dict:
    import aiohttp  # bench-only (bench/requirements.txt)

    from bench.slow_client import slow_session

    sessions = [Session(i, symbols_for(i, 10, universe())) for i in range(count)]
    tasks: list[asyncio.Task] = []
    async with aiohttp.ClientSession() as http:
        gate = asyncio.Semaphore(10)

        async def one(sess: Session) -> None:
            async with gate:
                headers = {"X-Forwarded-For": f"203.0.{113 + sess.i // 250}.{sess.i % 250}"}
                task = asyncio.create_task(slow_session(sess, http, base, 4096, headers))
                tasks.append(task)
                await asyncio.wait({task, asyncio.create_task(sess.ready.wait())},
                                   timeout=60, return_when=asyncio.FIRST_COMPLETED)

        await asyncio.gather(*(one(s) for s in sessions))
        opened = sum(s.ok for s in sessions)
        await asyncio.sleep(max(0.0, until - time.time()))
        for task in tasks:
            task.cancel()
        for s in sessions:
            for w in s.ws if isinstance(s.ws, list) else ():
                w.close()
    return {"opened": opened}


async def half_open(base: str, until: float, count: int = 500) -> dict:
    host, port = base.removeprefix("http://").split(":")
    closed_after: list[float] = []

    async def one(i: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            return
        t0 = time.monotonic()
        writer.write(f"GET /app HTTP/1.1\r\nHost: {host}\r\n".encode())
        while time.time() < until:
            try:
                data = await asyncio.wait_for(reader.read(1024), timeout=10)
            except TimeoutError:
                writer.write(f"X-Slow-{i}: 1\r\n".encode())  # one more header line, 10 s on
                continue
            except OSError:
                data = b""
            if not data:
                closed_after.append(time.monotonic() - t0)
                break
        writer.close()

    await asyncio.gather(*(one(i) for i in range(count)))
    return {"connections": count, "closed_by_server": len(closed_after),
            "last_closed_after_s": round(max(closed_after), 1) if closed_after else None}


# -- one run --------------------------------------------------------------------------------
def run_attack(name: str, seconds: float, after_s: float, tmp: Path) -> dict:
    history = tmp / f"{name}.sqlite3"
    bars = store_days(history)
    extra = {"PHOTON_MAX_SESSIONS": str(FULL_AT)} if name == "full" else {}
    srv = server(tmp, history, **extra).start()
    view = subprocess.Popen([sys.executable, "-m", "bench.abuse", "--viewer", srv.base],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(view.stdout.readline()).get("ready"), "the viewer did not start"
        time.sleep(3)
        rss_before = srv.rss_mb()
        counters = metrics(srv.base)
        pauses_before = len(gc_pauses(srv.log_path))
        w0 = time.time() + 0.5
        w1 = w0 + seconds
        view.stdin.write(json.dumps({"window": [w0, w1]}) + "\n")
        view.stdin.flush()
        peak = [rss_before]
        cpu0 = srv.cpu_seconds()

        async def attack() -> dict:
            async def sample():
                while time.time() < w1 + 1:
                    peak[0] = max(peak[0], srv.rss_mb())
                    await asyncio.sleep(1)

            sampler = asyncio.create_task(sample())
            await asyncio.sleep(max(0.0, w0 - time.time()))
            if name == "sessions":
                got = await flood_sessions(srv.base, w1)
            elif name == "burst":
                got = await flood_sessions(srv.base, w1, each=1)
            elif name == "full":
                got = await flood_sessions(srv.base, w1, 100)
            elif name == "history":
                got = await flood_history(srv.base, w1, 1)
            elif name == "history-crowd":
                got = await flood_history(srv.base, w1, 100)
            elif name == "silent":
                got = await silent_sessions(srv.base, w1)
            elif name == "halfopen":
                got = await half_open(srv.base, w1)
            else:
                await asyncio.sleep(max(0.0, w1 - time.time()))
                got = {}
            await sampler
            return got

        got = asyncio.run(attack())
        cpu = srv.cpu_seconds() - cpu0
        pauses = gc_pauses(srv.log_path)[pauses_before:]
        seen = json.loads(view.stdout.readline())
        time.sleep(after_s)
        rss_after = srv.rss_mb()
        counted = {k.replace("photon_", "").replace("_total", ""): v - counters.get(k, 0.0)
                   for k, v in metrics(srv.base).items() if v - counters.get(k, 0.0) > 0}
        health = seen["health_ms"]
        return {"attack": name, "bars_stored": bars, "seconds": seconds, "attacker": got,
                "viewer_gap_s": round(seen["gap_s"], 2), "viewer_updates": seen["updates"],
                "viewer_error": seen["err"],
                "health_ms_p50": round(pct(health, 0.5) or 0, 1),
                "health_ms_p95": round(pct(health, 0.95) or 0, 1),
                "health_ms_max": round(max(health), 1) if health else None,
                "server_cpu_pct": round(100 * cpu / (seconds + 1), 0),
                "gc_pauses_ms": sorted(pauses, reverse=True)[:5],
                "rss_mb_before": round(rss_before, 1), "rss_mb_peak": round(peak[0], 1),
                "rss_mb_after": round(rss_after, 1), "counted": counted,
                "load_average_1m": round(os.getloadavg()[0], 1)}
    finally:
        with contextlib.suppress(Exception):
            view.kill()
            view.wait(5)
        srv.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__.split("\n")[0])
    p.add_argument("--attack", action="append", choices=CHOICES,
                   help="run this attack (repeatable; default: all)")
    p.add_argument("--seconds", type=float, default=30.0, help="each attack's window")
    p.add_argument("--after", type=float, default=60.0,
                   help="seconds after the attack before RSS is read again")
    p.add_argument("--viewer", metavar="BASE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.viewer:
        asyncio.run(viewer(args.viewer))
        return
    with tempfile.TemporaryDirectory(prefix="photon-abuse-") as tmp:
        for name in args.attack or ATTACKS:
            # silent sockets are closed by the ping timeout: a window long enough to see it
            seconds = max(args.seconds, 100.0) if name == "silent" else args.seconds
            print(json.dumps(run_attack(name, seconds, args.after, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
