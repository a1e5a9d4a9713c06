"""Pass/fail rules over a cell's figures: live, delivered, cadence kept; capacity."""

from __future__ import annotations

from bench.reports.viewer import smooth


def client_bound(r: dict) -> bool:
    """The load workers were near a full core each: the numbers then say more about
    the load client than about the server (the machine has 2 cores in all)."""
    workers = max(1, -(-r["cell"]["n"] // 1000))
    return (r.get("client_cpu_pct") or 0) >= 85 * workers


def saturated(r: dict) -> bool:
    """Failed with the server near a full core, or below 90 % delivered: a larger N
    only costs minutes of ramping into an overloaded server."""
    return not client_bound(r) and (
        (r["ratio"] or 0) < 0.9 or r["connected"] < r["cell"]["n"]
        or (not passed(r) and r["server_cpu_pct"] >= 70))


def plain(r: dict) -> bool:
    """A cell of the main matrix (no slow clients, no browser, not the latency sweep)."""
    return not r["cell"]["slow"] and not is_latency(r)


def is_latency(r: dict) -> bool:
    """A cell of the latency sweep; in results from before the sweep, the browser cell."""
    return bool(r["cell"].get("latency") or r["cell"].get("browser"))


def hub_kept_cadence(r: dict) -> bool:
    """The hub published >= 99 % of its nominal cycles in the window, give or take one
    (a starved hub publishes less, and then 'intended' shrinks with it)."""
    c = r["cell"]
    if not r.get("hub_cycles_s"):
        return True
    nominal = r["hub_cycles_s"] * 1000 / c["push_ms"]
    return (r.get("hub_cycles") or 0) >= 0.99 * nominal - 1


def passed(r: dict) -> bool:
    """Every session live, >= 99 % of the hub's publications delivered, hub cadence kept,
    and smooth as the viewers saw it (bench/reports/viewer.py: the updates promised received,
    longest gap p95 <= 1.5 x the interval; not judged for results from before it)."""
    c = r["cell"]
    return ("ratio" in r and r["connected"] == c["n"] and (r["ratio"] or 0) >= 0.99
            and hub_kept_cadence(r) and smooth(r) is not False)


def capacity(results: list[dict], server_name: str, push_ms: int) -> tuple[int | None, bool]:
    """Largest measured N that passed; and whether that was the largest N measured
    (so the real capacity may be higher)."""
    cells = [r for r in results if r["cell"]["server"] == server_name and
             r["cell"]["push_ms"] == push_ms and plain(r) and "ratio" in r]
    if not cells:
        return None, False
    ok = [r["cell"]["n"] for r in cells if passed(r)]
    # A cell the load client could not keep up with says nothing about the server.
    top = max(r["cell"]["n"] for r in cells if not client_bound(r) or passed(r)) if any(
        not client_bound(r) or passed(r) for r in cells) else 0
    best = max(ok) if ok else 0
    return best, best == top


def efficiency(results: list[dict], server_name: str, push_ms: int) -> float | None:
    """Delivered symbol updates per server CPU-second, at the largest measured N that
    passed (or the smallest N if none did)."""
    cells = [r for r in results if r["cell"]["server"] == server_name and "ratio" in r and
             r["cell"]["push_ms"] == push_ms and plain(r)]
    if not cells:
        return None
    ok = [r for r in cells if passed(r)]
    r = (max(ok, key=lambda r: r["cell"]["n"]) if ok
         else min(cells, key=lambda r: r["cell"]["n"]))
    cpu = r["server_cpu_pct"] / 100
    return r["delivered_per_s"] / cpu if cpu > 0 else None


def find(results, server_name, n, push, slow=0, latency=False):
    for r in results:
        c = r["cell"]
        if ((c["server"], c["n"], c["push_ms"], c["slow"], is_latency(r))
                == (server_name, n, push, slow, latency)):
            return r
    return None
