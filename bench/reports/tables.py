"""The per-cell tables: formatting, rows and the fixed-width printer."""

from __future__ import annotations

from bench.common import log
from bench.reports.summary import rss_per_session
from bench.reports.verdicts import client_bound
from bench.reports.viewer import smooth


def fmt(v, spec: str = ".0f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def ms(v_s) -> float | None:
    return None if v_s is None else v_s * 1000


def one_line(r: dict) -> str:
    if "ratio" not in r:
        return "failed"
    return (f"conn {r['connected']} {r['transports']}  upd/s {r['delivered_per_s']:.0f}/"
            f"{r['intended_per_s']:.0f} ({fmt(r['ratio'] and r['ratio'] * 100, '.1f')}%)  "
            f"hub cyc/s {fmt(r['hub_cycles_per_s'], '.2f')}"
            + (f" ({r['hub_cycles_missed']} missed)" if r.get("hub_cycles_missed") else "")
            + "  msg/cyc "
            f"{fmt(r.get('msgs_per_cycle'), '.2f')}  CPU {r['server_cpu_pct']:.0f}%  "
            f"RSS {r['rss_mb']:.0f} MB  tick-to-client/wait/delivery p50/p99 "
            f"{pair(r['lat_p50_ms'], r['lat_p99_ms'])}/{'/'.join(split_of(r))} ms  "
            f"client CPU {r['client_cpu_pct']:.0f}%"
            + (f"\n  viewers: {fmt(r['received_per_session'], '.1f')}/"
               f"{r['promised_per_session']:.1f} updates per session received/promised at "
               f"{cadence_of(r)} ms; longest gap p50/p95/max {fmt(r['gap_p50'], '.2f')}/"
               f"{fmt(r['gap_p95'], '.2f')}/{fmt(r['gap_max'], '.2f')} s"
               if "promised_per_session" in r else "")
            + (f"\n  non-update messages per session in the window: "
               f"{ {k: round(v, 1) for k, v in r['other_msgs_per_session'].items()} }"
               if r.get("other_msgs_per_session") else ""))


# Two-line headers ("\n"), to keep the tables about 130 characters wide.
HEAD = ("server", "ms", "N", "conn", "ramp\ns", "intended\nupd/s", "delivered\nupd/s",
        "deliv\n%", "worst\n%", "hub\ncyc/s", "msg/\ncyc", "frm/\ncyc", "KB/s\n/ses",
        "srv\nCPU%", "RSS\nMB", "MB/\nses", "cli\nCPU%")
LAT_HEAD = ("server", "ms", "N", "tick-to-client\np50/p99", "wait\np50/p99",
            "delivery\np50/p99", "updates")
VIEW_HEAD = ("server", "ms", "N", "conn", "cadence\nms", "promised\n/ses", "received\n/ses",
             "recv\n%", "least\n/ses", "gap p50\ns", "gap p95\ns", "gap max\ns", "smooth")


def name_of(r: dict) -> str:
    c = r["cell"]
    name = c["server"]
    tr = r.get("transports") or {}
    if c["server"] == "photon" and tr:
        name += f"({max(tr, key=tr.get)})"
    return (name + (f"+{c['slow']}slow" if c["slow"] else "")
            + ("+browser" if c.get("browser") else "+lat" if c.get("latency") else ""))


def table_rows(results: list[dict], head=HEAD) -> list[tuple]:
    out = []
    for r in results:
        c = r["cell"]
        if "ratio" not in r:
            why = "skipped" if r.get("skipped") else "FAILED"
            out.append((c["server"], c["push_ms"], c["n"], why, *[""] * (len(head) - 4)))
            continue
        out.append((
            name_of(r), c["push_ms"], c["n"], r["connected"], fmt(r["ramp_s"], ".1f"),
            fmt(r["intended_per_s"]), fmt(r["delivered_per_s"]),
            fmt(r["ratio"] and r["ratio"] * 100, ".1f"),
            fmt(r["worst_session_ratio"] and r["worst_session_ratio"] * 100, ".0f"),
            fmt(r["hub_cycles_per_s"], ".2f"), fmt(r.get("msgs_per_cycle"), ".2f"),
            fmt(r.get("frames_per_cycle"), ".2f"), fmt(r["kb_per_session_s"], ".1f"),
            fmt(r["server_cpu_pct"]), fmt(r["rss_mb"]), fmt(rss_per_session(r), ".3f"),
            fmt(r["client_cpu_pct"]) + ("*" if client_bound(r) else ""),
        ))
    return out


def pair(a, b) -> str:
    """'p50/p99' in whole ms, '-' when not measured."""
    return "-" if a is None and b is None else f"{fmt(a)}/{fmt(b)}"


def split_of(r: dict) -> tuple[str, str]:
    """The (wait, delivery) p50/p99 cells of a result. '~' marks an estimate: messages
    without 'at' (an app from before it; results.json files from before the split only
    have 'pub', receipt - the newest tick of the cycle, which stands in for delivery)."""
    if "deliv_p50_ms" not in r:
        old = pair(r.get("pub_p50_ms"), r.get("pub_p99_ms"))
        return "-", ("~" + old if old != "-" else old)
    mark = "~" if (r.get("at_estimated") or 0) > 0.01 else ""
    w = pair(r.get("wait_p50_ms"), r.get("wait_p99_ms"))
    d = pair(r.get("deliv_p50_ms"), r.get("deliv_p99_ms"))
    return (mark + w if w != "-" else w), (mark + d if d != "-" else d)


def lat_rows(results: list[dict]) -> list[tuple]:
    out = []
    for r in results:
        c = r["cell"]
        if "ratio" not in r:
            continue
        wait, deliv = split_of(r)
        out.append((name_of(r), c["push_ms"], c["n"], pair(r["lat_p50_ms"], r["lat_p99_ms"]),
                     wait, deliv, r.get("lat_n", "")))
    return out


def cadence_of(r: dict) -> str:
    """The push interval /health reported through the window ("250-760": the least and
    the most, when it moved); '~' marks a server that reports none (its nominal one)."""
    if not r.get("interval_reported"):
        return "~" + fmt(r["promised_interval_ms"])
    lo, hi = r["push_interval_min_ms"], r["slowest_interval_ms"]
    return fmt(hi) if round(lo) == round(hi) else f"{lo:.0f}-{hi:.0f}"


def viewer_rows(results: list[dict]) -> list[tuple]:
    """What the viewers saw, per measured cell (none for results from before it)."""
    out = []
    for r in results:
        if "ratio" not in r or "promised_per_session" not in r:
            continue
        c, ok = r["cell"], smooth(r)
        out.append((name_of(r), c["push_ms"], c["n"], r["connected"], cadence_of(r),
                     fmt(r["promised_per_session"], ".1f"),
                     fmt(r["received_per_session"], ".1f"),
                     fmt(r["received_ratio"] and r["received_ratio"] * 100, ".1f"),
                     fmt(r["received_min"]), fmt(r["gap_p50"], ".2f"), fmt(r["gap_p95"], ".2f"),
                     fmt(r["gap_max"], ".2f"), "yes" if ok else "NO"))
    return out


def print_table(rows: list[tuple], head=HEAD) -> None:
    """Right-aligned columns; a header cell may have two lines ("\n"), bottom-aligned."""
    lines = [str(h).split("\n") for h in head]
    depth = max(len(h) for h in lines)
    heads = [tuple(([""] * (depth - len(h)) + h)[i] for h in lines) for i in range(depth)]
    body = [tuple(str(x) for x in r) for r in rows]
    widths = [max(len(r[i]) for r in heads + body) for i in range(len(head))]
    for r in heads:
        log("  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)).rstrip())
    log("  ".join("-" * w for w in widths))
    for r in body:
        log("  ".join(x.rjust(w) for x, w in zip(r, widths, strict=True)).rstrip())
