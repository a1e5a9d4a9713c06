"""Faults under load, measured: what viewers see when a part of a deployment fails.

    python -m bench.drills.faults                   # 1000 viewers, 3 symbols each
    python -m bench.drills.faults --viewers 200 --recover 60

On loopback: redis-server, two relays (the second waits as a standby), two Photon
servers behind Debian's nginx with deploy/nginx-photon.conf, and N viewers
(bench/drills/faultviewer.py: real Bokeh sessions plus the fast lane, each coming back by
itself as a page does). Once every viewer shows prices, one fault at a time:

- ``relay kill -9``: the relay holding the upstream; the standby takes over.
- ``server kill -9``: one server; its viewers come back through nginx on the other.
- ``Redis restart``: redis-server killed and started again, empty, on its port.
- ``garbage in Redis``: malformed trade messages on every symbol's channel (not JSON,
  not UTF-8, a list, negative, zero, NaN and text prices, a 1 MB message, trades from
  2001) and nonsense in the relay's state hash and universe key.

For each: the longest wait between two updates any viewer saw across the fault (and
the median viewer's), the time from the fault until a viewer is shown a trade made
after it (median and slowest viewer), and prices shown that were wrong. Every trade the
relays publish is recorded from Redis as they publish it; a price shown is *wrong* if
it is not positive and finite, was one of the garbage messages, or differs from the
recorded trade of that symbol at that time; *unverified* if no trade of that symbol
at that time was recorded (the recorder's own connection was down: the Redis
restart). A viewer is back on live prices from the first update of a trade made
after the fault from which on it never waits more than 2 s (the mock trades each
symbol at least once a second) until the next fault. The next fault comes ``--settle``
seconds after every viewer was shown a trade made after this one, or after
``--recover`` seconds. Prints a table; a measurement, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import ROOT, pct, universe
from bench.drills.fault_deployment import Deployment, wait

CHANNEL = "photon:t:"


def garbage(now: float) -> list[bytes]:
    """Malformed trade messages, as a broken or hostile publisher might send them."""
    bad = [b"[1,2]", b"\xff\xfe not utf-8", b"{not json", b'"a string"', b"null",
           b'{"at": "soon", "ticks": "many"}', b'{"at": 1, "ticks": [[1, 2]]}']
    for price in ("-5", "0", "NaN", '"12.5"', "1e400"):
        bad.append(f'{{"at": {now}, "ticks": [[{price}, 1, {now}]]}}'.encode())
    bad.append(f'{{"at": {now}, "ticks": [[101.5, 1, 978307200]]}}'.encode())  # 2001
    bad.append(b'{"at": 1, "ticks": [' + b"[1, 1, 1]," * 100_000 + b"[1, 1, 1]]}")
    return bad


class Recorder(threading.Thread):
    """Every trade published on the symbols' channels: (symbol, ts) -> prices."""

    def __init__(self, port: int, ignore: set[bytes]):
        super().__init__(daemon=True)
        self.port, self.ignore = port, ignore
        self.trades: dict[tuple[str, float], set[float]] = {}
        self.outages = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import redis

        while not self.stop.is_set():
            try:
                client = redis.Redis(port=self.port, socket_connect_timeout=1)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(CHANNEL + "*")
                while not self.stop.is_set():
                    msg = pubsub.get_message(timeout=0.1)
                    if msg and msg["type"] == "pmessage":
                        self.note(msg["channel"].decode()[len(CHANNEL):], msg["data"])
            except (redis.RedisError, OSError):
                self.outages += 1
                time.sleep(0.02)

    def note(self, symbol: str, data: bytes) -> None:
        if data in self.ignore:
            return
        try:
            ticks = json.loads(data)["ticks"]
            for price, _size, ts in ticks:
                if isinstance(price, float | int) and math.isfinite(price) and price > 0:
                    self.trades.setdefault((symbol, float(ts)), set()).add(float(price))
        except (ValueError, TypeError, KeyError):
            return


