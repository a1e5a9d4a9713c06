"""Photon capacity benchmark: ``python -m bench.run --quick`` (minutes) or ``--full``.

See bench/README.md for what is measured and how each number is defined.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import psutil

from bench.common import (
    ROOT,
    Histogram,
    ServerProc,
    photon_server,
    ref_server,
    socket_queues,
    supports_transport,
    symbols_for,
    universe,
)

OUT = Path(__file__).resolve().parent / "out"
TARGETS = ("photon", "photon-bokeh", "tornado", "socketio")
SERVERS = {"photon": photon_server, "tornado": partial(ref_server, "tornado"),
           "socketio": partial(ref_server, "socketio")}


def make_server(target: str, push_ms: int, opts) -> ServerProc:
    if target == "photon":
        return photon_server(push_ms, opts.logdir, src=opts.src)
    if target == "photon-bokeh":
        return photon_server(push_ms, opts.logdir, src=opts.src, transport="bokeh")
    return SERVERS[target](push_ms, opts.logdir)


def is_photon(target: str) -> bool:
    return target.startswith("photon")


@dataclass
class Cell:
    target: str
    n: int
    push_ms: int
    k: int = 10
    slow: int = 0
    browser: bool = False
    latency: bool = False  # a cell of the latency sweep (Photon, N=100, per push interval)
    profile: bool = False
    label: str = ""
    duration: float | None = None


def log(*a) -> None:
    print(*a, flush=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * len(v) + 0.5)) - 1))]


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


class Workers:
    """Load worker subprocesses (bench/load.py) for one cell."""

    def __init__(self, cell: Cell, base: str, nproc: int, batch: int, ramp_timeout: float):
        self.cell, self.base = cell, base
        self.nproc = max(1, min(nproc, cell.n))
        self.batch, self.ramp_timeout = batch, ramp_timeout
        self.procs: list[asyncio.subprocess.Process] = []
        self.ps: list[psutil.Process] = []

    async def start(self) -> list[dict]:
        per = [self.cell.n // self.nproc + (j < self.cell.n % self.nproc)
               for j in range(self.nproc)]
        first = 0
        for j, count in enumerate(per):
            slow = self.cell.slow if j == 0 else 0
            target = "photon" if is_photon(self.cell.target) else self.cell.target
            cmd = [sys.executable, "-m", "bench.load", "--target", target,
                   "--base", self.base, "--first", str(first), "--count", str(count),
                   "--k", str(self.cell.k), "--batch", str(self.batch), "--slow", str(slow),
                   "--ramp-timeout", str(self.ramp_timeout)]
            first += count
            p = await asyncio.create_subprocess_exec(
                *cmd, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=None, limit=2**27)
            self.procs.append(p)
            self.ps.append(psutil.Process(p.pid))
        return [await self._read(p, self.ramp_timeout + 120) for p in self.procs]

    async def _read(self, p, timeout: float) -> dict:
        line = await asyncio.wait_for(p.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("load worker exited early")
        return json.loads(line)

    async def measure(self, w0: float, w1: float, end: float) -> list[dict]:
        cmd = (json.dumps({"w0": w0, "w1": w1, "end": end}) + "\n").encode()
        for p in self.procs:
            p.stdin.write(cmd)
            await p.stdin.drain()
        return [await self._read(p, end - time.time() + 120) for p in self.procs]

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.ps:
            with contextlib.suppress(psutil.Error):
                total += sum(p.cpu_times()[:2])
        return total

    async def stop(self) -> None:
        for p in self.procs:
            if p.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.stdin.close()
                try:
                    await asyncio.wait_for(p.wait(), 10)
                except TimeoutError:
                    p.kill()
                    await p.wait()


async def run_cell(cell: Cell, opts) -> dict:
    server = make_server(cell.target, cell.push_ms, opts)
    label = cell.label or f"{cell.target} N={cell.n} @{cell.push_ms}ms"
    log(f"- {label}: starting server")
    await asyncio.to_thread(server.start)
    workers = probe = spy = None
    res: dict = {"cell": cell.__dict__.copy(), "label": label}
    try:
        if is_photon(cell.target):  # first page load imports and compiles; not per session
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
            from bench.browser import BrowserProbe

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


def sessions_held(r: dict) -> int:
    """Sessions the server held in the window: the normal ones that connected, the slow
    clients that completed their handshake, and the browser probe's page if it ran."""
    slow = sum(1 for s in r.get("slow") or () if s.get("ok"))
    return r.get("ready", r["cell"]["n"]) + slow + (1 if r.get("browser") else 0)


