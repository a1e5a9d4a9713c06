"""``photon --procs N`` and ``--num-procs``: one market in every process, none left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

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
def photon(tmp_path, *args: str):
    """``python -m app ARGS`` in its own process group, as a terminal would run it."""
    log = (tmp_path / "photon.log").open("w")
    env = {**os.environ, "PHOTON_MOCK_SEED": "9", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app", *args], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if not group_gone(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        log.close()


def ports_up(*ports: int) -> bool:
    return all(listening(p) and get_json(f"http://127.0.0.1:{p}/health")[0] == 200
               for p in ports)


def trades_seen(port: int, seconds: float) -> dict[float, float]:
    """Trade time -> price of the IBM trades a session on ``port`` is shown over ``seconds``.

    IBM trades about 1.5 times a second, so whatever the cadence each server shows most
    of its trades; a trade shown by two servers has the same time and price only if
    they read one market.
    """
    session = RawSession(f"http://127.0.0.1:{port}/app?symbols=IBM")
    lane = session.open_fast_lane()
    lane.settimeout(1.0)
    seen: dict[float, float] = {}
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                msg = json.loads(lane.recv())
            except Exception:  # a timeout between cycles
                continue
            seen.update({row["ts"]: row["last"] for row in msg.get("rows", [])
                         if row.get("ts") and row.get("last")})
    finally:
        lane.close()
        session.close()
    return seen


def test_procs_serve_one_market_and_sigterm_stops_every_process(tmp_path):
    with redis_server(tmp_path) as redisd:
        port = free_port()
        while listening(port + 1):
            port = free_port()
        with photon(tmp_path, "--procs", "2", "--port", str(port),
                    "--redis-url", redisd.url) as supervisor:
            wait_until(lambda: ports_up(port, port + 1), timeout=180, what="two servers")
            # The relay names its upstream with its first heartbeat, just after start.
            wait_until(lambda: get_json(f"http://127.0.0.1:{port}/health")[1]["upstream"]
                       == "mock", what="the relay's upstream named")
            with ThreadPoolExecutor(2) as pool:  # two tabs, watching at the same time
                a, b = pool.map(lambda p: trades_seen(p, 6), (port, port + 1))
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
        port = free_port()
        with photon(tmp_path, "--procs", "2", "--port", str(port),
                    "--redis-url", redisd.url) as supervisor:
            wait_until(lambda: ports_up(port, port + 1), timeout=180, what="two servers")
            os.killpg(supervisor.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
            supervisor.wait(30)
            wait_until(lambda: group_gone(supervisor.pid), timeout=60, what="no process left")
        wait_until(lambda: not redisd.client().exists("photon:relay:lock"), timeout=10,
                   what="the relay let go of its lock")


def test_num_procs_workers_do_not_outlive_the_server(tmp_path):
    # Forked workers sometimes never come up on a loaded machine (seen about one run in
    # four in CI-like runs, cause not found yet): start over once before judging.
    with redis_server(tmp_path) as redisd:
        for attempt in (1, 2):
            port = free_port()
            with photon(tmp_path, "--num-procs", "2", "--port", str(port),
                        "--redis-url", redisd.url) as parent:
                try:
                    wait_until(lambda p=port: ports_up(p), timeout=90, what="the workers")
                except AssertionError:
                    if attempt == 2:
                        raise
                    continue  # the context manager kills this attempt's process group
                parent.send_signal(signal.SIGTERM)  # the parent only: workers used to stay
                parent.wait(30)
                wait_until(lambda: group_gone(parent.pid), timeout=60, what="workers gone")
                assert not listening(port)
                return


@pytest.mark.parametrize("args", [("--procs", "2"), ("--num-procs", "2")])
def test_several_processes_without_redis_is_one_line(tmp_path, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTON_")}
    done = subprocess.run([sys.executable, "-m", "app", *args], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("photon: several processes need --redis-url")
