"""Photon in a notebook: a live board, a streaming DataFrame and live charts in a few lines.

    import app as photon
    board = photon.board(["AAPL", "TSLA"], feed="mock")
    board                      # the live board inline
    board.table                # the streaming DataFrame, live (a Tabulator)
    board.frame                # ... and as a plain pandas DataFrame, now
    board.chart("AAPL")        # a live Bokeh chart
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
and hands them to the table (``patch``) and the charts (``ColumnDataSource.stream``
with ``rollover``): no polling loop, and nothing is recomputed for unchanged symbols.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from app.config import load_settings
from app.history.service import History, open_history
from app.hub.hub import Hub, make_hub
from app.quotes import Quote
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
        from IPython.display import Javascript, display

        display(Javascript(resync_script()))
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
    chart_points = param.Integer(default=600, doc="Points a live chart keeps (rollover).")

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
        self.table = pn.widgets.Tabulator(self.frame, show_index=False, disabled=True,
                                          sizing_mode="stretch_width")
        """The streaming DataFrame, live: patched in place each cycle."""
        self._charts: dict[str, list[tuple[ColumnDataSource, pn.pane.Bokeh]]] = {}
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
        history = self._history
        if history is None:  # a board on a shared hub, or closed: read the file only
            path = load_settings().history
            history = None if path == "off" else History(path, write=False)
        rows = [] if history is None else history.bars(symbol.upper(), interval,
                                                       _epoch(start), _epoch(end))
        if history is not None and history is not self._history:
            history.close()
        df = pd.DataFrame([(b.t, b.o, b.h, b.l, b.c, b.v) for b in rows],
                          columns=["time", "open", "high", "low", "close", "volume"])
        df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
        return df

    # -- live chart ------------------------------------------------------------
    def chart(self, symbol: str, height: int = 280):
        """A live price chart of ``symbol``: its recent history, then every new point."""
        symbol = symbol.upper()
        if symbol not in self.symbols:
            self.watch(symbol)
        hist = self.hub.history(symbol)
        source = ColumnDataSource({"time": [t * 1000 for t, _ in hist],
                                   "price": [p for _, p in hist]})
        fig = figure(title=f"{symbol} · live", x_axis_type="datetime", height=height,
                     sizing_mode="stretch_width", tools="pan,wheel_zoom,reset,crosshair")
        fig.line("time", "price", source=source, line_width=2)
        fig.add_tools(HoverTool(tooltips=[("time", "@time{%H:%M:%S}"),
                                          ("price", "@price{0,0.00}")],
                                formatters={"@time": "datetime"}, mode="vline"))
        pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")
        self._charts.setdefault(symbol, []).append((source, pane))
        return pane

    # -- each cycle --------------------------------------------------------------
    def _on_cycle(self) -> None:
        """Hand one hub cycle's changes to the table and the charts."""
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
        for symbol, charts in self._charts.items():
            pts = changes.points.get(symbol)
            if pts:
                new = {"time": [t * 1000 for t, _ in pts], "price": [p for _, p in pts]}
                for source, pane in charts:
                    if symbol in changes.resets:  # the whole line (a late backfill)
                        source.data = {k: v[-self.chart_points:] for k, v in new.items()}
                    else:
                        source.stream(new, rollover=self.chart_points)
                    # A Bokeh model changed directly: in a notebook Panel sends it
                    # only when asked (served, the server's document does it).
                    pn.io.push_notebook(pane)

    def close(self) -> None:
        """Stop updating and release every symbol; stop the hub if this board made it."""
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self._dash.close()
        if self._own_hub:
            self.hub.stop()
        if self._history is not None:
            self._history.close()
            self._history = None

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
