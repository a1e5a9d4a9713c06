"""Load worker: holds N live sessions against one server and measures what they receive.

Run by :mod:`bench.run` as a subprocess (one or more per cell), it speaks a line
protocol: it prints JSON events on stdout and reads one command on stdin.

1. connect sessions in ramped batches (each batch must be live before the next);
   print ``{"event": "ramped", ...}``;
2. read ``{"w0": t, "w1": t, "end": t}`` (Unix seconds): the measurement window;
3. count what arrives until ``end``, close every session, print ``{"event": "result", ...}``.

Servers (``--server``), one runner each:

``photon``
    :mod:`bench.clients.photon_client`: real Bokeh sessions (:mod:`bench.clients.bokeh_protocol`),
    with the fast lane when the page names one (:mod:`bench.clients.fastlane_client`).
``tornado``, ``socketio``
    :mod:`bench.clients.ref_clients`, for bench/servers/ref_tornado.py and
    bench/servers/ref_socketio.py.

Slow clients (``--slow M``, photon only, :mod:`bench.clients.slow_client`) complete the
handshake and the document request with a 4 KiB receive buffer, then never read the
socket again.

What is counted, and how latency is split, is in :mod:`bench.clients.load_stats`. The session
lifecycle here (:func:`run_one`, :func:`ramp`, :func:`close`, :func:`emit`) is shared by
:mod:`bench.drills.churn` and :mod:`bench.sessionstart`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

import aiohttp

from bench.clients.load_stats import INF, Session, W, window_figures
from bench.clients.photon_client import photon_session
from bench.clients.ref_clients import socketio_session, tornado_session
from bench.clients.slow_client import slow_session
from bench.common import symbols_for, universe

RUNNERS = {"photon": photon_session, "tornado": tornado_session,
           "socketio": socketio_session}


async def run_one(sess: Session, runner, http, base) -> None:
    try:
        await runner(sess, http, base)
    except asyncio.CancelledError:
        raise
    except Exception as e:  # noqa: BLE001 - recorded per session, reported in the table
        sess.err = sess.err or f"{type(e).__name__}: {e}"[:200]
    finally:
        sess.ready.set()


async def close(sess: Session) -> None:
    ws = sess.ws
    try:
        if isinstance(ws, list):
            for w in ws:
                w.close()
        elif isinstance(ws, asyncio.StreamWriter):
            ws.close()
        elif ws is not None and hasattr(ws, "disconnect"):
            await asyncio.wait_for(ws.disconnect(), 5)
        elif ws is not None:
            await asyncio.wait_for(ws.close(), 5)
    except Exception:  # noqa: BLE001, S110 - closing anyway
        pass
    if sess.fast is not None:
        sess.fast.cancel()
    if sess.task is not None:
        sess.task.cancel()


async def ramp(sessions: list[Session], runner, http, base: str, batch: int,
               timeout: float, session_timeout: float) -> None:
    """Start ``sessions`` in batches of ``batch``, each batch live (or failed, or
    ``session_timeout`` past) before the next starts; stop starting after ``timeout``."""
    deadline = time.monotonic() + timeout
    for b in range(0, len(sessions), batch):
        group = sessions[b:b + batch]
        for s in group:
            s.task = asyncio.create_task(run_one(s, runner, http, base))
        left = deadline - time.monotonic()
        if left <= 0:
            break
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in group)),
                                   min(left, session_timeout))


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(args) -> None:
    syms = universe()
    runner = RUNNERS[args.server]
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as http:
        sessions = [Session(args.first + j, symbols_for(args.first + j, args.k, syms))
                    for j in range(args.count)]
        t0 = time.monotonic()
        await ramp(sessions, runner, http, args.base, args.batch, args.ramp_timeout,
                   args.session_timeout)
        ramp_s = time.monotonic() - t0
        slow = [Session(-1 - j, symbols_for(j, args.k, syms)) for j in range(args.slow)]
        for s in slow:
            s.task = asyncio.create_task(run_one(s, slow_session, http, args.base))
        if slow:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in slow)), 60)
        emit({"event": "ramped", "ready": sum(s.ready.is_set() and not s.err
                                              for s in sessions),
              "ramp_s": round(ramp_s, 2), "slow_ok": sum(s.ok for s in slow),
              "slow_ports": [p for s in slow for p in (s.port or [])],
              "errors": sorted({s.err for s in sessions + slow if s.err})[:5]})

        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line.strip():
            return
        cmd = json.loads(line)
        W.w0, W.w1, W.end = cmd["w0"], cmd["w1"], cmd["end"]
        await asyncio.sleep(max(0.0, W.end - time.time()))
        for s in sessions:
            s.max_gap = s.gaps.close(W.w0, W.w1)
        W.w0 = W.w1 = INF  # stop counting
        await asyncio.gather(*(close(s) for s in sessions + slow))
        await asyncio.sleep(0.2)

    emit({"event": "result", "sessions": [s.summary() for s in sessions],
          **window_figures(cmd["w0"], cmd["w1"]),
          "slow": [s.summary() for s in slow],
          "errors": sorted({s.err for s in sessions + slow if s.err})[:5]})


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", choices=sorted(RUNNERS), required=True)
    p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--first", type=int, default=0, help="index of the first session")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--k", type=int, default=10, help="symbols per session")
    p.add_argument("--batch", type=int, default=20, help="sessions connected at once")
    p.add_argument("--slow", type=int, default=0, help="slow clients (never read)")
    p.add_argument("--ramp-timeout", type=float, default=300.0)
    p.add_argument("--session-timeout", type=float, default=60.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse()))
