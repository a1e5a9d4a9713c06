"""The deployment :mod:`bench.drills.faults` breaks, on loopback ports: redis-server, two relays
(the second waits as a standby), two Photon servers and Debian's nginx with
deploy/nginx-photon.conf in front of them; each process can be killed by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import NO_SESSION_LIMITS, ROOT, free_port, get_json

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Deployment:
    """redis-server, two relays, two servers and nginx on loopback ports under ``work``."""

    def __init__(self, work: Path, push_ms: int, stack: ExitStack):
        self.work, self.push_ms, self.stack = work, push_ms, stack
        self.redis_port, self.listen = free_port(), free_port()
        self.ports = [free_port(), free_port()]
        self.procs: dict[str, subprocess.Popen] = {}
        stack.callback(self.stop_all)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("a")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1",
                                                 **(env or {})})

    def start_redis(self) -> None:
        self.spawn("redis", [REDIS, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"])
        wait(lambda: redis_ping(self.redis_port), 10, "redis-server")

    def start_relay(self, name: str, seed: int) -> None:
        self.spawn(name, [sys.executable, "-m", "app", "relay", "--redis-url", self.redis_url],
                   {"PHOTON_FEED": "mock", "PHOTON_MOCK_SEED": str(seed)})

    def start(self) -> None:
        """Redis (unless started already: a second redis-server on its port would exit at
        once and take the first's place in ``procs``, so that killing "redis" killed
        nothing), the relays, the servers and nginx."""
        if "redis" not in self.procs:
            self.start_redis()
        self.start_relay("relay-a", 5)
        wait(lambda: redis_has_lock(self.redis_port), 60, "the first relay's lock")
        self.start_relay("relay-b", 6)  # the standby
        for i, port in enumerate(self.ports):
            self.spawn(f"server-{i + 1}", [
                sys.executable, "-m", "app", "--port", str(port), "--redis-url", self.redis_url,
                "--allow-websocket-origin", f"127.0.0.1:{self.listen}",
                "--check-unused-sessions", "1000", "--unused-session-lifetime", "5000"],
                {"PHOTON_PUSH_INTERVAL_MS": str(self.push_ms), "PHOTON_LOG_LEVEL": "WARNING",
                 **NO_SESSION_LIMITS})
        for port in self.ports:
            wait(lambda p=port: (get_json(f"http://127.0.0.1:{p}/health") or {}).get("state")
                 == "live", 120, f"server on {port} live")
        self.start_nginx()

    def start_nginx(self) -> None:
        site = (ROOT / "deploy/nginx-photon.conf").read_text()
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.listen};")
        for old, new in zip(("5101", "5102"), self.ports, strict=True):
            site = site.replace(old, str(new))
        ngx = self.work / "nginx"
        (ngx / "logs").mkdir(parents=True)
        (ngx / "site.conf").write_text(site)
        temp = "".join(f"    {k}_temp_path {ngx}/{k};\n"
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (ngx / "nginx.conf").write_text(
            f"user root;\nworker_processes 1;\npid {ngx}/nginx.pid;\n"
            f"worker_rlimit_nofile 20000;\nerror_log {ngx}/logs/error.log error;\n"
            "events { worker_connections 10000; }\n"
            f"http {{\n    access_log off;\n{temp}    include {ngx}/site.conf;\n}}\n")
        self.spawn("nginx", [NGINX, "-p", str(ngx), "-c", str(ngx / "nginx.conf"),
                             "-g", "daemon off;"])
        wait(lambda: get_json(f"http://127.0.0.1:{self.listen}/health") is not None, 20,
             "nginx")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def redis_has_lock(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port).exists("photon:relay:lock"))
    except redis.RedisError:
        return False


def wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)
