"""What history costs: folding, /history, bytes on disk, a board's first paint.

1. folding: a feed thread hands 5,000 trades/s (in batches of 50, over 50 symbols) to
   the hub's trade sink; the writer thread folds and writes them every 0.5 s. The cost
   is the process CPU with the writer minus without it, as a share of one core;
2. /history: a day (390 one-minute bars) of one symbol from a 20-symbol store, through
   the real handler on a Tornado server, sequential requests: p50/p99 in ms;
3. bytes per symbol and trading day: 50 symbols x 390 bars, the file after VACUUM;
4. first paint: a 10-symbol board subscribing (hub.subscribe + the session's first
   snapshot) with a day of history in the store (seeded sparklines) and without.

    python -m bench.scenarios.history [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import free_port, log, pct

SYMBOLS = [f"S{i:02d}" for i in range(50)]


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def feed_trades(sink, seconds: float, rate: int = 5000, batch: int = 50) -> int:
    """Call ``sink`` with ``rate`` trades a second in batches, like a feed thread."""
    from app.ticks import Tick

    sent, start = 0, time.monotonic()
    n = 0
    while (now := time.monotonic()) - start < seconds:
        ticks = [Tick(SYMBOLS[(n + k) % len(SYMBOLS)], 100.0 + ((n + k) % 97) / 100, 10.0,
                      time.time()) for k in range(batch)]
        n += batch
        sink(ticks)
        sent += batch
        wait = start + sent / rate - now
        if wait > 0:
            time.sleep(wait)
    return sent


def fold_cost(seconds: float, tmp: Path) -> dict:
    from app.history.store import BarStore
    from app.history.writer import BarWriter

    def run(sink) -> tuple[float, int]:
        t0 = cpu_s()
        sent = feed_trades(sink, seconds)
        return cpu_s() - t0, sent

    base_cpu, _ = run(lambda ticks: None)
    writer = BarWriter(lambda: BarStore(tmp / "fold.sqlite3"), flush_s=0.5).start()
    with_cpu, sent = run(writer.sink)
    writer.stop()
    extra = max(with_cpu - base_cpu, 0.0)
    return {"trades_per_s": round(sent / seconds), "cpu_core_pct": round(100 * extra / seconds, 2),
            "writer_flushes": writer.flushes, "written": writer.trades_written}


def day_of(symbol: str, start: int):
    from app.history.backfill import mock_session

    return mock_session(symbol, start, start + 390 * 60, first=100.0, last=101.0,
                        vol=0.0006, rate=5.0, lot=100, seed=1)


def history_latency(tmp: Path, requests: int) -> dict:
    from tornado.httpserver import HTTPServer
    from tornado.web import Application

    from app.history import service
    from app.history.handler import HistoryHandler
    from app.history.service import History
    from app.history.store import BarStore

    path = tmp / "latency.sqlite3"
    store = BarStore(path)
    start = 1_796_394_600  # a session's open
    for sym in SYMBOLS[:20]:
        store.backfill(sym, day_of(sym, start))
    store.close()
    service.install(History(path, write=False))
    port = free_port()
    ready = threading.Event()
    loop_box = {}

    def serve():
        async def main():
            server = HTTPServer(Application([("/history", HistoryHandler)]))
            server.listen(port, "127.0.0.1")
            loop_box["stop"] = asyncio.Event()
            ready.set()
            await loop_box["stop"].wait()
            server.stop()
        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port}/history?symbol=S07&interval=1m"
    times, size = [], 0
    for _ in range(requests + 20):
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=5) as r:
            body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        size = len(body)
    times = times[20:]  # warm-up
    assert len(json.loads(body)["bars"]) == 390
    service.uninstall()
    return {"requests": requests, "bars": 390, "bytes": size,
            "p50_ms": round(pct(times, 0.5), 2), "p99_ms": round(pct(times, 0.99), 2)}


def bytes_per_symbol_day(tmp: Path) -> dict:
    from app.history.store import BarStore

    path = tmp / "size.sqlite3"
    store = BarStore(path)
    start = 1_796_394_600
    for sym in SYMBOLS:
        store.backfill(sym, day_of(sym, start))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store._db.execute("VACUUM")
    store.close()
    size = path.stat().st_size
    return {"symbols": len(SYMBOLS), "file_bytes": size,
            "bytes_per_symbol_day": round(size / len(SYMBOLS))}


def first_paint(tmp: Path, rounds: int) -> dict:
    from app.feeds.mock import UNIVERSE, MockFeed
    from app.history.backfill import MockBackfill
    from app.history.service import History
    from app.hub.hub import Hub

    symbols = [i.symbol for i in UNIVERSE[:10]]
    path = tmp / "paint.sqlite3"
    # A day of each symbol on record (a mock backfill, written once).
    feed = MockFeed(seed=1)
    seeder = History(path, backfill=MockBackfill(feed), flush_s=0.05)
    hub = Hub(feed).start()
    seeder.attach(hub)
    hub.subscribe(symbols).close()
    seeder.writer.flush()
    seeder.close()
    hub.stop()

    def paint(with_history: bool) -> tuple[float, int]:
        feed = MockFeed(seed=1)
        hub = Hub(feed, push_interval_ms=100).start()
        history = History(path, write=False).attach(hub) if with_history else None
        try:
            t0 = time.perf_counter()
            sub = hub.subscribe(symbols)
            snap = hub.changes_since(0, symbols)
            elapsed = (time.perf_counter() - t0) * 1000
            cycle = hub.cycle
            while hub.cycle == cycle:  # the next cycle carries the seeded points
                time.sleep(0.01)
            pts = hub.changes_since(0, symbols).points
            size = len(json.dumps({s: pts.get(s, []) for s in symbols}))
            sub.close()
            del snap
            return elapsed, size
        finally:
            if history is not None:
                history.close()
            hub.stop()

    without = [paint(False) for _ in range(rounds)]
    with_h = [paint(True) for _ in range(rounds)]
    med = lambda xs: pct([x[0] for x in xs], 0.5)  # noqa: E731
    return {"symbols": 10, "rounds": rounds,
            "subscribe_ms_without": round(med(without), 2),
            "subscribe_ms_with": round(med(with_h), 2),
            "added_ms": round(med(with_h) - med(without), 2),
            "points_bytes_without": without[-1][1], "points_bytes_with": with_h[-1][1]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.scenarios.history",
                                description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="folding run, each way")
    p.add_argument("--requests", type=int, default=500, help="/history requests")
    p.add_argument("--rounds", type=int, default=7, help="first-paint rounds, each way")
    args = p.parse_args(argv)
    os.environ.setdefault("PHOTON_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = {
            "fold": fold_cost(args.seconds, tmp),
            "history_endpoint": history_latency(tmp, args.requests),
            "storage": bytes_per_symbol_day(tmp),
            "first_paint": first_paint(tmp, args.rounds),
        }
    log(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
