"""Photon in a notebook: a live board, a streaming DataFrame and live charts in a few lines.

    import app as photon
    board = photon.board(["AAPL", "TSLA"], feed="mock")
    board                      # the live board inline
    board.table                # the streaming DataFrame, live (a Tabulator)
    board.frame                # ... and as a plain pandas DataFrame, now
    board.chart("AAPL")        # the served chart: live one-minute candles, volume, ranges
    board.watch("NVDA"); board.unwatch("TSLA")
    board.history("AAPL"); board.ticks()
    board.bars("AAPL", interval="5m")   # one-minute bars from the history store, resampled
    board.close()

It loads what it needs itself: the first board in a notebook loads Panel's scripts
(with Tabulator's, for ``board.table``) into the page, inline, unless the notebook
loaded Panel already (``pn.extension(...)``). Inline, because Panel's default loads
them from a CDN, which a notebook without internet access cannot reach: the price is
about 3.5 MB of scripts in that cell's output (and in the saved ``.ipynb``).

Everything runs on this kernel: the board's own hub and feed (``feed="finnhub"`` reads
``FINNHUB_API_KEY`` from the environment or ``.env`` like the server does). One
periodic callback per board takes each hub cycle's changes (``hub.changes_since``)
and patches the table: no polling loop, and nothing is recomputed for unchanged
symbols. A chart is the served one (:class:`app.views.chart.TickerChart`), which
follows the hub on its own timer; the board sends its Bokeh changes to the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter, NumberFormatter

from app.config import load_settings
from app.history.service import History, open_history
from app.hub.hub import Hub, make_hub
from app.quotes import Quote
from app.views.chart import TickerChart
from app.views.dashboard import Dashboard
from app.views.esm import classic_script

VIEWS = Path(__file__).parent / "views"

#: Panel extensions the notebook API uses (``board.table`` is a Tabulator).
EXTENSIONS = ("tabulator",)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where output is a notebook's page)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def load_panel() -> None:
    """Load Panel's scripts into the notebook once, if the notebook has not: inline (no
    CDN needed), with Tabulator's. If the notebook loaded Panel itself, only the missing
    extensions are added, the way it chose (CDN or inline). Outside a kernel: nothing."""
    if not in_notebook():
        return
    from panel.config import panel_extension

    missing = [e for e in EXTENSIONS if e not in panel_extension._loaded_extensions]
    if not panel_extension._loaded:
        pn.extension(*missing, inline=True)
    elif missing:
        pn.extension(*missing)
    global _resync_shown
    if not _resync_shown:
        from IPython.display import HTML, display

        # A script in an HTML output takes no room; a Javascript output is a 10 px strip.
        display(HTML(f"<script>{resync_script()}</script>"))
        _resync_shown = True


_resync_shown = False


def resync_script() -> str:
    """A script for the notebook's page: once any Panel output is there, every output's
    comm reader starts afresh at each message header (app/views/comm_resync.js), so a
    live chart or table whose first messages Panel dropped still updates. The board
    does the same when it renders; this covers outputs shown without one."""
    return ("(function () {\n" + classic_script(VIEWS / "comm_resync.js") +
            "\nconst timer = setInterval(() => { if (resyncPyViz(window)) "
            "clearInterval(timer) }, 250)\n})()")


#: Columns of :attr:`LiveBoard.frame`, one row per watched symbol.
FRAME_COLUMNS = ["symbol", "last", "change", "change_pct", "volume", "time"]

#: How :attr:`LiveBoard.table` shows them: whole times (to the second, UTC) and
#: volumes with thousands separators, whole unless the asset trades in fractions.
TABLE_FORMATTERS = {
    "last": NumberFormatter(format="0,0.00[00]"),
    "change": NumberFormatter(format="+0,0.00[00]"),
    "change_pct": NumberFormatter(format="+0.00"),
    "volume": NumberFormatter(format="0,0[.][0000]"),
    "time": DateFormatter(format="%Y-%m-%d %H:%M:%S"),
}
TABLE_TITLES = {"change_pct": "change %", "time": "time (UTC)"}
#: Widths (px) that fit each column's values: the table is built before the first
#: quotes, so widths fitted to its data would fit "NaT" and cut the times.
TABLE_WIDTHS = {"symbol": 160, "last": 110, "change": 100, "change_pct": 125,
                "volume": 130, "time": 170}


def quote_record(q: Quote | None, symbol: str) -> dict:
    """One row of the streaming DataFrame (NaN/NaT where nothing is known yet)."""
    nan = float("nan")
    return {
        "symbol": symbol,
        "last": q.last if q and q.last is not None else nan,
        "change": q.change if q and q.change is not None else nan,
        "change_pct": q.change_pct if q and q.change_pct is not None else nan,
        "volume": q.volume if q else 0.0,
        "time": pd.to_datetime(q.ts, unit="s", utc=True) if q and q.ts else pd.NaT,
    }


def points_frame(points: list[tuple[float, float]], symbol: str | None = None) -> pd.DataFrame:
    """Sparkline points ``(unix seconds, price)`` as a tidy frame with UTC times."""
    df = pd.DataFrame(points, columns=["time", "price"])
    df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
    if symbol is not None:
        df.insert(1, "symbol", symbol)
    return df


class LiveBoard(pn.viewable.Viewer):
    """A live Photon board for a notebook, with its data as pandas and live charts."""

    symbols = param.List(default=[], doc="The symbols watched (change with watch/unwatch).")

    def __init__(self, symbols: Iterable[str] = (), *, feed: str = "mock",
                 push_interval_ms: int | None = None, speed: float = 1.0,
                 hub: Hub | None = None, **params):
        load_panel()
        super().__init__(**params)
        # The cadence is the hub's: PHOTON_PUSH_INTERVAL_MS (100 ms by default), as served.
        overrides = {"PHOTON_FEED": feed, "PHOTON_REPLAY_SPEED": str(speed)}
        if push_interval_ms is not None:
            overrides["PHOTON_PUSH_INTERVAL_MS"] = str(push_interval_ms)
        settings = load_settings(overrides=overrides)
        self._own_hub = hub is None
        self.hub = hub or make_hub(settings).start()
        # The history store (PHOTON_HISTORY): this board's trades go in (unless another
        # process writes the file), and a symbol's first watch backfills its day.
        self._history: History | None = open_history(settings, self.hub.feed) \
            if self._own_hub else None
        if self._history is not None:
            self._history.attach(self.hub)
        self._dash = Dashboard(hub=self.hub, symbols=list(symbols),
                               max_symbols=settings.max_symbols).start()
        self.symbols = list(self._dash.subscription.symbols)
        self._reader: History | None = None  # the store read, without one of its own
        self.table = pn.widgets.Tabulator(self.frame, show_index=False, disabled=True,
                                          formatters=TABLE_FORMATTERS, titles=TABLE_TITLES,
                                          widths=TABLE_WIDTHS,
                                          sizing_mode="stretch_width")
        """The streaming DataFrame, live: patched in place each cycle."""
        self._charts: list[tuple[TickerChart, list[pn.pane.Bokeh]]] = []
        self._cycle = self.hub.cycle
        self._callback = pn.state.add_periodic_callback(self._on_cycle,
                                                        self.hub.push_interval_floor_ms)

    # -- what is watched ---------------------------------------------------
    def watch(self, *symbols: str) -> None:
        """Add symbols (the board, table and hub follow)."""
        self._select([*self.symbols, *symbols])

    def unwatch(self, *symbols: str) -> None:
        """Remove symbols; the hub stops asking its feed for any nobody watches."""
        gone = {s.upper() for s in symbols}
        self._select([s for s in self.symbols if s not in gone])

    def _select(self, symbols: list[str]) -> None:
        self._dash.select(symbols)
        self.symbols = list(self._dash.subscription.symbols)
        self.table.value = self.frame

    # -- data ----------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """The latest quote of each watched symbol: last, change, change %, volume, time."""
        rows = [quote_record(self.hub.quote(s), s) for s in self.symbols]
        df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        # UTC nanoseconds even while all unknown, so each cycle's patch fits the column.
        df["time"] = pd.to_datetime(df["time"], utc=True).astype("datetime64[ns, UTC]")
        return df

    def history(self, symbol: str) -> pd.DataFrame:
        """Recent prices of ``symbol`` (one point per cycle it changed), oldest first."""
        return points_frame(self.hub.history(symbol.upper()))

    def ticks(self) -> pd.DataFrame:
        """Recent prices of every watched symbol, tidy: time, symbol, price."""
        frames = [points_frame(self.hub.history(s), s) for s in self.symbols]
        if not frames:
            return points_frame([], "").iloc[0:0]
        return pd.concat(frames, ignore_index=True).sort_values(["time", "symbol"],
                                                                ignore_index=True)

    def bars(self, symbol: str, interval: str = "1m", start=None, end=None) -> pd.DataFrame:
        """Bars of ``symbol`` from the history store: time (bar start, UTC), open, high,
        low, close, volume; ``interval`` one of 1m, 5m, 15m, 1h, 1d; ``start``/``end``
        as epoch seconds, datetimes or anything ``pd.Timestamp`` reads (UTC if naive)."""
        history = self._store()
        rows = [] if history is None else history.bars(symbol.upper(), interval,
                                                       _epoch(start), _epoch(end))
        if self._callback is None and history is self._reader is not None:
            self._reader.close()  # closed: nothing else will close it
            self._reader = None
        df = pd.DataFrame([(b.t, b.o, b.h, b.l, b.c, b.v) for b in rows],
                          columns=["time", "open", "high", "low", "close", "volume"])
        df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
        return df

    def _store(self) -> History | None:
        """The history store: this board's, else the file read only (a board on a shared
        hub, or a closed one); None with ``PHOTON_HISTORY=off``."""
        if self._history is not None:
            return self._history
        if self._reader is None:
            path = load_settings().history
            self._reader = None if path == "off" else History(path, write=False)
        return self._reader

    # -- live chart ------------------------------------------------------------
    def chart(self, symbol: str) -> TickerChart:
        """The served chart of ``symbol``: one-minute candles from the history store with
        their volume, the ranges, the previous close and the live price, following every
        cycle (a closed market's gap stays a gap)."""
        symbol = symbol.upper()
        if symbol not in self.symbols:
            self.watch(symbol)
        chart = TickerChart(hub=self.hub, symbol=symbol, history=self._store())
        entry = (chart, chart.__panel__().select(pn.pane.Bokeh))
        self._charts.append(entry)

        def closed() -> None:
            chart.close()
            chart.__panel__().visible = False
            if entry in self._charts:
                self._charts.remove(entry)

        chart.on_close(closed)
        return chart

    # -- each cycle --------------------------------------------------------------
    def _on_cycle(self) -> None:
        """Hand one hub cycle's changes to the table; send the charts' changes."""
        for _, panes in self._charts:
            # A chart changes its Bokeh models directly: in a notebook Panel sends such
            # changes only when asked (served, the server's document does it). Nothing
            # is sent when nothing changed.
            for pane in panes:
                pn.io.push_notebook(pane)
        changes = self.hub.changes_since(self._cycle, self.symbols)
        self._cycle = changes.cycle
        if not changes.quotes:
            return
        index = {s: i for i, s in enumerate(self.table.value["symbol"])}
        patch: dict[str, list[tuple[int, object]]] = {c: [] for c in FRAME_COLUMNS[1:]}
        for q in changes.quotes:
            if q.symbol in index:
                record = quote_record(q, q.symbol)
                for col in patch:
                    patch[col].append((index[q.symbol], record[col]))
        if any(patch.values()):
            self.table.patch(patch, as_index=False)

    def close(self) -> None:
        """Stop updating and release every symbol; stop the hub if this board made it."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        for chart, _ in self._charts:
            chart.close()
        self._charts.clear()
        self._dash.close()
        if self._own_hub:
            self.hub.stop()
        for store in (self._history, self._reader):
            if store is not None:
                store.close()
        self._history = self._reader = None

    def __panel__(self):
        return self._dash


def _epoch(when) -> int | None:
    """Epoch seconds from a number, a datetime or a date string (naive means UTC)."""
    if when is None:
        return None
    if isinstance(when, int | float):
        return int(when)
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.timestamp())


def board(symbols: Iterable[str] = ("AAPL", "TSLA", "GOOGL"), feed: str = "mock",
          push_interval_ms: int | None = None, **params) -> LiveBoard:
    """A live board of ``symbols`` on ``feed``: "mock", "finnhub" (with a key) or
    "replay:PATH" (a recording; ``speed=10`` plays it ten times faster). It updates at
    the served board's cadence (``PHOTON_PUSH_INTERVAL_MS``, 100 ms) unless
    ``push_interval_ms`` says otherwise."""
    return LiveBoard(symbols, feed=feed, push_interval_ms=push_interval_ms, **params)
