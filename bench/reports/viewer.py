"""What a viewer sees of a cell: updates received against the cadence the server promised,
and each session's longest wait between two updates.

Delivery against the hub's publications (``deliv %``) cannot see a hub that stalls: it
publishes less and still scores 100 %. These figures count from the viewer's side
instead. The promise is the push interval the server reports on ``/health``
(``push_interval_ms``; adaptive in Photon, between ``PHOTON_PUSH_INTERVAL_MS`` and
``PHOTON_MAX_PUSH_INTERVAL_MS``), read at both ends of the window and about every
second between.
"""

from __future__ import annotations

from bench.common import gap_stats

#: Sessions are smooth while their longest gaps stay within this many intervals (the
#: slowest reported) at p95 over sessions; under overload (the 2000-session target) no
#: session's may exceed ``GAP_MAX_FACTOR`` of them.
GAP_P95_FACTOR = 1.5
GAP_MAX_FACTOR = 3.0


def promised_updates(window_s: float, interval_ms: float) -> float:
    """Updates one session is promised in ``window_s`` at one per ``interval_ms``."""
    return window_s * 1000.0 / interval_ms


def promised_interval(readings: list[float | None],
                      nominal_ms: float) -> tuple[float, float, bool]:
    """(interval for the promise, longest interval reported, whether /health reported it)
    from the ``push_interval_ms`` readings taken through the window (None: no reading).

    The promise uses the mean of the readings (taken about every second, so about a
    time average); gaps are judged against the longest, the slowest cadence the server
    announced in the window. A server without ``push_interval_ms`` in ``/health``
    promised its nominal interval.
    """
    got = [v for v in readings if v]
    if not got:
        return nominal_ms, nominal_ms, False
    return sum(got) / len(got), max(got), True


def viewer_figures(sessions: list[dict], window_s: float, readings: list[float | None],
                   nominal_ms: float) -> dict:
    """The viewer-side figures of one cell from its sessions' summaries (bench/clients/load.py):
    ``updates`` (hub cycles published in the window and received: one board update each;
    ``cycles``, those received in it, from workers before that) and
    ``max_gap`` (longest wait between two updates, seconds), against the cadence read
    from /health through the window (``readings``, ms). Every session counts, live or
    not: one that never got an update received 0 and waited the whole window."""
    interval, slowest, reported = promised_interval(readings, nominal_ms)
    promised = promised_updates(window_s, interval)
    received = [s.get("updates", s.get("cycles", 0)) for s in sessions]
    mean = sum(received) / len(received) if received else None
    got = [v for v in readings if v]
    return {
        "push_interval_readings_ms": list(readings),
        "push_interval_min_ms": min(got) if got else None,
        "promised_interval_ms": interval, "slowest_interval_ms": slowest,
        "interval_reported": reported,
        "promised_per_session": promised,
        "received_per_session": mean,
        "received_min": min(received) if received else None,
        "received_ratio": mean / promised if mean is not None and promised else None,
        **gap_stats([s["max_gap"] for s in sessions if "max_gap" in s]),
    }


def received_ok(r: dict) -> bool:
    """Sessions received >= 99 % of the updates promised, give or take one (a window
    holds one update more or less depending on where it falls between two cycles)."""
    promised = r["promised_per_session"]
    return (r.get("received_per_session") or 0) >= 0.99 * promised - 1


def gaps_ok(r: dict) -> bool:
    """Longest gap per session within ``GAP_P95_FACTOR`` x the slowest interval
    reported, at p95 over sessions."""
    return (r.get("gap_p95") is not None
            and r["gap_p95"] <= GAP_P95_FACTOR * r["slowest_interval_ms"] / 1000)


def smooth(r: dict) -> bool | None:
    """Every session got its promised updates without long gaps; None for a result
    without the viewer-side figures (a results.json from before them)."""
    if "promised_per_session" not in r:
        return None
    return received_ok(r) and gaps_ok(r)


def holds_cadence(r: dict) -> bool:
    """Under more load than the floor allows, the cadence stretched instead of collapsing:
    every session live, the updates promised at the reported cadence received, and no
    session waited more than ``GAP_MAX_FACTOR`` x the slowest interval reported."""
    return (r["connected"] == r["cell"]["n"] and received_ok(r)
            and (r.get("gap_max") or 0) <= GAP_MAX_FACTOR * r["slowest_interval_ms"] / 1000)
