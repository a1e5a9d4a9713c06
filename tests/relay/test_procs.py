"""``photon --procs N`` and ``--num-procs``: one market in every process, none left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from app.relay import supervisor as procs
from app.runtime import process
from tests.redisd import redis_server
from tests.support import ROOT, RawSession, free_port, get_json, wait_until

pytestmark = pytest.mark.server


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@contextmanager
def photon(tmp_path, *args: str, wrap: tuple[str, ...] = ()):
    """``python -m app ARGS`` in its own process group, as a terminal would run it."""
    log = (tmp_path / "photon.log").open("w")
    env = {**os.environ, "PHOTON_MOCK_SEED": "9", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*wrap, sys.executable, "-m", "app", *args], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if not group_gone(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        log.close()


def ports_up(*ports: int) -> bool:
    """Every port answers /health with 200. A probe of a state: a server that is still
    starting (or restarting) refuses or drops the connection, which is "not yet"."""
    try:
        return all(listening(p) and get_json(f"http://127.0.0.1:{p}/health")[0] == 200
                   for p in ports)
    except OSError:  # URLError, ConnectionResetError, a timeout: not up yet
        return False


def why_not_up(tmp_path, *ports: int) -> str:
    """What a failed wait for servers saw: each port's /health and the log's end."""
    lines = []
    for port in ports:
        try:
            lines.append(f"{port}: {get_json(f'http://127.0.0.1:{port}/health')}")
        except OSError as exc:
            lines.append(f"{port}: {exc!r}")
    log = (tmp_path / "photon.log").read_text(errors="replace").splitlines()
    quiet = [ln for ln in log if "GET /health" not in ln]
    return "\n".join([*lines, "--- photon.log (without /health lines) ---", *quiet[-60:]])


def wait_for_servers(tmp_path, *ports: int, timeout: float) -> None:
    try:
        wait_until(lambda: ports_up(*ports), timeout=timeout, what="the servers")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{why_not_up(tmp_path, *ports)}") from None


def watch_trades(port: int, seen: dict[float, float], stop: threading.Event) -> None:
    """Fill ``seen`` (trade time -> price) with the IBM trades a session on ``port`` is
    shown, until ``stop``.

    IBM trades about 1.5 times a second, so whatever the cadence each server shows most
    of its trades; a trade shown by two servers has the same time and price only if
    they read one market.
    """
    session = RawSession(f"http://127.0.0.1:{port}/app?symbols=IBM")
    lane = session.open_fast_lane()
    lane.settimeout(1.0)
    try:
        while not stop.is_set():
            try:
                msg = json.loads(lane.recv())
            except Exception:  # a timeout between cycles
                continue
            seen.update({row["ts"]: row["last"] for row in msg.get("rows", [])
                         if row.get("ts") and row.get("last")})
    finally:
        lane.close()
        session.close()


def test_procs_serve_one_market_and_sigterm_stops_every_process(tmp_path):
    with redis_server(tmp_path) as redisd:
        port = free_port(2)
        with photon(tmp_path, "--procs", "2", "--port", str(port),
                    "--redis-url", redisd.url) as supervisor:
            wait_until(lambda: ports_up(port, port + 1), timeout=180, what="two servers")
            # The relay names its upstream with its first heartbeat, just after start.
            wait_until(lambda: get_json(f"http://127.0.0.1:{port}/health")[1]["upstream"]
                       == "mock", what="the relay's upstream named")
            a: dict[float, float] = {}
            b: dict[float, float] = {}
            stop = threading.Event()
            with ThreadPoolExecutor(2) as pool:  # two tabs, watching at the same time
                watching = [pool.submit(watch_trades, p, seen, stop)
                            for p, seen in ((port, a), (port + 1, b))]
                try:
                    wait_until(lambda: len(set(a) & set(b)) >= 2 or any(
                        w.done() for w in watching), timeout=120, what="trades on both")
                finally:
                    stop.set()
                for w in watching:
                    w.result()  # a tab that failed says why
            # One relay, one market: the two tabs show the same trades, at the same prices.
            common = a.keys() & b.keys()
            assert len(common) >= 2, (a, b)
            assert all(a[ts] == b[ts] for ts in common), (a, b)
            assert redisd.client().exists("photon:relay:lock")  # it started a relay
            supervisor.send_signal(signal.SIGTERM)  # the supervisor only, not its group
            assert supervisor.wait(30) == 0
            wait_until(lambda: group_gone(supervisor.pid), timeout=60, what="no process left")
            assert not listening(port) and not listening(port + 1)


def test_ctrl_c_stops_procs_and_their_relay(tmp_path):
    with redis_server(tmp_path) as redisd:
        port = free_port(2)
        with photon(tmp_path, "--procs", "2", "--port", str(port),
                    "--redis-url", redisd.url) as supervisor:
            wait_until(lambda: ports_up(port, port + 1), timeout=180, what="two servers")
            os.killpg(supervisor.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
            supervisor.wait(30)
            wait_until(lambda: group_gone(supervisor.pid), timeout=60, what="no process left")
        wait_until(lambda: not redisd.client().exists("photon:relay:lock"), timeout=10,
                   what="the relay let go of its lock")


def children(pid: int) -> list[int]:
    """The PIDs of ``pid``'s children now (Linux: /proc/PID/task/*/children)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def test_num_procs_workers_do_not_outlive_the_server(tmp_path):
    # No relay runs here, so /health rightly answers 503 "relay down" once a worker has
    # read the relay's (missing) heartbeat, within ~0.1 s of starting: "up" is "answers",
    # whatever the status. (Waiting for a 200 instead is what made this test miss its
    # workers on a busy machine: it only passed when a poll landed in that first 0.1 s.)
    with redis_server(tmp_path) as redisd:
        port = free_port()
        with photon(tmp_path, "--num-procs", "2", "--port", str(port),
                    "--redis-url", redisd.url) as parent:
            wait_until(lambda: len(children(parent.pid)) == 2, timeout=120,
                       what="two forked workers")
            workers = children(parent.pid)
            wait_until(lambda: get_json(f"http://127.0.0.1:{port}/health")[1]["state"]
                       == "relay_down", timeout=120, what="the workers answering")
            parent.send_signal(signal.SIGTERM)  # the parent only: workers used to stay
            parent.wait(30)
            wait_until(lambda: group_gone(parent.pid), timeout=60, what="workers gone")
            assert not any(os.path.exists(f"/proc/{w}") for w in workers)
            assert not listening(port)


