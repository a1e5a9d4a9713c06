"""Full-collection pauses under load, Python's default GC policy against ``PHOTON_GC=freeze``.

For each policy in the same run: a fresh Photon server (as users start it), N sessions
opened by a load worker (``bench.clients.load``), then a window in which the server's own
``photon_gc_pause_seconds{generation="2"}`` histogram (``/metrics``) and ``/health``
(``cycles_missed``) are read at both ends. Figures only: the machine is shared.

    python -m bench.scenarios.gcpause --sessions 300 --window 40
"""

from __future__ import annotations

import argparse
import math
import os
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from bench.common import ROOT, photon_server
from bench.gcobjects import close_sessions, open_sessions


def gen2_pauses(base: str) -> dict[str, float]:
    """Cumulative generation-2 pause histogram: {"count", "sum", "le=<bound>": n, ...}."""
    with urllib.request.urlopen(base + "/metrics", timeout=30) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "photon_gc_pause_seconds":
            continue
        for s in family.samples:
            if s.labels.get("generation") != "2":
                continue
            if s.name.endswith("_count"):
                out["count"] = s.value
            elif s.name.endswith("_sum"):
                out["sum"] = s.value
            elif s.name.endswith("_bucket"):
                out["le=" + s.labels["le"]] = s.value
    return out


def p99_bound(delta: dict[str, float], q: float = 0.99) -> str:
    """The smallest bucket bound holding >= ``q`` of the window's pauses."""
    n = delta.get("count", 0)
    if not n:
        return "-"
    bounds = sorted((float(k[3:]), v) for k, v in delta.items()
                    if k.startswith("le=") and math.isfinite(float(k[3:])))
    for bound, cum in bounds:
        if cum >= q * n:
            return f"<= {bound * 1000:.0f} ms"
    return f"> {bounds[-1][0] * 1000:.0f} ms" if bounds else "-"


def run(policy: str, sessions: int, window: float) -> dict:
    server = photon_server(100, ROOT / "bench" / "out" / time.strftime("gcpause-%Y%m%d-%H%M%S"))
    server.env["PHOTON_GC"] = policy
    server.start()
    try:
        # On a loaded machine a few sessions may miss the ramp: count them, not fail.
        worker = open_sessions(server.base, sessions, need=0.5)
        time.sleep(3)
        before, h0 = gen2_pauses(server.base), server.health() or {}
        time.sleep(window)
        after, h1 = gen2_pauses(server.base), server.health() or {}
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        result = {"policy": policy, "live": worker.ready, "pauses": int(delta.get("count", 0)),
                  "total_ms": delta.get("sum", 0) * 1000, "p99": p99_bound(delta),
                  "missed": h1.get("cycles_missed", 0) - h0.get("cycles_missed", 0),
                  "cadence_ms": h1.get("push_interval_ms"), "rss_mb": server.rss_mb()}
        close_sessions(worker, server.base)
        return result
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=300)
    p.add_argument("--window", type=float, default=40.0)
    args = p.parse_args(argv)
    rows = [run(policy, args.sessions, args.window) for policy in ("default", "freeze")]
    print(f"load average {os.getloadavg()[0]:.2f}; {args.sessions} sessions, "
          f"{args.window:.0f} s window")
    print("PHOTON_GC  live  full collections  total pause ms  pause p99  hub cycles missed  "
          "cadence ms  RSS MB")
    for r in rows:
        print(f"{r['policy']:<10} {r['live']:>4} {r['pauses']:>16} {r['total_ms']:>15.0f} "
              f"{r['p99']:>10} {r['missed']:>18} {r['cadence_ms']!s:>11} {r['rss_mb']:>7.0f}")


if __name__ == "__main__":
    main()
