"""What the load sessions receive: the measurement window, each session's counters,
the latency histograms and the hub's publication log, as :mod:`bench.clients.load` reports them.

Module state, one set per load process: every client of the process
(:mod:`bench.clients.photon_client`, :mod:`bench.clients.fastlane_client`,
:mod:`bench.clients.ref_clients`)
counts into it, and :mod:`bench.clients.load` sets the window and reads it out at the end.

Each update's latency (receipt - row ``ts``) is split at ``at`` into the wait for the
hub cycle (``at - ts``) and the delivery (receipt - ``at``). Per session it also records
what the viewer saw in the window: the hub cycles published in it that it received
(``updates``; by publication time ``at``, so a window of k intervals holds k) and the
longest wait between two updates (``max_gap``, :class:`bench.common.GapMeter`).
"""

from __future__ import annotations

import asyncio

from bench.common import GapMeter, Histogram

INF = float("inf")


class Window:
    w0 = INF
    w1 = INF
    end = INF


W = Window()
HIST = Histogram()  # tick-to-client: receipt - row ts, per update
WAIT = Histogram()  # at - row ts: the wait for the hub cycle that published it
DELIV = Histogram()  # receipt - at: from publication to the client
#: Every sparkline point seen, per symbol: the hub appends exactly one point per cycle
#: in which a symbol's price or tick time changed, so this is the hub's publication log.
PUBLOG: dict[str, set[float]] = {}
CYCLES: list[int] = []  # [min, max] hub cycle of deltas that arrived inside the window
#: Newest tick time among all rows of messages labelled with each hub cycle: that cycle
#: was published within one mock step (50 ms) after it. Only for messages without the
#: cycle's publication time ``at`` (an app from before it), as an estimate of ``at``.
CYCLE_NEWEST: dict[int, float] = {}
#: (cycle, row ts, receipt) of counted updates whose message had no ``at``.
NO_AT: list[tuple[int, float, float]] = []
#: Messages inside the window that carried no board update, by type and changed attrs.
OTHER: dict[str, int] = {}


class Session:
    __slots__ = ("i", "symbols", "ok", "ready", "delivered", "msgs", "delta_msgs", "frames",
                 "bytes", "last_ts", "err", "t_ready", "ws", "task", "transport", "fast",
                 "port", "cycles", "updates", "gaps", "max_gap")

    def __init__(self, i: int, symbols: list[str]):
        self.i = i
        self.symbols = symbols
        self.ok = False
        self.ready = asyncio.Event()
        self.delivered = 0
        self.msgs = 0
        self.delta_msgs = 0
        self.frames = 0
        self.bytes = 0
        self.last_ts: dict[str, float] = {}
        self.err = ""
        self.t_ready = None
        self.ws = None
        self.task = None
        self.transport = ""
        self.fast = None  # the fast-lane socket's task, when the page uses one
        self.port = None  # local ports (slow clients)
        self.cycles: set[int] = set()  # hub cycles of the update messages in the window
        #: Hub cycles published in the window (``at`` in [w0, w1), else receipt) and
        #: received by the end of the drain: the board updates this viewer got.
        self.updates: set[int] = set()
        self.gaps = GapMeter()  # receipts of the messages that carried an update
        self.max_gap = 0.0  # longest wait between two of them in the window (at its end)

    def summary(self) -> dict:
        return {"i": self.i, "ok": self.t_ready is not None, "delivered": self.delivered,
                "msgs": self.msgs, "delta_msgs": self.delta_msgs, "frames": self.frames,
                "bytes": self.bytes, "err": self.err, "transport": self.transport,
                "cycles": len(self.cycles), "updates": len(self.updates),
                "max_gap": round(self.max_gap, 4),
                "port": self.port}


def on_rows(sess: Session, rows, points, now: float, cycle=None, at=None) -> int:
    """Account one cycle's rows; returns how many were new updates.

    ``at``: the wall-clock time the hub published the message's ``cycle``; each counted
    update then also splits its latency into the wait for that cycle (``at - ts``) and
    the delivery (``now - at``). Without it (an older app) the split is estimated at the
    end from the newest tick time seen for the cycle."""
    for sym, pts in points.items():
        log = PUBLOG.get(sym)
        if log is None:
            log = PUBLOG[sym] = set()
        for p in pts:
            log.add(p[0])
    new = 0
    w0, w1 = W.w0, W.w1
    for r in rows:
        ts = r.get("ts")
        if ts is None:
            continue
        sym = r["symbol"]
        if sess.last_ts.get(sym) == ts:
            continue  # republished without a new trade: not an update
        sess.last_ts[sym] = ts
        new += 1
        if w0 <= ts <= w1 and now <= W.end:
            sess.delivered += 1
            HIST.add(now - ts)
            if at:
                WAIT.add(at - ts)
                DELIV.add(now - at)
            elif cycle is not None:
                NO_AT.append((cycle, ts, now))
    if new:  # what a viewer sees: time between two updates
        sess.gaps.update(now, W.w0, W.w1)
    return new


def note_cycle(cycle, now: float) -> None:
    if cycle is None or not (W.w0 <= now <= W.w1):
        return
    if not CYCLES:
        CYCLES.extend((cycle, cycle))
    else:
        CYCLES[0] = min(CYCLES[0], cycle)
        CYCLES[1] = max(CYCLES[1], cycle)


def count_msg(sess: Session, now: float, frames: int, nbytes: int) -> bool:
    """Count one message arriving at ``now``; True when inside the window."""
    if W.w0 <= now <= W.w1:
        sess.msgs += 1
        sess.frames += frames
        sess.bytes += nbytes
        return True
    return False


def on_cycle_rows(sess: Session, rows, points, cycle, now: float, in_window: bool,
                  at=None) -> None:
    on_rows(sess, rows, points, now, cycle, at)
    if cycle is not None and rows and W.w0 <= (at or now) < W.w1 and now <= W.end:
        sess.updates.add(cycle)
    if in_window:
        sess.delta_msgs += 1
        note_cycle(cycle, now)
        if cycle is not None:
            sess.cycles.add(cycle)
    if cycle is not None and rows and not at:
        newest = max((r.get("ts") or 0.0) for r in rows)
        if newest > CYCLE_NEWEST.get(cycle, 0.0):
            CYCLE_NEWEST[cycle] = newest
    if cycle is not None and not sess.ready.is_set():
        sess.t_ready = now
        sess.ready.set()


def window_figures(w0: float, w1: float) -> dict:
    """This process's figures for the window [w0, w1], read once at its end: latency
    histograms, the publication log inside the window, the hub cycles seen and the
    messages that carried no update. Updates whose message had no ``at`` get the split
    estimated here, from the newest tick time seen for their cycle."""
    publog = {sym: sorted(t for t in ts if w0 <= t <= w1) for sym, ts in PUBLOG.items()}
    estimated = 0
    for cycle, ts, arrival in NO_AT:  # no 'at': the cycle's newest tick stands in for it
        newest = CYCLE_NEWEST.get(cycle)
        if newest:
            WAIT.add(newest - ts)
            DELIV.add(arrival - newest)
            estimated += 1
    return {"hist": HIST.to_json(), "wait": WAIT.to_json(), "deliv": DELIV.to_json(),
            "at_estimated": estimated, "publog": publog, "cycles": CYCLES, "other": OTHER}