def test_a_child_of_the_supervisor_dies_with_it_even_after_kill_9(tmp_path):
    """What ``follow_supervisor`` promises, on a stand-in supervisor (no server needed)."""
    child = ("import time; from app.relay import supervisor as procs; procs.follow_supervisor(); "
             "print('ready', flush=True); time.sleep(120)")
    parent = ("import os, subprocess, sys, time; "
              f"env = {{**os.environ, {procs.SUPERVISOR_ENV!r}: str(os.getpid())}}; "
              f"c = subprocess.Popen([sys.executable, '-c', {child!r}], env=env); "
              "print(c.pid, flush=True); time.sleep(120)")
    sup = subprocess.Popen([sys.executable, "-c", parent], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pid = int(sup.stdout.readline())
        assert sup.stdout.readline().strip() == "ready"  # the child asked the kernel
        sup.kill()
        sup.wait(10)
        wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=30,
                   what="the child gone with its supervisor")
    finally:
        if sup.poll() is None:
            sup.kill()


def test_a_process_whose_supervisor_already_exited_stops_at_once():
    # It compares with the supervisor's PID, not with 1: as a container's entry point
    # the supervisor is PID 1, and its children must not take that for "orphaned".
    code = ("import os, time; from app.relay import supervisor as procs; "
            "procs.follow_supervisor({'PHOTON_SUPERVISOR_PID': str(os.getppid())}); "
            "print('alive', flush=True); "
            "procs.follow_supervisor({'PHOTON_SUPERVISOR_PID': str(os.getppid() + 1)}); "
            "time.sleep(60)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (done.stdout, done.returncode) == ("alive\n", -signal.SIGTERM)


def test_a_forked_worker_knows_its_parent_and_gets_its_own_process_id():
    parent, parent_id = os.getpid(), process.process_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report and leave at once, without pytest's cleanup
        os.write(write, json.dumps([process.parent_pid(), process.process_id()]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        seen_parent, seen_id = json.loads(f.read())
    os.waitpid(pid, 0)
    assert seen_parent == parent
    assert seen_id != parent_id and process.process_id() == parent_id


def namespace_processes(init: int) -> dict[int, str]:
    """``init`` and every process under it (outside PID -> state letter, "Z": zombie).

    In a PID namespace that is every process in it: orphans are handed to its init.
    """
    stats: dict[int, tuple[int, str]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        stats[int(entry)] = (int(ppid), state)
    found, todo = {}, [init]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found[pid] = stats[pid][1]
            todo += [p for p, (ppid, _) in stats.items() if ppid == pid]
    return found


def unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not unshare_works(), reason="needs unshare --pid (root, Linux)")
def test_procs_as_pid_1_reaps_orphans_and_stops_everything_on_sigterm(tmp_path):
    """``photon --procs 2`` as a container's entry point: PID 1 of its own PID namespace."""
    with redis_server(tmp_path) as redisd:
        port = free_port(2)
        with photon(tmp_path, "--procs", "2", "--port", str(port), "--redis-url", redisd.url,
                    wrap=("unshare", "--pid", "--fork", "--mount-proc")) as outer:
            wait_for_servers(tmp_path, port, port + 1, timeout=180)
            [init] = children(outer.pid)
            with open(f"/proc/{init}/status") as f:
                assert re.search(r"^NSpid:\s+\d+\s+1$", f.read(), re.M)  # PID 1 inside
            started = set(namespace_processes(init)) - {init}
            assert len(started) == 3, started  # a relay and two servers
            # An orphan, as a container gets them: a shell that leaves a short job behind.
            # Its parent gone, the kernel hands it to PID 1, which must reap it when it ends.
            subprocess.run(["nsenter", "-t", str(init), "-p", "-m", "--",
                            "sh", "-c", "sleep 0.5 & exit 0"], check=True, timeout=30)
            wait_until(lambda: set(namespace_processes(init)) == started | {init},
                       timeout=30, what="the orphan reaped, no zombie left under PID 1")
            assert "Z" not in namespace_processes(init).values()
            os.kill(init, signal.SIGTERM)
            assert outer.wait(60) == 0  # unshare exits with its child's status
            # Stopped one by one, not killed with the namespace: the relay let go of its lock.
            assert not redisd.client().exists("photon:relay:lock")
            assert not any(os.path.exists(f"/proc/{p}") for p in started)
            assert not listening(port) and not listening(port + 1)


@pytest.mark.parametrize("args", [("--procs", "2"), ("--num-procs", "2")])
def test_several_processes_without_redis_is_one_line(tmp_path, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTON_")}
    done = subprocess.run([sys.executable, "-m", "app", *args], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("photon: several processes need --redis-url")
