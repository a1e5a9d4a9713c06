"""The issue's targets, judged from a run's cells (the Targets section)."""

from __future__ import annotations

from bench.common import log
from bench.reports.latency import latency_summary
from bench.reports.summary import rss_per_session
from bench.reports.tables import cadence_of, fmt, ms
from bench.reports.verdicts import find, passed, plain
from bench.reports.viewer import GAP_MAX_FACTOR, GAP_P95_FACTOR, holds_cadence


def print_targets(results: list[dict], soak_res: dict | None) -> None:
    log("\nTargets (Photon as configured by default"
        + (", and with PHOTON_TRANSPORT=bokeh" if any(
            r["cell"]["server"] == "photon-bokeh" for r in results) else "") + ")")

    def verdict(ok):
        return "n/a (not measured or too short)" if ok is None else ("MET" if ok else "MISSED")

    sweep = {t["server"]: t for t in (latency_summary(results) or {}).get("targets", ())}

    def swept(name: str) -> str:
        t = sweep.get(name)
        if not t or not t["p99_ms_by_interval"]:
            return ""
        best = t["largest_interval_met_ms"]
        return ("; push interval sweep (Latency): " + (f"met up to {best} ms" if best is not None
                                                       else "not met at any interval measured"))

    for server_name in [t for t in ("photon", "photon-bokeh")
                   if any(r["cell"]["server"] == t for r in results)]:
        log(f"  [{server_name}]")
        lines = []
        for n, push in ((1000, 1000),):
            cand = [r for r in results if r["cell"]["server"] == server_name and
                    r["cell"]["push_ms"] == push and plain(r) and
                    r["cell"]["n"] >= n and "ratio" in r]
            r = min(cand, key=lambda r: r["cell"]["n"]) if cand else None
            below = [r for r in results if r["cell"]["server"] == server_name and "ratio" in r
                     and r["cell"]["push_ms"] == push and plain(r)
                     and r["cell"]["n"] < n and not passed(r)]
            if r is None and below:  # a smaller N already failed: the target is missed
                r = min(below, key=lambda r: r["cell"]["n"])
            got = "" if r is None else (
                f" (N={r['cell']['n']}: {r['connected']} live, "
                f"{fmt(r['ratio'] and r['ratio'] * 100, '.1f')} % "
                f"delivered, hub {r['hub_cycles_per_s']:.2f} cyc/s, longest gap p95 "
                f"{fmt(r.get('gap_p95'), '.2f')} s, server CPU {r['server_cpu_pct']:.0f} %)")
            lines.append(f">= {n} sessions x 10 symbols @ {push} ms, every session live, "
                         f">= 99 % delivered, longest gap per session p95 <= "
                         f"{GAP_P95_FACTOR * push / 1000:g} s: "
                         f"{verdict(None if r is None else passed(r) and r['cell']['n'] >= n)}"
                         f"{got}")
        many = [r for r in results if r["cell"]["server"] == server_name and plain(r)
                and "ratio" in r and r["cell"]["n"] >= 2000 and "promised_per_session" in r]
        r = min(many, key=lambda r: r["cell"]["n"]) if many else None
        lines.append(
            ">= 2000 sessions: the cadence stretches instead of collapsing (every session "
            f"live, >= 99 % of the updates at the cadence /health reports, no gap > "
            f"{GAP_MAX_FACTOR:g} x that cadence): "
            + verdict(None if r is None else holds_cadence(r))
            + ("" if r is None else
               f" (N={r['cell']['n']} @ {r['cell']['push_ms']} ms floor: {r['connected']} live, "
               f"cadence {cadence_of(r)} ms, {fmt(r['received_per_session'], '.1f')}/"
               f"{r['promised_per_session']:.1f} updates per session, longest gap max "
               f"{fmt(r['gap_max'], '.2f')} s)"))
        ph = [r for r in results if r["cell"]["server"] == server_name and "ratio" in r
              and plain(r)]
        if ph:
            fpm = max(r["frames_per_msg"] or 0 for r in ph)
            upc = max(r.get("upd_msgs_per_changed_cycle") or 0 for r in ph)
            other = max(r.get("other_msgs_per_cycle") or 0 for r in ph)
            ok = fpm <= 1.0 and upc <= 1.0 and other <= 0.01
            lines.append(
                f"exactly one WebSocket message per session per changed cycle: {verdict(ok)} "
                f"(update messages per hub cycle they carry: max {upc:.3f}; other messages "
                f"per session per hub cycle: max {other:.3f}; WebSocket frames per message: "
                f"max {fpm:.1f}"
                + (", a Bokeh message being header + metadata + content frames)" if fpm > 2
                   else ")"))
        r = find(results, server_name, 100, 250)
        if r is not None and "ratio" in r:
            lines.append(f"tick-to-client p99 < 100 ms @ 100 sessions / 250 ms: "
                         f"{verdict(r['lat_p99_ms'] is not None and r['lat_p99_ms'] < 100)} "
                         f"(p50 {fmt(r['lat_p50_ms'])} ms, p99 {fmt(r['lat_p99_ms'])} ms"
                         + (swept("tick-to-client p99 < 100 ms") if server_name == "photon" else "")
                         + ")")
            rb = find(results, server_name, 100, 250, latency=True) or {}
            b = rb.get("browser")
            if b:
                lines.append(
                    f"tick-to-DOM p99 < 150 ms @ 100 sessions / 250 ms: "
                    f"{verdict(b['dom_p99'] is not None and b['dom_p99'] * 1000 < 150)} "
                    f"(DOM p50 {fmt(ms(b['dom_p50']))} ms, p99 {fmt(ms(b['dom_p99']))} ms; "
                    f"{b['n']} updates" + swept("tick-to-DOM p99 < 150 ms") + ")")
            elif rb.get("browser_error"):
                lines.append(f"tick-to-DOM: probe failed: {rb['browser_error'][:120]}")
        big = [r for r in ph if r["cell"]["n"] >= 100]
        if big:
            mb = max(rss_per_session(r) for r in big)
            lines.append(f"RSS per session <= 0.3 MB: {verdict(mb <= 0.3)} (worst "
                         f"{mb:.3f} MB at N >= 100: (RSS in window - RSS before) / "
                         "sessions held)")
        for line in lines:
            log("    " + line)
    if soak_res:
        ck = soak_res.get("checkpoints") or []
        growth = soak_res.get("idle_growth_mb_per_1000")
        # A few hundred cycles are all warm-up (allocator high-water marks): no verdict.
        flat = None if growth is None or soak_res["cycles"] < 2000 else growth <= 1.0
        log(f"  [soak] RSS flat across soak (idle RSS growth <= 1 MB per 1000 cycles from the "
            f"50 % checkpoint to the end): {verdict(flat)} ({fmt(growth, '+.2f')} MB per 1000 "
            "cycles; idle checkpoints "
            + ", ".join(f"{c['cycles']}: {c['rss_mb']:.0f} MB" for c in ck)
            + f"); subscriptions at end {soak_res['final_subscriptions']} "
            f"{'MET' if soak_res['final_subscriptions'] == {} else 'MISSED'} (must be {{}})")
