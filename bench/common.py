"""Shared helpers: server processes, symbol assignment, histograms, percentiles, gaps."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def universe() -> list[str]:
    """The mock feed's symbols, in its own order."""
    from app.feeds.mock import UNIVERSE

    return [ins.symbol for ins in UNIVERSE]


def symbols_for(index: int, k: int, symbols: list[str]) -> list[str]:
    """Session ``index``'s ``k`` symbols: a window sliding by 3 per session over the
    universe, so every symbol is watched by about the same number of sessions."""
    n = len(symbols)
    start = (index * 3) % n
    return [symbols[(start + j) % n] for j in range(min(k, n))]


def is_photon(server_name: str) -> bool:
    """Photon or photon-bokeh (the same server, two transports), not a reference."""
    return server_name.startswith("photon")


def log(*a) -> None:
    print(*a, flush=True)


def pct(values: list[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` by nearest rank (the smallest value with at least
    ``q`` of them at or below it), None when empty."""
    if not values:
        return None
    v = sorted(values)
    rank = math.ceil(q * len(v) - 1e-9)  # float: 0.07 * 100 = 7.000000000000001
    return v[min(len(v), max(1, rank)) - 1]


class GapMeter:
    """One session's longest wait between two updates inside a window [w0, w1].

    What a viewer sees: an update received before the window starts the first gap (a
    board frozen across ``w0`` counts), and the time from the last update to ``w1`` is
    a gap too (a board frozen at the end counts; a session that got nothing at all
    waited the whole window). Receipts after ``w1`` are ignored.
    """

    __slots__ = ("last", "longest")

    def __init__(self) -> None:
        self.last: float | None = None
        self.longest = 0.0

    def update(self, now: float, w0: float, w1: float) -> None:
        """An update arrived at ``now``."""
        if now > w1:
            return
        if now >= w0:
            self.longest = max(self.longest, now - (w0 if self.last is None else self.last))
        self.last = now

    def close(self, w0: float, w1: float) -> float:
        """The longest gap, counting the one still open at ``w1``."""
        return max(self.longest, w1 - (w0 if self.last is None else self.last))


async def sample_cadence(base: str, until: float, out: list[float]) -> None:
    """Append the push interval ``base``'s /health reports (``push_interval_ms``) to
    ``out`` about every second until ``until``: Photon's adaptive cadence can move
    several times within one window."""
    while True:
        await asyncio.sleep(min(1.0, max(0.0, until - time.time())))
        if time.time() >= until:
            return
        health = await asyncio.to_thread(get_json, base + "/health", 2.0) or {}
        if "push_interval_ms" in health:
            out.append(float(health["push_interval_ms"]))


def gap_stats(gaps: list[float]) -> dict[str, float | None]:
    """p50, p95 and max over sessions of each session's longest gap (seconds)."""
    return {"gap_p50": pct(gaps, 0.5), "gap_p95": pct(gaps, 0.95),
            "gap_max": max(gaps) if gaps else None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


class Histogram:
    """Latency histogram in whole milliseconds (exactly mergeable across processes)."""

    def __init__(self, counts: dict[int, int] | None = None):
        self.counts: dict[int, int] = dict(counts or {})

    def add(self, seconds: float) -> None:
        ms = int(round(seconds * 1000))
        self.counts[ms] = self.counts.get(ms, 0) + 1

    def merge(self, other: Histogram | dict) -> None:
        counts = other.counts if isinstance(other, Histogram) else other
        for k, v in counts.items():
            k = int(k)
            self.counts[k] = self.counts.get(k, 0) + v

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def quantile(self, q: float) -> float | None:
        total = self.n
        if not total:
            return None
        want = q * total
        seen = 0
        for k in sorted(self.counts):
            seen += self.counts[k]
            if seen >= want:
                return float(k)
        return float(max(self.counts))

    def to_json(self) -> dict[str, int]:
        return {str(k): v for k, v in self.counts.items()}


@dataclass
class ServerProc:
    """A server under test, run as a subprocess on a free loopback port."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    health_path: str = "/health"
    proc: subprocess.Popen | None = None
    ps: psutil.Process | None = None
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> ServerProc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as out:
            self.proc = subprocess.Popen(self.cmd, cwd=str(self.extra.get("cwd", ROOT)),
                                         env={**os.environ, **self.env}, stdout=out,
                                         stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            if get_json(self.base + self.health_path, timeout=2) is not None:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.health_path} in {timeout}s:\n"
                           f"{self.log_tail()}")

    def health(self, timeout: float = 5.0) -> dict | None:
        return get_json(self.base + self.health_path, timeout=timeout)

    def rss_mb(self) -> float:
        """RSS of the server and any children, MiB."""
        try:
            procs = [self.ps, *self.ps.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return float("nan")

    def cpu_seconds(self) -> float:
        try:
            procs = [self.ps, *self.ps.children(recursive=True)]
            return sum(sum(p.cpu_times()[:2]) for p in procs)
        except psutil.Error:
            return float("nan")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


#: The load clients all come from loopback, one client to the limits per client (and
#: thousands of sessions, past the process's default): lifted for the benches that
#: measure capacity (``bench.abuse`` measures the limits themselves).
NO_SESSION_LIMITS = {"PHOTON_MAX_SESSIONS_PER_CLIENT": "1000000",
                     "PHOTON_MAX_SESSIONS": "1000000"}


def photon_server(push_ms: int, logdir: Path, src: Path | None = None,
                  seed: int = 11, transport: str | None = None) -> ServerProc:
    """Photon as users start it, with the short session lifetimes the bench needs.

    ``transport`` sets ``PHOTON_TRANSPORT`` (``fast`` or ``bokeh``); None leaves the
    app's default."""
    port = free_port()
    cmd = [sys.executable, "-m", "app", "--port", str(port),
           "--check-unused-sessions", "250", "--unused-session-lifetime", "1000"]
    env = {"PHOTON_PUSH_INTERVAL_MS": str(push_ms), "PHOTON_MOCK_SEED": str(seed),
           "PHOTON_FEED": "mock", "PYTHONUNBUFFERED": "1", **NO_SESSION_LIMITS}
    if transport:
        env["PHOTON_TRANSPORT"] = transport
    extra = {}
    if src is not None:  # a git-archived copy of the app: import it, not the work tree
        env["PYTHONPATH"] = str(src)
        extra["cwd"] = src
    name = f"photon-{transport}" if transport else "photon"
    return ServerProc(name, cmd, env, port, logdir / f"{name}-{push_ms}-{port}.log",
                      extra=extra)


def as_users_start_it(server: ServerProc) -> ServerProc:
    """Without the bench's one-second unused-session lifetime: a browser that takes longer
    than that to open its WebSocket (loading BokehJS) would have its session built twice."""
    cmd = server.cmd
    for flag in ("--check-unused-sessions", "--unused-session-lifetime"):
        if flag in cmd:
            i = cmd.index(flag)
            del cmd[i:i + 2]
    return server


def supports_transport(src: Path | None) -> bool:
    """Whether this Photon reads ``PHOTON_TRANSPORT`` (has the fast lane)."""
    config = (src or ROOT) / "app" / "config.py"
    try:
        return "PHOTON_TRANSPORT" in config.read_text()
    except OSError:
        return False


def socket_queues(port: int) -> dict[int, tuple[int, int]]:
    """Kernel queues of the server's established loopback connections on ``port``:
    {peer port: (Recv-Q, Send-Q) bytes}, from ``ss``."""
    try:
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    queues = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0].isdigit() and f[1].isdigit():
            queues[int(f[3].rsplit(":", 1)[1])] = (int(f[0]), int(f[1]))
    return queues


def ref_server(kind: str, push_ms: int, logdir: Path, seed: int = 11) -> ServerProc:
    """A reference server, ``kind`` "tornado" or "socketio" (``bench/servers/ref_<kind>.py``)."""
    port = free_port()
    cmd = [sys.executable, "-m", f"bench.servers.ref_{kind}", "--port", str(port),
           "--push-interval-ms", str(push_ms), "--seed", str(seed)]
    return ServerProc(f"{kind}-ref", cmd, {"PYTHONUNBUFFERED": "1"}, port,
                      logdir / f"{kind}-{push_ms}-{port}.log")


def opening_ms(cpu_s: float, live_rate: float, window_s: float, opened: int) -> float:
    """Server CPU per session opened, in ms, above what the live sessions took on their
    own (``live_rate``: CPU seconds a second, measured just before) over the window."""
    return max(0.0, cpu_s - live_rate * window_s) / max(1, opened) * 1000
