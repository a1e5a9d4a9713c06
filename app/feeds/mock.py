"""The mock feed: a seeded random-walk market that needs no account.

:class:`MockMarket` is the pure, deterministic part (same seed and same steps give
the same ticks); :class:`MockFeed` runs it on a thread in real time behind the
same :class:`~app.feeds.base.Feed` interface as a real upstream. Its stocks keep the
exchange's day (``hours``): a tenth of the trading in the extended hours, none while
the market is closed; crypto trades around the clock. After a restart it carries on
from the last prices on record (:meth:`MockFeed.resume`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import param

from app.config import Settings
from app.feeds.base import Feed
from app.market_hours import Phase, is_crypto_or_fx
from app.ticks import FeedState, Reference, SymbolInfo, Tick


@dataclass(frozen=True, slots=True)
class Instrument:
    """A simulated instrument: start price, yesterday's close, how it moves."""

    symbol: str
    name: str
    price: float
    prev_close: float
    vol: float
    """Volatility per sqrt(second), as a fraction of price (a lively trading day)."""
    rate: float
    """Mean trades per second."""
    lot: int = 100
    """Typical trade size."""


def _i(symbol: str, name: str, price: float, change_pct: float, vol: float, rate: float,
       lot: int = 100) -> Instrument:
    prev = round(price / (1 + change_pct / 100), 2)
    return Instrument(symbol, name, price, prev, vol, rate, lot)


#: The mock universe: well-known names with plausible prices, day changes, activity.
UNIVERSE: tuple[Instrument, ...] = (
    _i("AAPL", "Apple Inc.", 227.52, 0.84, 0.0006, 8.0),
    _i("MSFT", "Microsoft Corp.", 415.10, -0.32, 0.0005, 6.0),
    _i("GOOGL", "Alphabet Inc. Class A", 171.35, 1.12, 0.0006, 5.0),
    _i("AMZN", "Amazon.com Inc.", 186.40, -0.75, 0.0007, 6.0),
    _i("NVDA", "NVIDIA Corp.", 131.26, 2.41, 0.0012, 10.0),
    _i("META", "Meta Platforms Inc.", 563.33, 0.56, 0.0008, 5.0),
    _i("TSLA", "Tesla Inc.", 251.44, -1.93, 0.0014, 9.0),
    _i("NFLX", "Netflix Inc.", 701.50, 0.21, 0.0008, 3.0),
    _i("AMD", "Advanced Micro Devices", 158.92, 1.37, 0.0011, 6.0),
    _i("INTC", "Intel Corp.", 22.31, -0.54, 0.0010, 4.0, 200),
    _i("ORCL", "Oracle Corp.", 171.08, 0.44, 0.0006, 3.0),
    _i("CRM", "Salesforce Inc.", 289.63, -0.18, 0.0007, 2.5),
    _i("ADBE", "Adobe Inc.", 507.21, 0.65, 0.0007, 2.0),
    _i("AVGO", "Broadcom Inc.", 168.94, 1.02, 0.0010, 4.0),
    _i("QCOM", "Qualcomm Inc.", 163.47, -0.27, 0.0008, 2.5),
    _i("IBM", "IBM Corp.", 221.39, 0.12, 0.0005, 1.5),
    _i("CSCO", "Cisco Systems Inc.", 56.02, 0.09, 0.0005, 2.5, 200),
    _i("UBER", "Uber Technologies Inc.", 71.86, -1.14, 0.0010, 3.0),
    _i("JPM", "JPMorgan Chase & Co.", 222.80, 0.31, 0.0005, 3.0),
    _i("BAC", "Bank of America Corp.", 41.27, -0.22, 0.0006, 4.0, 300),
    _i("GS", "Goldman Sachs Group Inc.", 516.30, 0.48, 0.0006, 1.5),
    _i("V", "Visa Inc.", 288.61, 0.15, 0.0004, 2.0),
    _i("MA", "Mastercard Inc.", 515.80, 0.27, 0.0004, 1.5),
    _i("WMT", "Walmart Inc.", 82.51, 0.36, 0.0004, 3.0),
    _i("KO", "Coca-Cola Co.", 63.15, -0.11, 0.0003, 2.0, 200),
    _i("PEP", "PepsiCo Inc.", 162.40, -0.29, 0.0003, 1.5),
    _i("MCD", "McDonald's Corp.", 294.72, 0.05, 0.0004, 1.5),
    _i("DIS", "Walt Disney Co.", 94.12, -0.63, 0.0006, 2.5),
    _i("NKE", "Nike Inc.", 78.44, -1.05, 0.0007, 2.5),
    _i("XOM", "Exxon Mobil Corp.", 118.27, 0.72, 0.0005, 3.0),
    _i("CVX", "Chevron Corp.", 156.03, 0.58, 0.0005, 2.0),
    _i("PFE", "Pfizer Inc.", 28.74, -0.45, 0.0005, 3.0, 300),
    _i("JNJ", "Johnson & Johnson", 155.92, 0.08, 0.0003, 1.5),
    _i("SPY", "SPDR S&P 500 ETF", 571.44, 0.35, 0.0003, 12.0),
    _i("QQQ", "Invesco QQQ Trust", 487.21, 0.52, 0.0004, 10.0),
    _i("BINANCE:BTCUSDT", "Bitcoin / Tether", 67250.00, 1.85, 0.0009, 12.0, 1),
    _i("BINANCE:ETHUSDT", "Ether / Tether", 2615.40, 2.44, 0.0011, 10.0, 1),
)

