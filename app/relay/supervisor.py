"""``photon --procs N``: N server processes and, if none runs yet, one relay.

Each server listens on its own port (``--port``, ``--port``+1, ...), so a load
balancer lists them as upstreams (README, *Several processes*). They all read the
relay through Redis, so every tab shows one market from one upstream connection.

Stopping, by design rather than by accident:

- Ctrl-C or SIGTERM stops every process started here (SIGTERM, then SIGKILL after
  10 s), and the supervisor exits 0.
- Each child asks the kernel to stop it if this supervisor dies (``PR_SET_PDEATHSIG``),
  so none is left behind even after a ``kill -9``. The child does that itself, first
  thing after exec (:func:`follow_supervisor`, told the supervisor's PID in
  ``PHOTON_SUPERVISOR_PID``), not in a ``preexec_fn``: that runs between fork and exec
  in a copy of a process that may have threads, and with the supervisor's own signal
  handlers still installed (a SIGTERM there was swallowed). Without ``preexec_fn``
  subprocess blocks signals and resets every handler to the default in the child
  before it execs.
- "Has my parent gone?" compares with the PID the parent had, never with 1: as a
  container's entry point the supervisor *is* PID 1.
- As PID 1 the supervisor is also the namespace's init: orphans are handed to it, so it
  reaps every child (``waitpid(-1)``), not only the ones it started, and on SIGTERM it
  stops whatever is left in the namespace too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

from app.runtime import process

_PR_SET_PDEATHSIG = 1
#: Set by the supervisor in its children's environment: its own PID.
SUPERVISOR_ENV = "PHOTON_SUPERVISOR_PID"
STOP_GRACE_S = 10.0


def die_with_parent(parent: int | None = None, sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` to this process when its parent exits (no-op elsewhere).

    ``parent`` is the PID the parent had (default: :func:`app.process.parent_pid`); if
    this process's parent is no longer that one, it exited before the request took hold,
    so ``sig`` is sent now. Asking first and checking second leaves no gap.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = process.parent_pid() if parent is None else parent
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def follow_supervisor(environ: dict[str, str] | None = None) -> None:
    """In a process ``photon --procs`` started: die with that supervisor.

    The variable is taken out of the environment, so processes this one starts (e.g.
    ``--num-procs`` workers) do not take the supervisor for their parent.
    """
    environ = os.environ if environ is None else environ
    value = environ.pop(SUPERVISOR_ENV, "")
    if value.isdigit():
        die_with_parent(int(value))


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


def reap(started: dict[int, subprocess.Popen]) -> list[subprocess.Popen]:
    """Collect every child that has exited; return those of ``started`` among them.

    ``waitpid(-1)`` also collects orphans the kernel handed to this process (it does
    when this process is PID 1), which would otherwise stay zombies. The exit status
    of a process of ours goes into its ``Popen`` so that ``poll()`` still tells it.
    """
    exited = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child at all is left
            break
        if pid == 0:
            break
        if (proc := started.get(pid)) is not None and proc.returncode is None:
            proc.returncode = os.waitstatus_to_exitcode(status)
            exited.append(proc)
    return exited


def _stop_all(started: dict[int, subprocess.Popen], grace_s: float) -> None:
    """SIGTERM every child still running, SIGKILL those still there after ``grace_s``;
    return once all are reaped. As PID 1, then the same for whatever else is left in the
    namespace (orphans handed to us, e.g. a dead server's forked workers)."""
    deadline = time.monotonic() + grace_s
    for proc in started.values():
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    def ours_gone() -> bool:
        return all(p.returncode is not None for p in started.values())

    if not _wait_for(ours_gone, started, deadline):
        for proc in started.values():
            if proc.returncode is None:
                proc.kill()
        _wait_for(ours_gone, started, None)
    if os.getpid() == 1 and not _no_children():
        os.kill(-1, signal.SIGTERM)  # as init: every process in the namespace but this one
        if not _wait_for(_no_children, started, max(deadline, time.monotonic() + 1)):
            os.kill(-1, signal.SIGKILL)
            _wait_for(_no_children, started, None)


def _wait_for(done, started: dict[int, subprocess.Popen], deadline: float | None) -> bool:
    """Reap until ``done()`` (True) or ``deadline`` passes (False)."""
    while deadline is None or time.monotonic() < deadline:
        reap(started)
        if done():
            return True
        time.sleep(0.05)
    return False


def _no_children() -> bool:
    """Whether this process has no child left, running or zombie."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return False


def supervise(cmds: list[list[str]], env: dict[str, str] | None = None) -> int:
    """Run ``cmds`` until Ctrl-C or SIGTERM (or until all have exited); then stop them all.

    A process that dies is reported and not restarted; the others carry on (a dead
    server's symbols expire at the relay; a standby relay would take over).
    """
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT,
                                                                      signal.SIGTERM)}
    child_env = {**(os.environ if env is None else env), SUPERVISOR_ENV: str(os.getpid())}
    started: dict[int, subprocess.Popen] = {}
    code = 0
    try:
        for cmd in cmds:
            if stop.is_set():
                break
            proc = subprocess.Popen(cmd, env=child_env)
            started[proc.pid] = proc
        names = {proc.pid: " ".join(cmd[2:]) for proc, cmd in zip(started.values(), cmds,
                                                                    strict=False)}
        while not stop.is_set() and any(p.returncode is None for p in started.values()):
            for proc in reap(started):
                print(f"photon: process exited with status {proc.returncode}: "
                      f"{names[proc.pid]}", file=sys.stderr, flush=True)
                code = code or proc.returncode or 0
            stop.wait(0.5)
    finally:
        _stop_all(started, STOP_GRACE_S)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
