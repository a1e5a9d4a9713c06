"""A cell's figures from its load workers' results, and RSS per session held."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.common import Histogram, symbols_for, universe

if TYPE_CHECKING:
    from bench.cell import Cell


def sessions_held(r: dict) -> int:
    """Sessions the server held in the window: the normal ones that connected, the slow
    clients that completed their handshake, and the browser probe's page if it ran."""
    slow = sum(1 for s in r.get("slow") or () if s.get("ok"))
    return r.get("ready", r["cell"]["n"]) + slow + (1 if r.get("browser") else 0)


def rss_per_session(r: dict) -> float | None:
    """(RSS at the end of the window - idle RSS before the ramp) / sessions held.

    Recomputed from the stored RSS values, ``ready``, the slow clients' ``ok`` flags and
    the browser result, so ``--report`` of a results.json written before this fix (which
    divided by N alone, overstating the slow-client cell by half) prints the right figure.
    """
    if r.get("rss0_mb") is None or r.get("rss_mb") is None:
        return r.get("rss_per_session_mb")
    return (r["rss_mb"] - r["rss0_mb"]) / max(1, sessions_held(r))


def slope(series: list[tuple[float, float]]) -> float:
    """Least-squares slope (MB per second) of an RSS series."""
    if len(series) < 2:
        return 0.0
    xs, ys = [s[0] for s in series], [s[1] for s in series]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def summarise(cell: Cell, duration: float, results: list[dict], ready: int, ramp_s: float,
              errors: list[str]) -> dict:
    publog: dict[str, set[float]] = {}
    hist = Histogram()  # tick-to-client
    wait = Histogram()  # at - ts
    deliv = Histogram()  # receipt - at
    estimated = 0
    other: dict[str, int] = {}
    sessions = []
    cycles: list[int] = []
    for r in results:
        for sym, ts in r["publog"].items():
            publog.setdefault(sym, set()).update(ts)
        hist.merge(r["hist"])
        wait.merge(r.get("wait") or {})
        deliv.merge(r.get("deliv") or {})
        estimated += r.get("at_estimated") or 0
        for k, v in (r.get("other") or {}).items():
            other[k] = other.get(k, 0) + v
        sessions += r["sessions"]
        if r["cycles"]:
            cycles = ([min(cycles[0], r["cycles"][0]), max(cycles[1], r["cycles"][1])]
                      if cycles else list(r["cycles"]))
        errors = sorted(set(errors) | set(r["errors"]))
    syms = universe()
    intended = delivered = 0
    ratios = []
    for s in sessions:
        want = sum(len(publog.get(sym, ())) for sym in symbols_for(s["i"], cell.k, syms))
        intended += want
        delivered += s["delivered"]
        ratios.append(s["delivered"] / want if want else 1.0)
    ok = [s for s in sessions if s["ok"]]
    n_ok = max(1, len(ok))
    msgs = sum(s["msgs"] for s in ok)
    transports: dict[str, int] = {}
    for s in ok:
        transports[s.get("transport") or "?"] = transports.get(s.get("transport") or "?", 0) + 1
    return {
        "transports": transports,
        "other_msgs_per_session": {k: v / n_ok for k, v in
                                   sorted(other.items(), key=lambda kv: -kv[1])[:4]},
        "delta_msgs_per_session": sum(s["delta_msgs"] for s in ok) / n_ok,
        "frames_per_session": sum(s["frames"] for s in ok) / n_ok,
        # Update messages per distinct hub cycle they were labelled with (1.00: never two
        # messages for one cycle), and messages that carried no update at all.
        "upd_msgs_per_changed_cycle": (sum(s["delta_msgs"] for s in ok) /
                                       max(1, sum(s.get("cycles", 0) for s in ok))),
        "other_msgs_per_session_total": sum(s["msgs"] - s["delta_msgs"] for s in ok) / n_ok,
        "connected": len(ok), "ready": ready, "ramp_s": ramp_s, "errors": errors[:5],
        "intended_per_s": intended / duration, "delivered_per_s": delivered / duration,
        "ratio": delivered / intended if intended else None,
        "worst_session_ratio": min(ratios) if ratios else None,
        "sessions_ge_99": sum(r >= 0.99 for r in ratios) / max(1, len(ratios)),
        "msgs_per_session": msgs / n_ok,
        "msgs_per_session_s": msgs / n_ok / duration,
        "delta_share": sum(s["delta_msgs"] for s in ok) / msgs if msgs else None,
        "frames_per_msg": sum(s["frames"] for s in ok) / msgs if msgs else None,
        "kb_per_session_s": sum(s["bytes"] for s in ok) / n_ok / duration / 1024,
        "lat_p50_ms": hist.quantile(0.5), "lat_p99_ms": hist.quantile(0.99),
        "lat_n": hist.n, "delta_cycles": cycles,
        "wait_p50_ms": wait.quantile(0.5), "wait_p99_ms": wait.quantile(0.99),
        "deliv_p50_ms": deliv.quantile(0.5), "deliv_p99_ms": deliv.quantile(0.99),
        # Share of the wait/delivery samples whose message had no 'at' (an app from
        # before it): the cycle's newest tick time stood in for it.
        "at_estimated": estimated / wait.n if wait.n else None,
        "slow": results[0].get("slow", []),
    }
