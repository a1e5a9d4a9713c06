"""Where a session's opening goes: py-spy on a live server while sessions open.

    python -m bench.sessionprofile --live 300 --open 200
    python -m bench.sessionprofile --rev c4caa9b --rev .   # one after the other

1. A fresh Photon server (as ``photon`` starts it) and ``--live`` sessions held live by
   a load worker (``bench.load``: Bokeh protocol and fast lane, 10 symbols each).
2. ``--open`` more sessions from a second worker (batches of 20) while
   ``py-spy record --format raw`` samples the server: the server's CPU per session
   opened, and the functions with the most inclusive and self time (``bench.profile``).

py-spy comes from ``pip install py-spy`` (bench/requirements.txt); it needs ptrace
rights over the server (it is our own child, which is enough on most hosts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.cells import export_rev
from bench.common import ROOT, as_users_start_it, opening_ms, photon_server
from bench.gcobjects import close_sessions, open_sessions
from bench.gcpause import gen2_pauses, p99_bound
from bench.profile import print_profile, summarise_collapsed


def pyspy() -> str:
    """The py-spy beside this Python (a venv's bin), else on PATH."""
    here = Path(os.sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy not found: pip install py-spy")
    return found


def run(args, label: str, src: Path | None) -> None:
    logdir = ROOT / "bench" / "out" / time.strftime("sprof-%Y%m%d-%H%M%S")
    server = as_users_start_it(photon_server(args.push_ms, logdir, src=src)).start()
    print(f"\n=== {label} ===", flush=True)
    try:
        close_sessions(open_sessions(server.base, 1), server.base)  # warm-up
        live = open_sessions(server.base, args.live, first=1, need=0.99)
        time.sleep(2)
        raw = logdir / "opening.txt"
        spy = subprocess.Popen([pyspy(), "record", "--format", "raw", "--threads",
                                "--rate", str(args.rate), "--nonblocking",
                                "--pid", str(server.proc.pid),
                                "--output", str(raw)],
                               stdout=subprocess.DEVNULL,
                               stderr=(logdir / "py-spy.log").open("w"))
        time.sleep(1)
        c0, t0 = server.cpu_seconds(), time.monotonic()
        time.sleep(5)  # the live sessions on their own, to take out of the opening's CPU
        live_rate = (server.cpu_seconds() - c0) / (time.monotonic() - t0)
        gc0 = gen2_pauses(server.base)
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        more = open_sessions(server.base, args.open, first=1 + args.live, need=0.99)
        took = time.monotonic() - t0
        cpu = server.cpu_seconds() - cpu0
        gc1 = gen2_pauses(server.base)
        full = {k: gc1.get(k, 0) - gc0.get(k, 0) for k in gc1}
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT, not SIGTERM
        spy.wait(60)
        print(f"load average {os.getloadavg()[0]:.2f}; {more.ready} sessions opened in "
              f"{took:.1f} s beside {live.ready} live: server CPU {cpu / more.ready * 1000:.0f}"
              f" ms per session opened (with the live ones' updates meanwhile), "
              f"{opening_ms(cpu, live_rate, took, more.ready):.0f} ms above the live ones' "
              f"own {live_rate * 100:.0f} %; RSS {server.rss_mb():.0f} MB", flush=True)
        print(f"full collections while they opened: {full.get('count', 0):.0f}, "
              f"{full.get('sum', 0) * 1000:.0f} ms in all, p99 {p99_bound(full)} "
              f"(the server's photon_gc_pause_seconds)", flush=True)
        print_profile(f"the opening of {more.ready} sessions ({label})",
                      summarise_collapsed(raw, top=args.top))
        for worker in (more, live):
            worker.stdin.write("\n")
            worker.stdin.close()
            worker.wait(60)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--live", type=int, default=300, help="sessions held live throughout")
    p.add_argument("--open", type=int, default=200, help="sessions opened while profiling")
    p.add_argument("--push-ms", type=int, default=100, help="PHOTON_PUSH_INTERVAL_MS (floor)")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples a second")
    p.add_argument("--top", type=int, default=40, help="functions listed")
    p.add_argument("--rev", action="append", default=[],
                   help="a git revision of app/ ('.': the work tree); repeat to compare")
    args = p.parse_args(argv)
    for rev in args.rev or ["."]:
        run(args, "work tree" if rev == "." else rev, None if rev == "." else export_rev(rev))


if __name__ == "__main__":
    main()