def rss_per_session(r: dict) -> float | None:
    """(RSS at the end of the window - idle RSS before the ramp) / sessions held.

    Recomputed from the stored RSS values, ``ready``, the slow clients' ``ok`` flags and
    the browser result, so ``--report`` of a results.json written before this fix (which
    divided by N alone, overstating the slow-client cell by half) prints the right figure.
    """
    if r.get("rss0_mb") is None or r.get("rss_mb") is None:
        return r.get("rss_per_session_mb")
    return (r["rss_mb"] - r["rss0_mb"]) / max(1, sessions_held(r))


def slope(series: list[tuple[float, float]]) -> float:
    """Least-squares slope (MB per second) of an RSS series."""
    if len(series) < 2:
        return 0.0
    xs, ys = [s[0] for s in series], [s[1] for s in series]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def summarise(cell: Cell, duration: float, results: list[dict], ready: int, ramp_s: float,
              errors: list[str]) -> dict:
    publog: dict[str, set[float]] = {}
    hist = Histogram()  # tick-to-client
    wait = Histogram()  # at - ts
    deliv = Histogram()  # receipt - at
    estimated = 0
    other: dict[str, int] = {}
    sessions = []
    cycles: list[int] = []
    for r in results:
        for sym, ts in r["publog"].items():
            publog.setdefault(sym, set()).update(ts)
        hist.merge(r["hist"])
        wait.merge(r.get("wait") or {})
        deliv.merge(r.get("deliv") or {})
        estimated += r.get("at_estimated") or 0
        for k, v in (r.get("other") or {}).items():
            other[k] = other.get(k, 0) + v
        sessions += r["sessions"]
        if r["cycles"]:
            cycles = ([min(cycles[0], r["cycles"][0]), max(cycles[1], r["cycles"][1])]
                      if cycles else list(r["cycles"]))
        errors = sorted(set(errors) | set(r["errors"]))
    syms = universe()
    intended = delivered = 0
    ratios = []
    for s in sessions:
        want = sum(len(publog.get(sym, ())) for sym in symbols_for(s["i"], cell.k, syms))
        intended += want
        delivered += s["delivered"]
        ratios.append(s["delivered"] / want if want else 1.0)
    ok = [s for s in sessions if s["ok"]]
    n_ok = max(1, len(ok))
    msgs = sum(s["msgs"] for s in ok)
    transports: dict[str, int] = {}
    for s in ok:
        transports[s.get("transport") or "?"] = transports.get(s.get("transport") or "?", 0) + 1
    return {
        "transports": transports,
        "other_msgs_per_session": {k: v / n_ok for k, v in
                                   sorted(other.items(), key=lambda kv: -kv[1])[:4]},
        "delta_msgs_per_session": sum(s["delta_msgs"] for s in ok) / n_ok,
        "frames_per_session": sum(s["frames"] for s in ok) / n_ok,
        # Update messages per distinct hub cycle they were labelled with (1.00: never two
        # messages for one cycle), and messages that carried no update at all.
        "upd_msgs_per_changed_cycle": (sum(s["delta_msgs"] for s in ok) /
                                       max(1, sum(s.get("cycles", 0) for s in ok))),
        "other_msgs_per_session_total": sum(s["msgs"] - s["delta_msgs"] for s in ok) / n_ok,
        "connected": len(ok), "ready": ready, "ramp_s": ramp_s, "errors": errors[:5],
        "intended_per_s": intended / duration, "delivered_per_s": delivered / duration,
        "ratio": delivered / intended if intended else None,
        "worst_session_ratio": min(ratios) if ratios else None,
        "sessions_ge_99": sum(r >= 0.99 for r in ratios) / max(1, len(ratios)),
        "msgs_per_session": msgs / n_ok,
        "msgs_per_session_s": msgs / n_ok / duration,
        "delta_share": sum(s["delta_msgs"] for s in ok) / msgs if msgs else None,
        "frames_per_msg": sum(s["frames"] for s in ok) / msgs if msgs else None,
        "kb_per_session_s": sum(s["bytes"] for s in ok) / n_ok / duration / 1024,
        "lat_p50_ms": hist.quantile(0.5), "lat_p99_ms": hist.quantile(0.99),
        "lat_n": hist.n, "delta_cycles": cycles,
        "wait_p50_ms": wait.quantile(0.5), "wait_p99_ms": wait.quantile(0.99),
        "deliv_p50_ms": deliv.quantile(0.5), "deliv_p99_ms": deliv.quantile(0.99),
        # Share of the wait/delivery samples whose message had no 'at' (an app from
        # before it): the cycle's newest tick time stood in for it.
        "at_estimated": estimated / wait.n if wait.n else None,
        "slow": results[0].get("slow", []),
    }


async def start_profile(server: ServerProc, cell: Cell, opts):
    path = opts.logdir / f"profile-{cell.target}-{cell.n}-{cell.push_ms}.txt"
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
    from bench.profile import summarise_collapsed

    return summarise_collapsed(spy.path)


