"""What building one session's page costs, in-process: a quick, quiet stand-in for
``bench.sessionstart``'s CPU per session opened.

    python -m bench.sessionbuild                      # the work tree
    python -m bench.sessionbuild --rev c4caa9b --rev .   # alternating, one run

Each revision runs in a process of its own (its ``app/`` first on the path), with the
hub on the mock feed and a day of history in memory (the mock's seeded points), and
builds the board page as ``app/main.py`` does for a served session: the dashboard with
10 symbols, its first-paint HTML, its Bokeh models in a document; then serialises the
document as the browser's pull gets it. Reported per page: CPU ms to build (best and
median of ``--batches`` batches of ``--builds``; CPU time, so other load on the machine
counts less than in wall-clock figures), CPU ms to serialise the pull, its size, Bokeh
models, and objects the garbage collector tracks per live page. With ``--rev`` given
twice or more, the revisions' processes take turns batch by batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench.cells import export_rev
from bench.common import ROOT

SYMBOLS = "AAPL,TSLA,GOOGL,MSFT,AMZN,NVDA,META,NFLX,AMD,INTC"


def child(batches: int, builds: int) -> None:
    """Runs in the measured revision's process: one JSON line per batch on stdout,
    after a line "ready"; a line on stdin starts each batch."""
    import gc

    import panel as pn
    from bokeh.document import Document
    from bokeh.protocol import Protocol
    from bokeh.settings import settings as bokeh_settings
    from panel.io.state import set_curdoc

    from app.config import get_settings
    from app.hub.hub import get_hub
    from app.views import first_paint
    from app.views.dashboard import Dashboard

    pn.extension()
    bokeh_settings.perform_error_diagnostics.set_value(False)  # as app_hooks does
    settings = get_settings()
    hub = get_hub(settings)
    time.sleep(2)  # a few hub cycles: prices and points to show

    def build() -> Document:
        doc = Document()
        with set_curdoc(doc):
            dash = Dashboard(hub=hub, symbols=SYMBOLS, max_symbols=settings.max_symbols,
                             sync_url=True, max_width=1100)
            dash.status.param.update(health_url="../health", title="Photon",
                                     subtitle="live market board")
            first_paint.install(doc, dash)
            doc.add_root(dash.__panel__().get_root(doc))
            doc.title = "Photon"
        return doc

    for _ in range(5):
        build()
    print("ready", flush=True)
    for _ in range(batches):
        sys.stdin.readline()
        gc.collect()
        tracked0 = len(gc.get_objects())
        c0 = time.process_time()
        docs = [build() for _ in range(builds)]
        build_ms = (time.process_time() - c0) / builds * 1000
        c0 = time.process_time()
        sizes = [len(Protocol().create("PULL-DOC-REPLY", "x", d).content_json)
                 for d in docs]
        pull_ms = (time.process_time() - c0) / builds * 1000
        gc.collect()
        per_page = (len(gc.get_objects()) - tracked0) / builds  # what a live page holds
        kept = build()
        print(json.dumps({"build_ms": build_ms, "pull_ms": pull_ms, "pull_kb": sizes[-1] / 1024,
                          "models": len(kept.models), "tracked": per_page}), flush=True)
    hub.stop()


def start(rev: str, args) -> subprocess.Popen:
    src = None if rev == "." else export_rev(rev)
    path = f"{src}{os.pathsep}{ROOT}" if src else str(ROOT)
    env = {**os.environ, "PYTHONPATH": path, "PHOTON_FEED": "mock", "PHOTON_MOCK_SEED": "11"}
    proc = subprocess.Popen([sys.executable, "-m", "bench.sessionbuild", "--child",
                             "--batches", str(args.batches), "--builds", str(args.builds)],
                            cwd=src or ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc
    raise SystemExit(f"{rev}: the build process ended before it was ready")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rev", action="append", default=[],
                   help="a git revision of app/ ('.': the work tree); repeat to compare")
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--builds", type=int, default=10, help="pages per batch")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.batches, args.builds)
        return
    revs = args.rev or ["."]
    procs = {rev: start(rev, args) for rev in revs}
    got: dict[str, list[dict]] = {rev: [] for rev in revs}
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')}, load average {os.getloadavg()[0]:.2f}")
    for _ in range(args.batches):
        for rev, proc in procs.items():  # turn by turn: load changes hit both alike
            proc.stdin.write("\n")
            proc.stdin.flush()
            got[rev].append(json.loads(proc.stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait(30)
    print("| revision | build CPU ms, best / median | pull CPU ms, best | pull KiB | "
          "Bokeh models | tracked objects per page |")
    print("|---|---|---|---|---|---|")
    for rev, rows in got.items():
        b = [r["build_ms"] for r in rows]
        print(f"| {rev} | {min(b):.1f} / {statistics.median(b):.1f} | "
              f"{min(r['pull_ms'] for r in rows):.1f} | {rows[-1]['pull_kb']:.0f} | "
              f"{rows[-1]['models']} | {statistics.median(r['tracked'] for r in rows):.0f} |")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
