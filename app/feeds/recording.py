"""Recordings of a feed: gzipped JSON lines, written while it runs, read back in order.

Why JSON lines in gzip rather than Parquet: a recording is appended to for as long
as a feed runs (an hour of Finnhub, or a server with ``PHOTON_RECORD``), and a
process that is killed must leave a readable file. Each line is flushed through one
gzip stream, so a cut-off file still reads up to its last complete line; Parquet
would need whole row groups and a footer written at close. Lines also read with
``zcat``, load into pandas with one call (:func:`load_frame`), and need no extra
dependency. Layout:

    {"photon_recording": 1, "feed": "mock", "started": 1764300000.0}
    {"k": "ref", "s": "AAPL", "pc": 225.63, "o": null, "h": null, "l": null, "c": 227.52}
    {"k": "tick", "s": "AAPL", "p": 227.53, "q": 100.0, "ts": 1764300000.1, "rx": 1764300000.1}

``ts`` is the exchange time of the trade, ``rx`` when Photon received it; replays
keep the original spacing of ``rx``.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.ticks import Reference, Tick

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Recorded:
    """One tick as recorded, with when Photon received it."""

    tick: Tick
    rx: float


class Recorder:
    """Appends ticks and reference prices to a recording (thread-safe)."""

    def __init__(self, path: str | Path, feed: str, flush_every_s: float = 1.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = gzip.open(self.path, "wt", encoding="utf-8")  # noqa: SIM115 - until close()
        self._lock = threading.Lock()
        self._flush_every_s = flush_every_s
        self._flushed = time.monotonic()
        self.ticks = 0
        self._write({"photon_recording": FORMAT_VERSION, "feed": feed, "started": time.time()})

    def record_ticks(self, ticks: list[Tick]) -> None:
        rx = time.time()
        with self._lock:
            for t in ticks:
                self._write({"k": "tick", "s": t.symbol, "p": t.price, "q": t.size,
                             "ts": t.ts, "rx": rx})
            self.ticks += len(ticks)
            self._maybe_flush()

    def record_reference(self, ref: Reference | None) -> None:
        if ref is None:
            return
        with self._lock:
            self._write({"k": "ref", "s": ref.symbol, "pc": ref.prev_close, "o": ref.open,
                         "h": ref.high, "l": ref.low, "c": ref.last})
            self._maybe_flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def _write(self, obj: dict) -> None:
        if not self._file.closed:
            self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._flushed >= self._flush_every_s:
            self._file.flush()
            self._flushed = time.monotonic()


@dataclass(frozen=True)
class Recording:
    """A whole recording in memory: its header, references and ticks in order."""

    feed: str
    started: float
    references: dict[str, Reference]
    ticks: list[Recorded]

    @property
    def symbols(self) -> list[str]:
        return sorted({r.tick.symbol for r in self.ticks} | set(self.references))


def read(path: str | Path) -> Recording:
    """Read a recording; a file cut off mid-line (a killed recorder) reads up to there."""
    header: dict = {}
    refs: dict[str, Reference] = {}
    ticks: list[Recorded] = []
    for obj in _lines(Path(path)):
        kind = obj.get("k")
        if "photon_recording" in obj:
            header = obj
        elif kind == "ref":
            refs.setdefault(obj["s"], Reference(obj["s"], prev_close=obj["pc"], open=obj.get("o"),
                                                high=obj.get("h"), low=obj.get("l"),
                                                last=obj.get("c")))
        elif kind == "tick":
            ticks.append(Recorded(Tick(obj["s"], float(obj["p"]), float(obj["q"]),
                                       float(obj["ts"])), float(obj["rx"])))
    if not header:
        raise ValueError(f"{path} is not a Photon recording (no header line)")
    return Recording(header.get("feed", ""), float(header.get("started", 0.0)), refs, ticks)


def _lines(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        try:
            for line in f:
                if line.endswith("\n"):
                    yield json.loads(line)
        except (EOFError, gzip.BadGzipFile):  # cut off: keep what was complete
            return


def load_frame(path: str | Path):
    """The ticks of a recording as a pandas DataFrame (time, received, symbol, price, size)."""
    import pandas as pd

    rec = read(path)
    df = pd.DataFrame([(r.tick.ts, r.rx, r.tick.symbol, r.tick.price, r.tick.size)
                       for r in rec.ticks],
                      columns=["time", "received", "symbol", "price", "size"])
    for col in ("time", "received"):
        df[col] = pd.to_datetime(df[col], unit="s", utc=True)
    return df
