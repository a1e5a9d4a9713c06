"""What a live Photon session holds in memory: a cheap stand-in for the ``t1000`` cell's
RSS per session, with what makes it up.

Runs Photon as the bench starts it (``bench.common.photon_server``, cadence pinned at
1 s, history in a new file of the run's own unless ``--history``), plus one bench-only
route (this module as a Panel plugin: ``/bench/mem``) through which the server reports
on its own heap. Sessions come from load workers (``bench.load``, as the capacity bench
opens them), so no client object is counted.

1. one warm-up session, opened, closed and reaped (imports, first-page caches);
2. ``--sessions`` sessions (default 100, then 300: cumulative), and at each step, after
   a full collection, per session added since the step before: RSS; the boards'
   snapshots (JSON text) still held, the first-paint HTML still in documents and the
   first paint's cache of drawn lines; glibc's heap in use and free but kept (holes
   left by freed strings); Python's allocated blocks;
3. with ``--trace``: tracemalloc started after the warm-up, a snapshot at each step,
   and the allocation sites (``--frames`` deep, innermost first) that grew most
   between the last two, per session added. Tracing slows session building a lot:
   ``--frames 1`` holds up with ``--sessions 20,60``; deeper tracebacks want fewer
   sessions (``--frames 10 --sessions 5,15``).

    python -m bench.sessionmem                        # the work tree
    python -m bench.sessionmem --rev f9bbb09          # a commit's app (git archive)
    python -m bench.sessionmem --trace --frames 1 --sessions 20,60
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

from tornado.web import RequestHandler

from bench.common import ROOT, ServerProc, get_json, photon_server
from bench.gcobjects import close_sessions, open_sessions


def rss_mb() -> float:
    """This process's resident set, MiB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def held() -> dict:
    """Bytes of the strings sessions hold that grow with the sparklines: the boards'
    snapshots (JSON text), the first-paint HTML still in documents, and the first
    paint's process-wide cache of drawn lines."""
    from bokeh.document import Document

    boards = snapshot = pages = 0
    for o in gc.get_objects():
        if type(o).__name__ == "BoardView" and hasattr(o, "snapshot"):
            boards += 1
            snapshot += sys.getsizeof(o.snapshot)
        elif isinstance(o, Document):
            pages += sum(sys.getsizeof(v) for v in o.template_variables.values()
                         if isinstance(v, str))
    out = {"boards": boards, "snapshot_kib": snapshot / 1024, "page_html_kib": pages / 1024}
    first_paint = sys.modules.get("app.views.first_paint")
    lines = getattr(first_paint, "_LINES", None)
    if lines is not None:
        out["spark_cache_kib"] = sum(sys.getsizeof(v) for v in lines.values()) / 1024
    return out