#: Every subscribed symbol gets at least one trade within this many seconds (in the
#: regular session; ten times as long in the extended hours).
MAX_QUIET_S = 0.8
#: How much of the regular session's trading happens in each phase of the day.
ACTIVITY = {Phase.REGULAR: 1.0, Phase.PRE: 0.1, Phase.POST: 0.1, Phase.CLOSED: 0.0}


class MockMarket:
    """Deterministic market simulator: a geometric random walk per instrument.

    ``step(symbols, dt, now)`` advances the market by ``dt`` seconds and returns
    the trades of that interval. Same seed + same calls = same ticks.
    """

    def __init__(self, seed: int | None = None, universe: tuple[Instrument, ...] = UNIVERSE):
        self._rng = random.Random(seed)
        self.instruments = {ins.symbol: ins for ins in universe}
        self._price = {s: ins.price for s, ins in self.instruments.items()}
        self._quiet = {s: 0.0 for s in self.instruments}

    def price(self, symbol: str) -> float:
        return self._price[symbol]

    def resume(self, prices: Mapping[str, float]) -> int:
        """Carry on from ``prices`` (the last on record) instead of the start prices;
        unknown symbols and unusable prices are skipped. How many were taken."""
        taken = 0
        for sym, price in prices.items():
            if sym in self._price and isinstance(price, int | float) \
                    and math.isfinite(price) and price > 0:
                self._price[sym] = round(float(price), 2)
                taken += 1
        return taken

    def step(self, symbols: list[str], dt: float, now: float,
             phases: Mapping[str, Phase] | None = None) -> list[Tick]:
        """Trades of ``symbols`` during the next ``dt`` seconds, stamped ``now``; each
        symbol trades as much as its phase of the day allows (default: regular)."""
        ticks: list[Tick] = []
        for sym in sorted(symbols):
            ins = self.instruments.get(sym)
            activity = ACTIVITY[(phases or {}).get(sym, Phase.REGULAR)]
            if ins is None or activity == 0.0:
                continue
            n = self._poisson(ins.rate * activity * dt)
            self._quiet[sym] += dt
            if n == 0 and self._quiet[sym] >= MAX_QUIET_S / activity:
                n = 1  # a quiet name still prints at least once a second (in session)
            for k in range(n):
                ticks.append(self._trade(ins, dt / max(n, 1), now, forced=k == 0))
            if n:
                self._quiet[sym] = 0.0
        return ticks

    def _trade(self, ins: Instrument, dt: float, now: float, forced: bool) -> Tick:
        old = self._price[ins.symbol]
        shock = self._rng.gauss(0.0, ins.vol * math.sqrt(max(dt, 1e-3)))
        # Pull gently back toward the start so a long demo does not drift away.
        revert = 0.0005 * (math.log(ins.price) - math.log(old))
        new = max(0.01, round(old * math.exp(shock + revert), 2))
        if forced and new == old:
            new = round(old + (0.01 if self._rng.random() < 0.5 else -0.01), 2)
            new = max(0.01, new)
        self._price[ins.symbol] = new
        size = max(1, int(self._rng.expovariate(1.0) * ins.lot))
        return Tick(ins.symbol, new, float(size), now)

    def _poisson(self, lam: float) -> int:
        """Knuth's Poisson sampler; lam is small (a few trades per step)."""
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self._rng.random()
            if p <= limit:
                return k
            k += 1


class MockFeed(Feed):
    """Random-walk trades for the mock universe, in real time, on a thread."""

    feed_type = "mock"
    label = "Mock"
    reference_is_fast = True

    seed = param.Integer(default=None, allow_None=True, doc="Seed for reproducible runs.")
    step_s = param.Number(default=0.05, bounds=(0.001, 1.0), doc="Simulation step, seconds.")
    clock = param.Callable(default=time.time, doc="Unix seconds now: trade times and the "
                           "phase of the day (tests pass a clock of their own).")

    def __init__(self, **params):
        super().__init__(**params)
        self.market = MockMarket(self.seed)

    @classmethod
    def from_settings(cls, settings: Settings) -> MockFeed:
        return cls(seed=settings.mock_seed)

    def universe(self) -> list[SymbolInfo]:
        return [SymbolInfo(i.symbol, i.name) for i in self.market.instruments.values()]

    def resume(self, prices: Mapping[str, float]) -> None:
        self.market.resume(prices)

    def phases(self, symbols: list[str], now: float) -> dict[str, Phase]:
        """The phase of each of ``symbols`` at ``now`` (stocks share one)."""
        at = datetime.fromtimestamp(now, UTC)
        stock: Phase | None = None
        out: dict[str, Phase] = {}
        for sym in symbols:
            if is_crypto_or_fx(sym):
                out[sym] = self.phase(sym, at)
            else:
                stock = stock or self.phase(sym, at)
                out[sym] = stock
        return out

    def reference(self, symbol: str) -> Reference | None:
        ins = self.market.instruments.get(symbol)
        if ins is None:
            return None
        return Reference(symbol, prev_close=ins.prev_close, open=ins.prev_close,
                         last=self.market.price(symbol))

    def _run(self) -> None:
        self.state = FeedState.LIVE
        last = time.monotonic()
        while not self._stop.wait(self.step_s):
            now = self.last_message_mono = time.monotonic()
            symbols, at = sorted(self.symbols), self.clock()
            ticks = self.market.step(symbols, now - last, at, self.phases(symbols, at))
            last = now
            self._emit(ticks)
