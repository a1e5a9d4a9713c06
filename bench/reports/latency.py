"""The latency sweep: its table, per-target verdicts, and the browser probe lines."""

from __future__ import annotations

from bench.common import log
from bench.reports.tables import fmt, ms, pair, print_table, split_of
from bench.reports.verdicts import is_latency

# The latency targets, at 100 sessions, counting from the tick's arrival in the hub.
LATENCY_TARGETS = (
    ("tick-to-client p99 < 100 ms", 100.0, lambda r: r.get("lat_p99_ms")),
    ("tick-to-DOM p99 < 150 ms", 150.0,
     lambda r: ms((r.get("browser") or {}).get("dom_p99"))),
)
LATENCY_HEAD = ("interval\nms", "N", "deliv\n%", "hub\ncyc/s", "srv\nCPU%",
                "tick-to-client\np50/p99", "wait\np50/p99", "delivery\np50/p99",
                "tick-to-DOM\np50/p99", "pub-to-DOM\np50/p99", "DOM\nupdates")


def latency_cells(results: list[dict]) -> list[dict]:
    """The sweep's measured cells (Photon, default transport), largest interval first."""
    return sorted((r for r in results if is_latency(r) and "ratio" in r
                   and r["cell"]["server"] == "photon"), key=lambda r: -r["cell"]["push_ms"])


def all_delivered(r: dict) -> bool:
    """Every session live and >= 99 % delivered (a latency is only met where that holds)."""
    return r["connected"] == r["cell"]["n"] and (r["ratio"] or 0) >= 0.99


def latency_summary(results: list[dict]) -> dict | None:
    """Per latency target: p99 by push interval, and the largest interval at which it is
    met (with every session live and >= 99 % delivered). Also written to results.json."""
    cells = latency_cells(results)
    if not cells:
        return None
    out = {"sessions": sorted({r["cell"]["n"] for r in cells}),
           "intervals": [r["cell"]["push_ms"] for r in cells], "targets": []}
    for name, limit, get in LATENCY_TARGETS:
        rows = [(r["cell"]["push_ms"], get(r), all_delivered(r)) for r in cells]
        rows = [(push, v, ok) for push, v, ok in rows if v is not None]
        met = [push for push, v, ok in rows if v < limit and ok]
        out["targets"].append({"server": name, "limit_ms": limit,
                               "p99_ms_by_interval": [[push, v] for push, v, _ in rows],
                               "delivered_ok_by_interval": [[push, ok] for push, _, ok in rows],
                               "largest_interval_met_ms": max(met) if met else None})
    return out


def print_latency(results: list[dict]) -> None:
    cells = latency_cells(results)
    if not cells:
        return
    log("\nLatency (Photon, default transport, one Chromium page beside the load; ms, p50/p99 "
        "over updates with tick time in the window). tick-to-client = wait + delivery: wait = "
        "'at' - tick ts (the wait for the next hub cycle, up to one push interval), delivery = "
        "receipt - 'at'; pub-to-DOM = DOM update - 'at'.")
    rows = []
    for r in cells:
        c, b = r["cell"], r.get("browser") or {}
        wait, deliv = split_of(r)
        dom = ("failed" if r.get("browser_error") else
               pair(ms(b.get("dom_p50")), ms(b.get("dom_p99"))))
        pub = ("failed" if r.get("browser_error") else
               pair(ms(b.get("pub_p50")), ms(b.get("pub_p99"))))
        rows.append((c["push_ms"], c["n"], fmt(r["ratio"] and r["ratio"] * 100, ".1f"),
                     fmt(r["hub_cycles_per_s"], ".2f"), fmt(r["server_cpu_pct"]),
                     pair(r["lat_p50_ms"], r["lat_p99_ms"]), wait, deliv, dom, pub,
                     b.get("n", "-")))
    print_table(rows, LATENCY_HEAD)
    summary = latency_summary(results)
    for t in summary["targets"]:
        by = t["p99_ms_by_interval"]
        oks = dict(t["delivered_ok_by_interval"])
        if not by:
            log(f"  {t['server']}: n/a (not measured)")
            continue
        best = t["largest_interval_met_ms"]
        got = ", ".join(f"{push} ms {fmt(v)}" + ("" if oks.get(push) else " (< 99 % delivered)")
                        for push, v in by)
        log(f"  {t['server']} @ {'/'.join(map(str, summary['sessions']))} sessions: "
            + (f"met up to a push interval of {best} ms" if best is not None
               else "not met at any push interval measured")
            + f" (p99 by push interval: {got})")


def print_browser(results: list[dict]) -> None:
    for r in results:
        b = r.get("browser")
        if b:
            log(f"\nBrowser probe ({r['label']}, page on the same server during the load): "
                f"tick-to-DOM p50/p99 {fmt(ms(b['dom_p50']))}/{fmt(ms(b['dom_p99']))} ms; "
                f"tick-to-next-frame p50/p99 {fmt(ms(b['frame_p50']))}/"
                f"{fmt(ms(b['frame_p99']))} ms; pub-to-DOM p50/p99 "
                f"{fmt(ms(b.get('pub_p50')))}/{fmt(ms(b.get('pub_p99')))} ms; "
                f"{b['n']} price updates in the window; "
                f"page state {b['state']}; console 'WebSocket Connected': "
                f"{b['console_connected']}")
        elif r.get("browser_error"):
            log(f"\nBrowser probe ({r['label']}) failed: {r['browser_error']}")