def malloc_mb() -> dict:
    """glibc's heap: in use, free but kept (not returned to the system), mmapped; MiB."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        m = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"in_use": round(m.uordblks / 2**20, 3), "free_kept": round(m.fordblks / 2**20, 3),
            "mmapped": round(m.hblkhd / 2**20, 3)}


class MemHandler(RequestHandler):
    """``GET /bench/mem``: RSS after a full collection; ``?trim=1``: after glibc's
    ``malloc_trim(0)`` too; ``?start=N`` starts tracemalloc with N frames; ``?dump=PATH``
    writes a snapshot there (bench only)."""

    def get(self) -> None:
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        gc.collect()
        body: dict = {"held": held()}
        if frozen:
            gc.freeze()  # as the app's policy left it
        if self.get_query_argument("trim", ""):  # what glibc could give back (holes)
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        if frames := int(self.get_query_argument("start", "0")):
            tracemalloc.start(frames)
        if dump := self.get_query_argument("dump", ""):
            tracemalloc.take_snapshot().dump(dump)
            body["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
            body["tracemalloc_mb"] = tracemalloc.get_tracemalloc_memory() / 2**20
        body["rss_mb"] = rss_mb()
        body["malloc"] = malloc_mb()
        body["pymalloc_blocks"] = sys.getallocatedblocks()
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


#: Loaded by ``--plugins bench.sessionmem`` in the server under test only.
ROUTES = [("/bench/mem", MemHandler, {})]


def serve(logdir: Path, src: Path | None, history: str, trace: bool) -> ServerProc:
    server = photon_server(1000, logdir, src=src)
    if trace:  # tracemalloc slows session building: no session reaped before its socket
        i = server.cmd.index("--unused-session-lifetime")
        server.cmd[i + 1] = "20000"
    server.env["PHOTON_MAX_PUSH_INTERVAL_MS"] = "1000"
    server.env["PHOTON_HISTORY"] = history
    if src is not None:  # the commit's app first, this bench module after it
        server.env["PYTHONPATH"] = f"{src}{os.pathsep}{ROOT}"
    server.cmd += ["--plugins", "bench.sessionmem"]
    return server.start()


def top_growth(before: Path, after: Path, per: int, frames: int, top: int) -> list[str]:
    """The allocation sites that grew most from ``before`` to ``after``, per session."""
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")]
    a = tracemalloc.Snapshot.load(str(before)).filter_traces(ignore)
    b = tracemalloc.Snapshot.load(str(after)).filter_traces(ignore)
    out = []
    for stat in b.compare_to(a, "traceback")[:top]:
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}"
                            for f in list(stat.traceback)[::-1][:frames])
        out.append(f"{stat.size_diff / per / 1024:8.1f} KiB {stat.count_diff / per:7.1f} "
                   f"blocks  {where}")
    by_file: dict[str, int] = {}
    for stat in b.compare_to(a, "filename"):
        by_file[stat.traceback[0].filename] = stat.size_diff
    out.append("by file (innermost frame): " + ", ".join(
        f"{Path(k).name} {v / per / 1024:.1f}"
        for k, v in sorted(by_file.items(), key=lambda kv: -kv[1])[:12]) + " KiB")
    return out


def per_session(a: dict, b: dict, n: int) -> str:
    """The growth from report ``a`` to report ``b`` of ``/bench/mem``, per session."""
    def kib(x: float) -> str:
        return f"{x / n:.1f}"

    ha, hb = a["held"], b["held"]
    ma, mb = a.get("malloc") or {}, b.get("malloc") or {}
    out = [f"RSS {(b['rss_mb'] - a['rss_mb']) / n:.3f} MiB",
           f"snapshots held {kib(hb['snapshot_kib'] - ha['snapshot_kib'])} KiB",
           f"first-paint HTML held {kib(hb['page_html_kib'] - ha['page_html_kib'])} KiB"]
    if "spark_cache_kib" in hb:
        out.append(f"drawn-line cache {kib(hb['spark_cache_kib'] - ha.get('spark_cache_kib', 0))}"
                   " KiB")
    if mb:
        out.append(f"malloc in use {kib((mb['in_use'] - ma['in_use']) * 1024)} KiB, free "
                   f"but kept {kib((mb['free_kept'] - ma['free_kept']) * 1024)} KiB")
    out.append(f"Python blocks {(b['pymalloc_blocks'] - a['pymalloc_blocks']) / n:.0f}")
    return "; ".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", default="100,300", help="cumulative steps")
    p.add_argument("--rev", default="", help="a commit's app (git archive) instead of "
                   "the work tree's")
    p.add_argument("--trace", action="store_true", help="tracemalloc snapshots")
    p.add_argument("--frames", type=int, default=1)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--trim", action="store_true", help="malloc_trim(0) before each "
                   "reading: RSS without the heap's free pages (what trimming would give)")
    p.add_argument("--history", default="", help="PHOTON_HISTORY (default: a new file "
                   "in the run's directory, not the user's store)")
    args = p.parse_args(argv)
    from bench.cells import export_rev

    logdir = ROOT / "bench" / "out" / time.strftime("mem-%Y%m%d-%H%M%S")
    logdir.mkdir(parents=True, exist_ok=True)
    src = export_rev(args.rev) if args.rev else None
    server = serve(logdir, src, args.history or str(logdir / "history.sqlite3"),
                   args.trace)
    base = server.base
    steps = [int(s) for s in args.sessions.split(",")]
    workers = []
    try:
        close_sessions(open_sessions(base, 1), base)  # imports, hub, first-page caches
        q = "&".join(([f"start={args.frames}"] if args.trace else [])
                     + (["trim=1"] if args.trim else []))
        mem = get_json(base + "/bench/mem?" + q, timeout=120)
        print(f"{args.rev or 'work tree'}: idle RSS {mem['rss_mb']:.1f} MiB")
        rows = [(0, mem, None)]
        for n in steps:
            have, before = rows[-1][0], rows[-1][1]
            workers.append(open_sessions(base, n - have, first=have))
            time.sleep(3)  # every session's first updates land
            dump = logdir / f"snap-{n}.bin"
            q = "&".join(([f"dump={dump}"] if args.trace else [])
                         + (["trim=1"] if args.trim else []))
            mem = get_json(base + "/bench/mem?" + q, timeout=300)
            rows.append((n, mem, dump if args.trace else None))
            print(f"{n} sessions (load average {os.getloadavg()[0]:.2f}): RSS "
                  f"{mem['rss_mb']:.1f} MiB; per session added: "
                  + per_session(before, mem, n - have), flush=True)
            if args.trace:
                print(f"  traced {mem['traced_mb']:.1f} MiB (tracemalloc's own "
                      f"{mem['tracemalloc_mb']:.1f} MiB, in the RSS)")
        if args.trace and len(rows) >= 3:
            (n0, _, a), (n1, _, b) = rows[-2], rows[-1]
            print(f"grew most from {n0} to {n1} sessions (per session added):")
            for line in top_growth(a, b, n1 - n0, args.frames, args.top):
                print("  " + line)
    finally:
        for w in workers:
            if w.poll() is None:
                w.stdin.close()
                w.wait(30)
        server.stop()
    print(f"log and snapshots: {logdir}")


if __name__ == "__main__":
    main()
