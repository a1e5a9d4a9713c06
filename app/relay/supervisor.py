"""``photon --procs N``: N server processes and, if none runs yet, one relay.

Each server listens on its own port (``--port``, ``--port``+1, ...), so a load
balancer lists them as upstreams (README, *Several processes*). They all read the
relay through Redis, so every tab shows one market from one upstream connection.
Ctrl-C or SIGTERM stops every process started here; and each child asks the
kernel to stop it if this supervisor dies (``PR_SET_PDEATHSIG``), so none is left
behind even after a ``kill -9``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` to this process when its parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was already gone before we asked
        os.kill(os.getpid(), sig)


def relay_running(redis_url: str) -> bool:
    """Whether some relay holds the upstream now (its lock exists)."""
    import redis

    from app.feeds.redis_formats import LOCK_KEY

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        return bool(client.exists(LOCK_KEY))
    finally:
        client.close()


def commands(n: int, port: int, address: str, redis_url: str, extra: list[str],
             with_relay: bool) -> list[list[str]]:
    """The command lines to start: the relay (if wanted) and ``n`` servers."""
    py = [sys.executable, "-m", "app"]
    cmds = [[*py, "relay", "--redis-url", redis_url]] if with_relay else []
    for i in range(n):
        cmds.append([*py, "--port", str(port + i), "--address", address,
                     "--redis-url", redis_url, *extra])
    return cmds


def supervise(cmds: list[list[str]], env: dict[str, str] | None = None) -> int:
    """Run ``cmds`` until Ctrl-C or SIGTERM (or until all have exited); then stop them all.

    A process that dies is reported and not restarted; the others carry on (a dead
    server's symbols expire at the relay; a standby relay would take over).
    """
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT,
                                                                      signal.SIGTERM)}
    children = [subprocess.Popen(c, env=env, preexec_fn=die_with_parent) for c in cmds]
    code = 0
    reported: set[int] = set()
    try:
        while not stop.is_set() and len(reported) < len(children):
            for child, cmd in zip(children, cmds, strict=True):
                if child.poll() is not None and child.pid not in reported:
                    reported.add(child.pid)
                    print(f"photon: process exited with status {child.returncode}: "
                          f"{' '.join(cmd[2:])}", file=sys.stderr, flush=True)
                    code = code or child.returncode or 0
            stop.wait(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
