"""What a Photon session costs the garbage collector: tracked objects per session, by type.

Runs the real app as ``photon`` starts it, plus one bench-only route (this module as a
Panel plugin: ``/bench/gc``) through which the server reports its own heap; the
sessions are opened from a separate load worker (``bench.clients.load``, the Bokeh protocol
plus the fast lane, as the capacity bench opens them), so no client object is counted.

1. one warm-up session, closed and reaped;
2. N sessions open: tracked objects per session, the types that grew most, and how
   long a full collection takes with them live, and after ``gc.freeze()``;
3. all closed and reaped: objects left per closed session (a leak shows here).

    python -m bench.gcobjects --sessions 100
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tornado.web import RequestHandler

from bench.common import ROOT, ServerProc, get_json, photon_server


def tracked() -> int:
    """Objects the cyclic collector tracks after a full collection."""
    gc.collect()
    return len(gc.get_objects())


def by_type() -> collections.Counter[str]:
    """Tracked objects per ``module.Type`` (top-level package only)."""
    def name(o: object) -> str:
        t = type(o)
        return f"{str(getattr(t, '__module__', '?')).split('.')[0]}.{t.__qualname__}"
    return collections.Counter(name(o) for o in gc.get_objects())


def full_collection_ms(repeat: int = 3) -> float:
    """The shortest of ``repeat`` full collections, in ms (the floor of a pause)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


class GcHandler(RequestHandler):
    """``GET /bench/gc``: the server's own heap as its collector sees it (bench only)."""

    def get(self) -> None:
        from app.runtime import gcpolicy

        gc.unfreeze()  # count and time the whole heap, whatever the app's policy froze
        body = {"tracked": tracked(), "full_ms": full_collection_ms(), "types": by_type()}
        if self.get_query_argument("freeze", ""):
            # What gc.freeze() after the sessions were built buys: a full collection
            # then skips every frozen object.
            gc.freeze()
            body["frozen"] = gc.get_freeze_count()
            body["full_ms_frozen"] = full_collection_ms()
        if gcpolicy.get() is not None:
            gc.freeze()  # as the app's policy left it
        else:
            gc.unfreeze()
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def live_counts() -> dict:
    """What the heap holds right now, without collecting: every tracked object (frozen
    ones too), Bokeh documents and server sessions alive. A closed session's objects
    count here until a collection (the policy's reclaim) frees them."""
    from bokeh.document import Document
    from bokeh.server.session import ServerSession

    was_enabled = gc.isenabled()
    gc.disable()  # no collection between unfreeze and freeze: the policy's state stays
    try:
        frozen = gc.get_freeze_count()
        gc.unfreeze()  # gc.get_objects() does not list the permanent generation
        objs = gc.get_objects()
        docs = sum(isinstance(o, Document) for o in objs)
        sessions = sum(isinstance(o, ServerSession) for o in objs)
        body = {"tracked": len(objs), "frozen": frozen, "documents": docs,
                "server_sessions": sessions}
        del objs
        if frozen:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    return body


class LiveHandler(RequestHandler):
    """``GET /bench/gc/live``: :func:`live_counts` and the GC policy's counters (bench
    only). Collects nothing, so it shows what the app's policy leaves in memory."""

    def get(self) -> None:
        from app.hub.hub import get_hub
        from app.runtime import gcpolicy

        body = live_counts()
        hub = get_hub()
        body["hub_opened"], body["hub_closed"] = hub.sessions_opened, hub.sessions_closed
        policy = gcpolicy.get()
        if policy is not None:
            body["reclaims"], body["freezes"] = policy.reclaims, policy.freezes
            body["last_reclaim_ms"] = round(policy.last_reclaim_ms, 1)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


#: Loaded by ``panel serve --plugins bench.gcobjects`` in the server under test only.
ROUTES = [("/bench/gc", GcHandler, {}), ("/bench/gc/live", LiveHandler, {})]


def serve(logdir: Path) -> ServerProc:
    """Photon as users start it, plus the ``/bench/gc`` route."""
    server = photon_server(100, logdir)
    server.cmd += ["--plugins", "bench.gcobjects"]
    return server.start()


def open_sessions(base: str, n: int, first: int = 0, need: float = 1.0) -> subprocess.Popen:
    """A load worker holding ``n`` live sessions until its stdin closes (at least
    ``need`` of them live, or it stops; ``proc.ready`` says how many were)."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.clients.load", "--server", "photon",
                             "--base", base, "--count", str(n), "--first", str(first)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        msg = json.loads(line)
        if msg.get("event") == "ramped":
            if msg["ready"] < need * n:
                proc.kill()
                raise SystemExit(f"only {msg['ready']} of {n} sessions live: {msg['errors']}")
            proc.ready = msg["ready"]  # type: ignore[attr-defined]
            return proc
    raise SystemExit("load worker ended before its sessions were live")


def close_sessions(proc: subprocess.Popen, base: str, timeout: float = 60.0) -> None:
    """End the worker and wait until the server has reaped every session."""
    proc.stdin.write("\n")
    proc.stdin.close()
    proc.wait(30)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = get_json(base + "/health") or {}
        if health.get("sessions") == 0:
            return
        time.sleep(0.5)
    raise SystemExit(f"sessions not reaped after {timeout:.0f} s: {health}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--top", type=int, default=20, help="types to list")
    args = p.parse_args(argv)
    os.environ.setdefault("PHOTON_MOCK_SEED", "11")
    logdir = ROOT / "bench" / "out" / time.strftime("gc-%Y%m%d-%H%M%S")
    server = serve(logdir)
    base = server.base

    def heap(freeze: bool = False) -> tuple[int, float, collections.Counter[str]]:
        body = get_json(base + "/bench/gc" + ("?freeze=1" if freeze else ""), timeout=120)
        if freeze:
            frozen.append(body["full_ms_frozen"])
        return body["tracked"], body["full_ms"], collections.Counter(body["types"])

    frozen: list[float] = []

    try:
        close_sessions(open_sessions(base, 1), base)  # imports, hub, first-page caches
        idle, idle_ms, idle_types = heap()
        worker = open_sessions(base, args.sessions)
        time.sleep(2)  # let every session's first updates land
        live, live_ms, live_types = heap(freeze=True)
        close_sessions(worker, base)
        time.sleep(1)
        after, _, after_types = heap()
        n = args.sessions
        print(f"load average {os.getloadavg()[0]:.2f}; {n} sessions")
        print(f"tracked objects: idle {idle}, {n} live {live} "
              f"({(live - idle) / n:.0f} per session), all closed {after} "
              f"({(after - idle) / n:+.1f} per closed session)")
        print(f"full collection: {idle_ms:.1f} ms idle, {live_ms:.1f} ms with {n} live "
              f"({(live_ms - idle_ms) / n * 1000:.0f} us per session); {frozen[0]:.1f} ms with "
              f"the same heap after gc.freeze()")
        diff = live_types - idle_types
        print(f"per session, the {args.top} types that grew most:")
        for name, count in diff.most_common(args.top):
            print(f"  {count / n:8.1f}  {name}")
        pkgs: collections.Counter[str] = collections.Counter()
        for name, count in diff.items():
            pkgs[name.split(".")[0]] += count
        print("per session by package: " + ", ".join(
            f"{k} {v / n:.0f}" for k, v in pkgs.most_common(10)))
        left = after_types - idle_types
        if left:
            print("left after closing, the types that grew most: " + ", ".join(
                f"{name} {count}" for name, count in left.most_common(8)))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
