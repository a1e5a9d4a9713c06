"""Everything a run prints after its cells: tables, summaries, verdicts, profiles."""

from __future__ import annotations

from bench.common import log
from bench.reports.latency import print_browser, print_latency
from bench.reports.report_acceptance import print_targets
from bench.reports.summary import rss_per_session
from bench.reports.tables import (
    LAT_HEAD,
    VIEW_HEAD,
    fmt,
    lat_rows,
    print_table,
    split_of,
    table_rows,
    viewer_rows,
)
from bench.reports.verdicts import capacity, client_bound, efficiency, find
from bench.reports.viewer import GAP_P95_FACTOR


def print_summary(results: list[dict], opts) -> None:
    log("\nCapacity: largest N measured that passed (all sessions live, >= 99 % of the hub's "
        "publications delivered, hub at >= 99 % of its cadence, smooth for the viewers (the "
        "table above); '>=' = the largest N tried "
        "passed). upd/CPU-s: delivered symbol updates per second of server CPU, at that N.")
    targets = [t for t in opts.servers if any(r["cell"]["server"] == t for r in results)]
    others = [t for t in targets if t != "photon"]
    rows = []
    for push in opts.intervals:
        caps = {t: capacity(results, t, push) for t in targets}
        effs = {t: efficiency(results, t, push) for t in targets}
        row = [push]
        for t in targets:
            n, top = caps[t]
            row.append("-" if n is None else (">=" if top else "") + str(n))
        for t in others:
            a, b = caps.get("photon", (None, False))[0], caps[t][0]
            row.append(fmt(a / b, ".2f") if a is not None and b else "-")
        row += [fmt(effs[t]) for t in targets]
        for t in others:
            a, b = effs.get("photon"), effs[t]
            row.append(fmt(a / b, ".3f") if a and b else "-")
        rows.append(tuple(row))
    head = ("ms", *[f"cap {t}" for t in targets], *[f"cap photon/{t}" for t in others],
            *[f"upd/CPU-s {t}" for t in targets], *[f"eff photon/{t}" for t in others])
    print_table(rows, head)


def print_slow(results: list[dict]) -> None:
    for r in results:
        if not r["cell"]["slow"] or "ratio" not in r:
            continue
        c = r["cell"]
        base = find(results, c["server"], c["n"], c["push_ms"])
        series = r["rss_series"]
        log(f"\nSlow clients: {c['slow']} sessions that stop reading their socket(s) (4 KiB "
            f"receive buffer), beside {c['n']} normal sessions @ {c['push_ms']} ms, "
            f"{series[-1][0]:.0f} s window:")
        step = max(1, len(series) // 10)
        log("  server RSS (s: MB): "
            + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in series[::step] + [series[-1]]))
        q = r.get("slow_sendq") or {}
        nslow = sum(1 for s in r.get("slow") or () if s.get("ok"))
        log(f"  RSS per session held ({r.get('ready', c['n'])} normal + {nslow} slow): "
            f"{fmt(rss_per_session(r), '.3f')} MB"
            + (f" (without slow clients: {fmt(rss_per_session(base), '.3f')} MB)"
               if base and "ratio" in base else ""))
        log(f"  RSS slope {r['slow_rss_slope_mb_per_min']:+.2f} MB/min; server sessions "
            f"{r['health_sessions']}; kernel Send-Q of the slow sockets "
            f"{q.get('slow_total_kb', 0):.0f} KiB total over {q.get('slow_sockets', 0)} "
            f"sockets (max {q.get('slow_max_kb', 0):.0f} KiB), of all others "
            f"{q.get('other_total_kb', 0):.0f} KiB")
        if base and "ratio" in base:
            log(f"  normal sessions: {r['ratio'] * 100:.1f} % delivered, p50/p99 "
                f"{fmt(r['lat_p50_ms'])}/{fmt(r['lat_p99_ms'])} ms, server CPU "
                f"{r['server_cpu_pct']:.0f} %  vs without slow clients: "
                f"{base['ratio'] * 100:.1f} %, {fmt(base['lat_p50_ms'])}/"
                f"{fmt(base['lat_p99_ms'])} ms, {base['server_cpu_pct']:.0f} %")


def report(results: list[dict], soak_res: dict | None, opts) -> None:
    log(f"\nResults ({opts.k} symbols per session; {opts.duration:.0f} s windows; msg/cyc and "
        "frm/cyc = protocol messages and WebSocket frames per session per hub cycle; MB/ses = "
        "RSS growth / sessions held)")
    print_table(table_rows(results))
    if any(client_bound(r) for r in results if "ratio" in r):
        log("  * load workers near a full core: client-bound, the server may do better "
            "(not counted as a capacity failure)")
    rows = viewer_rows(results)
    if rows:
        log("\nWhat the viewers saw (per session, window only): cadence = push_interval_ms "
            "from /health through the window, least-most ('~': not reported, the cell's "
            "interval); promised = window / cadence (mean of the readings); received = "
            "hub cycles published in the window that reached a session, mean and least; gap = each "
            "session's longest wait between two updates, p50/p95/max over sessions. smooth: "
            "received >= 99 % of promised (give or take one) and gap p95 <= "
            f"{GAP_P95_FACTOR} x the slowest cadence read")
        print_table(rows, VIEW_HEAD)
    log("\nLatency per cell (ms, p50/p99 over the updates with tick time in the window): "
        "tick-to-client = receipt - tick ts = wait (publication 'at' - tick ts: the wait "
        "for the hub cycle) + delivery (receipt - 'at')")
    print_table(lat_rows(results), LAT_HEAD)
    if any("~" in "".join(split_of(r)) for r in results if "ratio" in r):
        log("  ~ estimated: messages without 'at' (or a run from before it): the newest tick "
            "time of the cycle stands in for 'at' (earlier by up to one 50 ms mock step, so "
            "delivery is over-estimated)")
    print_summary(results, opts)
    print_latency(results)
    print_browser(results)
    print_slow(results)
    if soak_res:
        log(f"\nSoak: {soak_res['cycles']} cycles in {soak_res['elapsed_s']} s; "
            "(s, cycles, live sessions, RSS MB):")
        s = soak_res["series"]
        step = max(1, len(s) // 12)
        log("  " + "  ".join(f"({t:.0f}, {c}, {live}, {m:.0f})"
                             for t, c, live, m in s[::step] + [s[-1]]))
    print_targets(results, soak_res)
    prof = [r for r in results if r.get("profile")]
    if prof:
        from bench.reports.profile import print_profile

        for r in prof:
            print_profile(r["label"], r["profile"], log)
