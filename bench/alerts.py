"""What the alert engine costs a trade (app/alerts/engine.py), in the process, with
its store in a temporary directory: the relay leader will call it on every trade.

    python -m bench.alerts [--alerts 1000] [--trades 20000]

Prints microseconds per trade (best of five runs) for a symbol nobody set an alert
on, for one whose alerts hold still (no crossing: a dict lookup and the rule), and
for a crossing (a store transaction: disarm, log, pending deliveries). Not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from app.alerts.engine import AlertEngine
from app.alerts.rules import Alert
from app.alerts.store import AlertStore
from app.ticks import Tick


def per_trade_us(engine: AlertEngine, ticks: list[Tick]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for t in ticks:
            engine.on_tick(t)
        best = min(best, time.perf_counter() - start)
    return best / len(ticks) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alerts", type=int, default=1000, help="alerts on the busy symbol")
    ap.add_argument("--trades", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = AlertStore(Path(tmp) / "alerts.sqlite3")
        engine = AlertEngine(store)
        users = max(1, args.alerts // 10)
        for u in range(users):  # ten alerts a user, all on AAPL, none near the price
            engine.set_board(f"user{u}", "main",
                             [Alert("AAPL", ">", 500.0 + u + i) for i in range(10)])
        engine.on_tick(Tick("AAPL", 100.0, 1.0, 0.0))  # settles every alert's state
        quiet = [Tick("MSFT", 400.0 + i % 7, 1.0, float(i)) for i in range(args.trades)]
        still = [Tick("AAPL", 100.0 + i % 7, 1.0, float(i)) for i in range(args.trades)]
        print(f"engine with {users * 10} alerts on AAPL ({users} users), store in {tmp}")
        print(f"  trade of a symbol without alerts: {per_trade_us(engine, quiet):8.2f} µs")
        print(f"  trade of AAPL, no crossing:       {per_trade_us(engine, still):8.2f} µs")
        crossings = []
        for _ in range(3):
            engine.set_board("x", "b", [Alert("TSLA", ">", 200.0)])
            engine.on_tick(Tick("TSLA", 199.0, 1.0, 0.0))
            start = time.perf_counter()
            assert len(engine.on_tick(Tick("TSLA", 201.0, 1.0, 1.0))) == 1
            crossings.append(time.perf_counter() - start)
            engine.set_board("x", "b", [])
        print(f"  a crossing (one firing stored):   {min(crossings) * 1e6:8.2f} µs")


if __name__ == "__main__":
    main()