def judge(shown: list, trades: dict, bad_prices: set[float]) -> tuple[list, list]:
    """(wrong, unverified) among the (symbol, ts, price, times) shown to viewers."""
    wrong, unverified = [], []
    for symbol, ts, price, n in shown:
        known = trades.get((symbol, float(ts)))
        if not (isinstance(price, float | int) and math.isfinite(price) and price > 0) or (
                known is not None and not any(math.isclose(price, p, rel_tol=1e-9)
                                              for p in known)):
            wrong.append((symbol, ts, price, n))
        elif known is None:
            (wrong if price in bad_prices else unverified).append((symbol, ts, price, n))
    return wrong, unverified


def fault_figures(viewers: list[dict], start: float, end: float,
                  steady_s: float = 2.0) -> dict:
    """Per fault: each viewer's longest wait between two updates across [start, end) (or
    from its last update to ``end``), and its time from ``start`` until it is back on
    live prices: the first update showing a trade made after ``start`` from which on no
    wait is longer than ``steady_s`` up to ``end`` (``never``: viewers not back by then,
    e.g. shown one fresh price and then frozen)."""
    gaps, back, never = [], [], 0
    for v in viewers:
        ups = v["updates"]
        before = [r for r, _ in ups if r < start]
        during = [(r, ts) for r, ts in ups if start <= r < end]
        times = before[-1:] + [r for r, _ in during] + [end]
        gaps.append(max(b - a for a, b in zip(times, times[1:], strict=False)))
        live_from, prev = None, (before[-1] if before else start)
        for r, ts in during:
            if r - prev > steady_s:
                live_from = None
            if live_from is None and ts >= start:
                live_from = r
            prev = r
        if live_from is None or end - prev > steady_s:
            never += 1
        else:
            back.append(live_from - start)
    return {"gap_max": max(gaps, default=None), "gap_p50": pct(gaps, 0.5),
            "back_p50": pct(back, 0.5), "back_max": max(back, default=None), "never": never}


class Viewers:
    """The viewer processes (bench/drills/faultviewer.py) and their latest status lines."""

    def __init__(self, base: str, n: int, per_proc: int, k: int, work: Path):
        self.n = n
        self.procs, self.status, self.results = [], {}, {}
        for first in range(0, n, per_proc):
            count = min(per_proc, n - first)
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.drills.faultviewer", "--base", base, "--first",
                 str(first), "--count", str(count), "--k", str(k)], cwd=ROOT, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=(work / f"viewers-{first}.log").open("w"))
            self.procs.append(proc)
            threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            msg = json.loads(line)
            if msg["event"] == "status":
                self.status[proc.pid] = msg
            else:
                self.results[proc.pid] = msg

    def total(self, key: str, mark: float | None = None) -> int:
        """Sum of ``key`` over the processes' latest status lines (with ``mark``: only
        lines written after they read that mark)."""
        return sum(s[key] for s in list(self.status.values())
                   if mark is None or s["mark"] == mark)

    def send(self, cmd: dict) -> None:
        for proc in self.procs:
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()

    def finish(self) -> tuple[list[dict], list]:
        self.send({"stop": True})
        for proc in self.procs:
            proc.wait(120)
        wait(lambda: len(self.results) == len(self.procs), 30, "the viewers' results")
        viewers = [v for r in self.results.values() for v in r["viewers"]]
        shown = [s for r in self.results.values() for s in r["shown"]]
        return viewers, shown