def fmt(v, spec: str = ".0f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def ms(v_s) -> float | None:
    return None if v_s is None else v_s * 1000


def one_line(r: dict) -> str:
    if "ratio" not in r:
        return "failed"
    return (f"conn {r['connected']} {r['transports']}  upd/s {r['delivered_per_s']:.0f}/"
            f"{r['intended_per_s']:.0f} ({fmt(r['ratio'] and r['ratio'] * 100, '.1f')}%)  "
            f"hub cyc/s {fmt(r['hub_cycles_per_s'], '.2f')}"
            + (f" ({r['hub_cycles_missed']} missed)" if r.get("hub_cycles_missed") else "")
            + "  msg/cyc "
            f"{fmt(r.get('msgs_per_cycle'), '.2f')}  CPU {r['server_cpu_pct']:.0f}%  "
            f"RSS {r['rss_mb']:.0f} MB  tick-to-client/wait/delivery p50/p99 "
            f"{pair(r['lat_p50_ms'], r['lat_p99_ms'])}/{'/'.join(split_of(r))} ms  "
            f"client CPU {r['client_cpu_pct']:.0f}%"
            + (f"\n  non-update messages per session in the window: "
               f"{ {k: round(v, 1) for k, v in r['other_msgs_per_session'].items()} }"
               if r.get("other_msgs_per_session") else ""))


# Two-line headers ("\n"), to keep the tables about 130 characters wide.
HEAD = ("server", "ms", "N", "conn", "ramp\ns", "intended\nupd/s", "delivered\nupd/s",
        "deliv\n%", "worst\n%", "hub\ncyc/s", "msg/\ncyc", "frm/\ncyc", "KB/s\n/ses",
        "srv\nCPU%", "RSS\nMB", "MB/\nses", "cli\nCPU%")
LAT_HEAD = ("server", "ms", "N", "tick-to-client\np50/p99", "wait\np50/p99",
            "delivery\np50/p99", "updates")


def name_of(r: dict) -> str:
    c = r["cell"]
    name = c["target"]
    tr = r.get("transports") or {}
    if c["target"] == "photon" and tr:
        name += f"({max(tr, key=tr.get)})"
    return (name + (f"+{c['slow']}slow" if c["slow"] else "")
            + ("+browser" if c.get("browser") else "+lat" if c.get("latency") else ""))


def table_rows(results: list[dict], head=HEAD) -> list[tuple]:
    out = []
    for r in results:
        c = r["cell"]
        if "ratio" not in r:
            why = "skipped" if r.get("skipped") else "FAILED"
            out.append((c["target"], c["push_ms"], c["n"], why, *[""] * (len(head) - 4)))
            continue
        out.append((
            name_of(r), c["push_ms"], c["n"], r["connected"], fmt(r["ramp_s"], ".1f"),
            fmt(r["intended_per_s"]), fmt(r["delivered_per_s"]),
            fmt(r["ratio"] and r["ratio"] * 100, ".1f"),
            fmt(r["worst_session_ratio"] and r["worst_session_ratio"] * 100, ".0f"),
            fmt(r["hub_cycles_per_s"], ".2f"), fmt(r.get("msgs_per_cycle"), ".2f"),
            fmt(r.get("frames_per_cycle"), ".2f"), fmt(r["kb_per_session_s"], ".1f"),
            fmt(r["server_cpu_pct"]), fmt(r["rss_mb"]), fmt(rss_per_session(r), ".3f"),
            fmt(r["client_cpu_pct"]) + ("*" if client_bound(r) else ""),
        ))
    return out


def pair(a, b) -> str:
    """'p50/p99' in whole ms, '-' when not measured."""
    return "-" if a is None and b is None else f"{fmt(a)}/{fmt(b)}"


def split_of(r: dict) -> tuple[str, str]:
    """The (wait, delivery) p50/p99 cells of a result. '~' marks an estimate: messages
    without 'at' (an app from before it; results.json files from before the split only
    have 'pub', receipt - the newest tick of the cycle, which stands in for delivery)."""
    if "deliv_p50_ms" not in r:
        old = pair(r.get("pub_p50_ms"), r.get("pub_p99_ms"))
        return "-", ("~" + old if old != "-" else old)
    mark = "~" if (r.get("at_estimated") or 0) > 0.01 else ""
    w = pair(r.get("wait_p50_ms"), r.get("wait_p99_ms"))
    d = pair(r.get("deliv_p50_ms"), r.get("deliv_p99_ms"))
    return (mark + w if w != "-" else w), (mark + d if d != "-" else d)


def lat_rows(results: list[dict]) -> list[tuple]:
    out = []
    for r in results:
        c = r["cell"]
        if "ratio" not in r:
            continue
        wait, deliv = split_of(r)
        out.append((name_of(r), c["push_ms"], c["n"], pair(r["lat_p50_ms"], r["lat_p99_ms"]),
                     wait, deliv, r.get("lat_n", "")))
    return out


def print_table(rows: list[tuple], head=HEAD) -> None:
    """Right-aligned columns; a header cell may have two lines ("\n"), bottom-aligned."""
    lines = [str(h).split("\n") for h in head]
    depth = max(len(h) for h in lines)
    heads = [tuple(([""] * (depth - len(h)) + h)[i] for h in lines) for i in range(depth)]
    body = [tuple(str(x) for x in r) for r in rows]
    widths = [max(len(r[i]) for r in heads + body) for i in range(len(head))]
    for r in heads:
        log("  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)).rstrip())
    log("  ".join("-" * w for w in widths))
    for r in body:
        log("  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)).rstrip())


def client_bound(r: dict) -> bool:
    """The load workers were near a full core each: the numbers then say more about
    the load client than about the server (the machine has 2 cores in all)."""
    workers = max(1, -(-r["cell"]["n"] // 1000))
    return (r.get("client_cpu_pct") or 0) >= 85 * workers


def saturated(r: dict) -> bool:
    """Failed with the server near a full core, or below 90 % delivered: a larger N
    only costs minutes of ramping into an overloaded server."""
    return not client_bound(r) and (
        (r["ratio"] or 0) < 0.9 or r["connected"] < r["cell"]["n"]
        or (not passed(r) and r["server_cpu_pct"] >= 70))


def plain(r: dict) -> bool:
    """A cell of the main matrix (no slow clients, no browser, not the latency sweep)."""
    return not r["cell"]["slow"] and not is_latency(r)


def is_latency(r: dict) -> bool:
    """A cell of the latency sweep; in results from before the sweep, the browser cell."""
    return bool(r["cell"].get("latency") or r["cell"].get("browser"))


def hub_kept_cadence(r: dict) -> bool:
    """The hub published >= 99 % of its nominal cycles in the window, give or take one
    (a starved hub publishes less, and then 'intended' shrinks with it)."""
    c = r["cell"]
    if not r.get("hub_cycles_s"):
        return True
    nominal = r["hub_cycles_s"] * 1000 / c["push_ms"]
    return (r.get("hub_cycles") or 0) >= 0.99 * nominal - 1


def passed(r: dict) -> bool:
    """Every session live, >= 99 % of the hub's publications delivered, hub cadence kept."""
    c = r["cell"]
    return ("ratio" in r and r["connected"] == c["n"] and (r["ratio"] or 0) >= 0.99
            and hub_kept_cadence(r))


def capacity(results: list[dict], target: str, push_ms: int) -> tuple[int | None, bool]:
    """Largest measured N that passed; and whether that was the largest N measured
    (so the real capacity may be higher)."""
    cells = [r for r in results if r["cell"]["target"] == target and
             r["cell"]["push_ms"] == push_ms and plain(r) and "ratio" in r]
    if not cells:
        return None, False
    ok = [r["cell"]["n"] for r in cells if passed(r)]
    # A cell the load client could not keep up with says nothing about the server.
    top = max(r["cell"]["n"] for r in cells if not client_bound(r) or passed(r)) if any(
        not client_bound(r) or passed(r) for r in cells) else 0
    best = max(ok) if ok else 0
    return best, best == top


def efficiency(results: list[dict], target: str, push_ms: int) -> float | None:
    """Delivered symbol updates per server CPU-second, at the largest measured N that
    passed (or the smallest N if none did)."""
    cells = [r for r in results if r["cell"]["target"] == target and "ratio" in r and
             r["cell"]["push_ms"] == push_ms and plain(r)]
    if not cells:
        return None
    ok = [r for r in cells if passed(r)]
    r = (max(ok, key=lambda r: r["cell"]["n"]) if ok
         else min(cells, key=lambda r: r["cell"]["n"]))
    cpu = r["server_cpu_pct"] / 100
    return r["delivered_per_s"] / cpu if cpu > 0 else None


def print_summary(results: list[dict], opts) -> None:
    log("\nCapacity: largest N measured that passed (all sessions live, >= 99 % of the hub's "
        "publications delivered, hub at >= 99 % of its cadence; '>=' = the largest N tried "
        "passed). upd/CPU-s: delivered symbol updates per second of server CPU, at that N.")
    targets = [t for t in opts.targets if any(r["cell"]["target"] == t for r in results)]
    others = [t for t in targets if t != "photon"]
    rows = []
    for push in opts.intervals:
        caps = {t: capacity(results, t, push) for t in targets}
        effs = {t: efficiency(results, t, push) for t in targets}
        row = [push]
        for t in targets:
            n, top = caps[t]
            row.append("-" if n is None else (">=" if top else "") + str(n))
        for t in others:
            a, b = caps.get("photon", (None, False))[0], caps[t][0]
            row.append(fmt(a / b, ".2f") if a is not None and b else "-")
        row += [fmt(effs[t]) for t in targets]
        for t in others:
            a, b = effs.get("photon"), effs[t]
            row.append(fmt(a / b, ".3f") if a and b else "-")
        rows.append(tuple(row))
    head = ("ms", *[f"cap {t}" for t in targets], *[f"cap photon/{t}" for t in others],
            *[f"upd/CPU-s {t}" for t in targets], *[f"eff photon/{t}" for t in others])
    print_table(rows, head)


def find(results, target, n, push, slow=0, latency=False):
    for r in results:
        c = r["cell"]
        if ((c["target"], c["n"], c["push_ms"], c["slow"], is_latency(r))
                == (target, n, push, slow, latency)):
            return r
    return None


def print_targets(results: list[dict], soak_res: dict | None) -> None:
    log("\nTargets (Photon as configured by default"
        + (", and with PHOTON_TRANSPORT=bokeh" if any(
            r["cell"]["target"] == "photon-bokeh" for r in results) else "") + ")")

    def verdict(ok):
        return "n/a (not measured or too short)" if ok is None else ("MET" if ok else "MISSED")

    sweep = {t["target"]: t for t in (latency_summary(results) or {}).get("targets", ())}

    def swept(name: str) -> str:
        t = sweep.get(name)
        if not t or not t["p99_ms_by_interval"]:
            return ""
        best = t["largest_interval_met_ms"]
        return ("; push interval sweep (Latency): " + (f"met up to {best} ms" if best is not None
                                                       else "not met at any interval measured"))

    for target in [t for t in ("photon", "photon-bokeh")
                   if any(r["cell"]["target"] == t for r in results)]:
        log(f"  [{target}]")
        lines = []
        for n, push in ((500, 1000), (150, 250)):
            cand = [r for r in results if r["cell"]["target"] == target and
                    r["cell"]["push_ms"] == push and plain(r) and
                    r["cell"]["n"] >= n and "ratio" in r]
            r = min(cand, key=lambda r: r["cell"]["n"]) if cand else None
            below = [r for r in results if r["cell"]["target"] == target and "ratio" in r
                     and r["cell"]["push_ms"] == push and plain(r)
                     and r["cell"]["n"] < n and not passed(r)]
            if r is None and below:  # a smaller N already failed: the target is missed
                r = min(below, key=lambda r: r["cell"]["n"])
            got = "" if r is None else (
                f" (N={r['cell']['n']}: {r['connected']} live, "
                f"{fmt(r['ratio'] and r['ratio'] * 100, '.1f')} % "
                f"delivered, hub {r['hub_cycles_per_s']:.2f} cyc/s, server CPU "
                f"{r['server_cpu_pct']:.0f} %)")
            lines.append(f">= {n} sessions x 10 symbols @ {push} ms, >= 99 % delivered: "
                         f"{verdict(None if r is None else passed(r) and r['cell']['n'] >= n)}"
                         f"{got}")
        ph = [r for r in results if r["cell"]["target"] == target and "ratio" in r
              and plain(r)]
        if ph:
            fpm = max(r["frames_per_msg"] or 0 for r in ph)
            upc = max(r.get("upd_msgs_per_changed_cycle") or 0 for r in ph)
            other = max(r.get("other_msgs_per_cycle") or 0 for r in ph)
            ok = fpm <= 1.0 and upc <= 1.0 and other <= 0.01
            lines.append(
                f"exactly one WebSocket message per session per changed cycle: {verdict(ok)} "
                f"(update messages per hub cycle they carry: max {upc:.3f}; other messages "
                f"per session per hub cycle: max {other:.3f}; WebSocket frames per message: "
                f"max {fpm:.1f}"
                + (", a Bokeh message being header + metadata + content frames)" if fpm > 2
                   else ")"))
        r = find(results, target, 100, 250)
        if r is not None and "ratio" in r:
            lines.append(f"tick-to-client p99 < 100 ms @ 100 sessions / 250 ms: "
                         f"{verdict(r['lat_p99_ms'] is not None and r['lat_p99_ms'] < 100)} "
                         f"(p50 {fmt(r['lat_p50_ms'])} ms, p99 {fmt(r['lat_p99_ms'])} ms"
                         + (swept("tick-to-client p99 < 100 ms") if target == "photon" else "")
                         + ")")
            rb = find(results, target, 100, 250, latency=True) or {}
            b = rb.get("browser")
            if b:
                lines.append(
                    f"tick-to-DOM p99 < 150 ms @ 100 sessions / 250 ms: "
                    f"{verdict(b['dom_p99'] is not None and b['dom_p99'] * 1000 < 150)} "
                    f"(DOM p50 {fmt(ms(b['dom_p50']))} ms, p99 {fmt(ms(b['dom_p99']))} ms; "
                    f"{b['n']} updates" + swept("tick-to-DOM p99 < 150 ms") + ")")
            elif rb.get("browser_error"):
                lines.append(f"tick-to-DOM: probe failed: {rb['browser_error'][:120]}")
        big = [r for r in ph if r["cell"]["n"] >= 100]
        if big:
            mb = max(rss_per_session(r) for r in big)
            lines.append(f"RSS per session <= 0.5 MB: {verdict(mb <= 0.5)} (worst "
                         f"{mb:.3f} MB at N >= 100: (RSS in window - RSS before) / "
                         "sessions held)")
        for line in lines:
            log("    " + line)
    if soak_res:
        ck = soak_res.get("checkpoints") or []
        growth = soak_res.get("idle_growth_mb_per_1000")
        # A few hundred cycles are all warm-up (allocator high-water marks): no verdict.
        flat = None if growth is None or soak_res["cycles"] < 2000 else growth <= 1.0
        log(f"  [soak] RSS flat across soak (idle RSS growth <= 1 MB per 1000 cycles from the "
            f"50 % checkpoint to the end): {verdict(flat)} ({fmt(growth, '+.2f')} MB per 1000 "
            "cycles; idle checkpoints "
            + ", ".join(f"{c['cycles']}: {c['rss_mb']:.0f} MB" for c in ck)
            + f"); subscriptions at end {soak_res['final_subscriptions']} "
            f"{'MET' if soak_res['final_subscriptions'] == {} else 'MISSED'} (must be {{}})")


# The issue's latency targets, at 100 sessions, counting from the tick's arrival in the hub.
LATENCY_TARGETS = (
    ("tick-to-client p99 < 100 ms", 100.0, lambda r: r.get("lat_p99_ms")),
    ("tick-to-DOM p99 < 150 ms", 150.0,
     lambda r: ms((r.get("browser") or {}).get("dom_p99"))),
)
LATENCY_HEAD = ("interval\nms", "N", "deliv\n%", "hub\ncyc/s", "srv\nCPU%",
                "tick-to-client\np50/p99", "wait\np50/p99", "delivery\np50/p99",
                "tick-to-DOM\np50/p99", "pub-to-DOM\np50/p99", "DOM\nupdates")


def latency_cells(results: list[dict]) -> list[dict]:
    """The sweep's measured cells (Photon, default transport), largest interval first."""
    return sorted((r for r in results if is_latency(r) and "ratio" in r
                   and r["cell"]["target"] == "photon"), key=lambda r: -r["cell"]["push_ms"])


def all_delivered(r: dict) -> bool:
    """Every session live and >= 99 % delivered (a latency is only met where that holds)."""
    return r["connected"] == r["cell"]["n"] and (r["ratio"] or 0) >= 0.99


def latency_summary(results: list[dict]) -> dict | None:
    """Per latency target: p99 by push interval, and the largest interval at which it is
    met (with every session live and >= 99 % delivered). Also written to results.json."""
    cells = latency_cells(results)
    if not cells:
        return None
    out = {"sessions": sorted({r["cell"]["n"] for r in cells}),
           "intervals": [r["cell"]["push_ms"] for r in cells], "targets": []}
    for name, limit, get in LATENCY_TARGETS:
        rows = [(r["cell"]["push_ms"], get(r), all_delivered(r)) for r in cells]
        rows = [(push, v, ok) for push, v, ok in rows if v is not None]
        met = [push for push, v, ok in rows if v < limit and ok]
        out["targets"].append({"target": name, "limit_ms": limit,
                               "p99_ms_by_interval": [[push, v] for push, v, _ in rows],
                               "delivered_ok_by_interval": [[push, ok] for push, _, ok in rows],
                               "largest_interval_met_ms": max(met) if met else None})
    return out


def print_latency(results: list[dict]) -> None:
    cells = latency_cells(results)
    if not cells:
        return
    log("\nLatency (Photon, default transport, one Chromium page beside the load; ms, p50/p99 "
        "over updates with tick time in the window). tick-to-client = wait + delivery: wait = "
        "'at' - tick ts (the wait for the next hub cycle, up to one push interval), delivery = "
        "receipt - 'at'; pub-to-DOM = DOM update - 'at'.")
    rows = []
    for r in cells:
        c, b = r["cell"], r.get("browser") or {}
        wait, deliv = split_of(r)
        dom = ("failed" if r.get("browser_error") else
               pair(ms(b.get("dom_p50")), ms(b.get("dom_p99"))))
        pub = ("failed" if r.get("browser_error") else
               pair(ms(b.get("pub_p50")), ms(b.get("pub_p99"))))
        rows.append((c["push_ms"], c["n"], fmt(r["ratio"] and r["ratio"] * 100, ".1f"),
                     fmt(r["hub_cycles_per_s"], ".2f"), fmt(r["server_cpu_pct"]),
                     pair(r["lat_p50_ms"], r["lat_p99_ms"]), wait, deliv, dom, pub,
                     b.get("n", "-")))
    print_table(rows, LATENCY_HEAD)
    summary = latency_summary(results)
    for t in summary["targets"]:
        by = t["p99_ms_by_interval"]
        oks = dict(t["delivered_ok_by_interval"])
        if not by:
            log(f"  {t['target']}: n/a (not measured)")
            continue
        best = t["largest_interval_met_ms"]
        got = ", ".join(f"{push} ms {fmt(v)}" + ("" if oks.get(push) else " (< 99 % delivered)")
                        for push, v in by)
        log(f"  {t['target']} @ {'/'.join(map(str, summary['sessions']))} sessions: "
            + (f"met up to a push interval of {best} ms" if best is not None
               else "not met at any push interval measured")
            + f" (p99 by push interval: {got})")


def print_browser(results: list[dict]) -> None:
    for r in results:
        b = r.get("browser")
        if b:
            log(f"\nBrowser probe ({r['label']}, page on the same server during the load): "
                f"tick-to-DOM p50/p99 {fmt(ms(b['dom_p50']))}/{fmt(ms(b['dom_p99']))} ms; "
                f"tick-to-next-frame p50/p99 {fmt(ms(b['frame_p50']))}/"
                f"{fmt(ms(b['frame_p99']))} ms; pub-to-DOM p50/p99 "
                f"{fmt(ms(b.get('pub_p50')))}/{fmt(ms(b.get('pub_p99')))} ms; "
                f"{b['n']} price updates in the window; "
                f"page state {b['state']}; console 'WebSocket Connected': "
                f"{b['console_connected']}")
        elif r.get("browser_error"):
            log(f"\nBrowser probe ({r['label']}) failed: {r['browser_error']}")


def print_slow(results: list[dict]) -> None:
    for r in results:
        if not r["cell"]["slow"] or "ratio" not in r:
            continue
        c = r["cell"]
        base = find(results, c["target"], c["n"], c["push_ms"])
        series = r["rss_series"]
        log(f"\nSlow clients: {c['slow']} sessions that stop reading their socket(s) (4 KiB "
            f"receive buffer), beside {c['n']} normal sessions @ {c['push_ms']} ms, "
            f"{series[-1][0]:.0f} s window:")
        step = max(1, len(series) // 10)
        log("  server RSS (s: MB): "
            + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in series[::step] + [series[-1]]))
        q = r.get("slow_sendq") or {}
        nslow = sum(1 for s in r.get("slow") or () if s.get("ok"))
        log(f"  RSS per session held ({r.get('ready', c['n'])} normal + {nslow} slow): "
            f"{fmt(rss_per_session(r), '.3f')} MB"
            + (f" (without slow clients: {fmt(rss_per_session(base), '.3f')} MB)"
               if base and "ratio" in base else ""))
        log(f"  RSS slope {r['slow_rss_slope_mb_per_min']:+.2f} MB/min; server sessions "
            f"{r['health_sessions']}; kernel Send-Q of the slow sockets "
            f"{q.get('slow_total_kb', 0):.0f} KiB total over {q.get('slow_sockets', 0)} "
            f"sockets (max {q.get('slow_max_kb', 0):.0f} KiB), of all others "
            f"{q.get('other_total_kb', 0):.0f} KiB")
        if base and "ratio" in base:
            log(f"  normal sessions: {r['ratio'] * 100:.1f} % delivered, p50/p99 "
                f"{fmt(r['lat_p50_ms'])}/{fmt(r['lat_p99_ms'])} ms, server CPU "
                f"{r['server_cpu_pct']:.0f} %  vs without slow clients: "
                f"{base['ratio'] * 100:.1f} %, {fmt(base['lat_p50_ms'])}/"
                f"{fmt(base['lat_p99_ms'])} ms, {base['server_cpu_pct']:.0f} %")


async def run_soak(opts) -> dict:
    from bench.soak import soak

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


def build_cells(opts) -> list[Cell]:
    cells = []
    for push in opts.intervals:
        for n in opts.sessions:
            for t in opts.targets:
                cells.append(Cell(t, n, push, k=opts.k, profile=(is_photon(t) and opts.profile)))
    for t in [t for t in opts.targets if is_photon(t)]:
        for n, push in opts.extra_photon:
            if n not in opts.sessions and push in opts.intervals:
                cells.append(Cell(t, n, push, k=opts.k, profile=opts.profile))
    if "photon" in opts.targets:
        # The latency sweep, each with the browser probe: cells of their own, so that
        # Chromium's CPU on this small machine does not skew the others.
        for push in opts.latency_intervals:
            cells.append(Cell("photon", opts.latency_sessions, push, k=opts.k,
                              browser=not opts.no_browser, latency=True,
                              duration=opts.latency_duration))
    if opts.slow and "photon" in opts.targets:
        cells.append(Cell("photon", opts.slow_sessions, opts.slow_push_ms, k=opts.k,
                          slow=opts.slow, duration=opts.slow_duration))
    return cells


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="N in 10,100; short windows "
                      "(default)")
    mode.add_argument("--full", action="store_true", help="N in 10,100,300,1000 (+500@1000, "
                      "150@250 for Photon); 30 s windows; 10,000-cycle soak")
    p.add_argument("--targets", help="comma-separated from " + ",".join(TARGETS) + " (default: "
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
    opts.targets = ([t for t in opts.targets.split(",") if t] if opts.targets
                    else list(TARGETS) if full else ["photon", "tornado", "socketio"])
    unknown = set(opts.targets) - set(TARGETS)
    if unknown:
        p.error(f"unknown targets {sorted(unknown)}; choose from {TARGETS}")
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


def report(results: list[dict], soak_res: dict | None, opts) -> None:
    log(f"\nResults ({opts.k} symbols per session; {opts.duration:.0f} s windows; msg/cyc and "
        "frm/cyc = protocol messages and WebSocket frames per session per hub cycle; MB/ses = "
        "RSS growth / sessions held)")
    print_table(table_rows(results))
    if any(client_bound(r) for r in results if "ratio" in r):
        log("  * load workers near a full core: client-bound, the server may do better "
            "(not counted as a capacity failure)")
    log("\nLatency per cell (ms, p50/p99 over the updates with tick time in the window): "
        "tick-to-client = receipt - tick ts = wait (publication 'at' - tick ts: the wait "
        "for the hub cycle) + delivery (receipt - 'at')")
    print_table(lat_rows(results), LAT_HEAD)
    if any("~" in "".join(split_of(r)) for r in results if "ratio" in r):
        log("  ~ estimated: messages without 'at' (or a run from before it): the newest tick "
            "time of the cycle stands in for 'at' (earlier by up to one 50 ms mock step, so "
            "delivery is over-estimated)")
    print_summary(results, opts)
    print_latency(results)
    print_browser(results)
    print_slow(results)
    if soak_res:
        log(f"\nSoak: {soak_res['cycles']} cycles in {soak_res['elapsed_s']} s; "
            "(s, cycles, live sessions, RSS MB):")
        s = soak_res["series"]
        step = max(1, len(s) // 12)
        log("  " + "  ".join(f"({t:.0f}, {c}, {live}, {m:.0f})"
                             for t, c, live, m in s[::step] + [s[-1]]))
    print_targets(results, soak_res)
    prof = [r for r in results if r.get("profile")]
    if prof:
        from bench.profile import print_profile

        for r in prof:
            print_profile(r["label"], r["profile"], log)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    opts = parse(argv)
    if opts.report:
        data = json.loads(opts.report.read_text())
        saved = parse([a for a in data.get("argv") or [] if a != "--report"])
        opts.targets = [t for t in TARGETS if any(r["cell"]["target"] == t
                                                  for r in data["results"])]
        opts.intervals, opts.duration, opts.k = saved.intervals, saved.duration, saved.k
        report(data["results"], data.get("soak"), opts)
        return
    started = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    opts.logdir = opts.out / stamp
    opts.logdir.mkdir(parents=True, exist_ok=True)
    opts.src = export_rev(opts.rev) if opts.rev else None
    if "photon-bokeh" in opts.targets and not supports_transport(opts.src):
        opts.targets.remove("photon-bokeh")  # this Photon has only the Bokeh path
    opts.workers_for = lambda n: max(1, -(-n // opts.sessions_per_worker))
    cells = build_cells(opts)
    log(f"Photon bench ({'full' if opts.full else 'quick'}): {len(cells)} cells "
        f"({', '.join(opts.targets)}), {opts.k} symbols/session, {opts.duration:.0f} s "
        f"windows; app from {opts.rev or 'the work tree'}; {os.cpu_count()} CPUs; logs in "
        f"{opts.logdir}")
    results = []
    for cell in cells:
        over = next((r for r in results if not opts.no_skip and plain(r) and "ratio" in r
                     and r["cell"]["target"] == cell.target
                     and r["cell"]["push_ms"] == cell.push_ms and r["cell"]["n"] < cell.n
                     and not cell.slow and not cell.browser and not cell.latency
                     and saturated(r)), None)
        if over is not None:
            log(f"- {cell.target} N={cell.n} @{cell.push_ms}ms: skipped, already overloaded "
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
