"""A real ``redis-server`` for tests: own port, no persistence, stoppable and restartable."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port, stop, wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """``redis-server`` on a loopback port; ``stop()``/``start()`` keep the port."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        if not os.path.exists(REDIS_SERVER):
            pytest.fail("redis-server not found: apt-get install -y redis-server (.ci/run does)")
        log = (self.workdir / f"redis-{self.port}.log").open("a")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.ping, timeout=10, what=f"redis-server on {self.port}")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)  # an outage, not a clean shutdown
            self.proc.wait(10)
            self.proc = None

    def client(self):
        import redis

        return redis.Redis(port=self.port)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def relay_process(workdir: Path, redis_url: str, env: dict[str, str] | None = None,
                  name: str = "relay") -> Iterator[subprocess.Popen]:
    """``python -m app relay`` as its own process (so a test can kill it hard)."""
    log = workdir / f"{name}.log"
    full_env = {**os.environ, "PHOTON_MOCK_SEED": "5", **(env or {})}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app", "relay", "--redis-url", redis_url],
                                cwd=workdir, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    proc.log = log  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        stop(proc)