def run(opts) -> dict:
    with tempfile.TemporaryDirectory(prefix="photon-faults-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        dep = Deployment(work, opts.push_ms, stack)
        bad = garbage(time.time())
        recorder = Recorder(dep.redis_port, set(bad))
        dep.start_redis()
        recorder.start()
        stack.callback(recorder.stop.set)
        dep.start()
        print(f"deployment up: nginx :{dep.listen} -> servers {dep.ports}, redis "
              f":{dep.redis_port}; starting {opts.viewers} viewers", flush=True)
        viewers = Viewers(f"http://127.0.0.1:{dep.listen}", opts.viewers, opts.per_proc,
                          opts.k, work)
        stack.callback(lambda: [p.kill() for p in viewers.procs if p.poll() is None])
        wait(lambda: viewers.total("live") == opts.viewers, opts.ramp, "every viewer live")
        print(f"{opts.viewers} viewers live; settling {opts.settle} s", flush=True)
        time.sleep(opts.settle)

        def publish_garbage() -> None:
            import redis

            client = redis.Redis(port=dep.redis_port)
            for symbol in universe():
                for msg in bad:
                    client.publish(CHANNEL + symbol, msg)
            client.hset("photon:feed", mapping={"state": "exploded", "beat": "soon"})
            client.set("photon:universe", b"\xff{not json")

        def restart_redis() -> None:
            dep.kill("redis")
            dep.start_redis()

        faults = [("relay kill -9 (standby takes over)", lambda: dep.kill("relay-a")),
                  ("server kill -9 (viewers move to the other)", lambda: dep.kill("server-1")),
                  ("Redis restart (empty)", restart_redis),
                  ("garbage published to Redis", publish_garbage)]
        spans = []
        for name, act in faults:
            start = time.time()
            viewers.send({"mark": start})
            act()
            try:
                wait(lambda t=start: viewers.total("fresh", t) == opts.viewers, opts.recover,
                     name)
            except RuntimeError:
                print(f"{name}: not every viewer back within {opts.recover} s", flush=True)
            print(f"{name}: {viewers.total('fresh', start)}/{opts.viewers} viewers on fresh prices "
                  f"after {time.time() - start:.1f} s", flush=True)
            time.sleep(opts.settle)
            spans.append((name, start, time.time()))
        records, shown = viewers.finish()
        recorder.stop.set()
        bad_prices = {-5.0, 0.0, 12.5, 101.5}
        rows = []
        first = spans[0][1]
        for name, start, end in spans:
            in_span = [s for s in shown if start <= float(s[1]) < end
                       or (name.startswith("garbage") and float(s[1]) < first - 3600)]
            wrong, unverified = judge(in_span, recorder.trades, bad_prices)
            rows.append({"fault": name, **fault_figures(records, start, end),
                         "wrong": sum(n for *_, n in wrong), "wrong_examples": wrong[:3],
                         "unverified": sum(n for *_, n in unverified)})
        wrong_all, _ = judge(shown, recorder.trades, bad_prices)
        return {"viewers": opts.viewers, "k": opts.k, "push_ms": opts.push_ms, "rows": rows,
                "wrong_total": sum(n for *_, n in wrong_all),
                "reconnects": sum(v["connects"] for v in records) - len(records),
                "errors": _merge([v["errors"] for v in records])}


def _merge(dicts: list[dict]) -> dict:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def s(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def table(r: dict) -> str:
    lines = ["| fault | longest gap, any viewer / median viewer (s) | live prices again, "
             "median / slowest viewer (s) | viewers not back | wrong prices shown |",
             "|---|---|---|---|---|"]
    for row in r["rows"]:
        lines.append(f"| {row['fault']} | {s(row['gap_max'])} / {s(row['gap_p50'])} | "
                     f"{s(row['back_p50'])} / {s(row['back_max'])} | {row['never']} | "
                     f"{row['wrong']}" + (f" ({row['unverified']} unverified)"
                                          if row["unverified"] else "") + " |")
    return "\n".join(lines)


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--viewers", type=int, default=1000)
    p.add_argument("--per-proc", type=int, default=250, help="viewers per client process")
    p.add_argument("--k", type=int, default=3, help="symbols per viewer")
    p.add_argument("--push-ms", type=int, default=250, help="the servers' push interval")
    p.add_argument("--ramp", type=float, default=600.0, help="seconds for all to be live")
    p.add_argument("--recover", type=float, default=90.0,
                   help="seconds a fault may take before the next one")
    p.add_argument("--settle", type=float, default=10.0, help="seconds between faults")
    return p.parse_args(argv)


def main(argv=None) -> None:
    opts = parse(argv)
    result = run(opts)
    print(f"\n{result['viewers']} viewers x {result['k']} symbols, push "
          f"{result['push_ms']} ms; reconnects {result['reconnects']}, errors "
          f"{result['errors']}\n")
    print(table(result))
    for row in result["rows"]:
        if row["wrong_examples"]:
            print(f"wrong, {row['fault']}: {row['wrong_examples']}")


if __name__ == "__main__":
    main()
