"""notebooks/explore.ipynb runs top to bottom on a headless kernel (no browser).

The notebook is executed once per module with nbclient, from ``notebooks/`` as
Jupyter would run it. One extra cell is appended at the end that reports, as JSON,
what the notebook built (the summary frame, the plot, the board's last push) and
what its clean-up left behind, so the assertions do not have to parse reprs.

Kernel ``python3``: jupyter_client falls back to ipykernel's built-in spec (run by
this interpreter) when no ``python3`` kernelspec is installed, so nothing needs
installing for this test.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from tests.support import bars_by_now

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
SYMBOLS = ["AAPL", "NVDA", "BINANCE:BTCUSDT"]

PROBE = """\
import json, os
import panel as pn
from bokeh.models import ColumnDataSource
from app.history.service import History
(_candles,) = [m for m in chart.__panel__().select(pn.pane.Bokeh)[0].object.references()
               if isinstance(m, ColumnDataSource) and "o" in m.data]
print(json.dumps({
    "summary": {sym: {k: float(v) for k, v in row.items()} for sym, row in summary.iterrows()},
    "df_columns": list(df.columns),
    "df_symbols": sorted(df["symbol"].unique()),
    "time_dtype": str(df["time"].dtype),
    "frame_columns": list(board.frame.columns),
    "frame_symbols": list(board.frame["symbol"]),
    "table_symbols": list(board.table.value["symbol"]),
    "table_last": {s: float(v) for s, v in zip(board.table.value["symbol"],
                                                board.table.value["last"])},
    "chart_candles": len(_candles.data["o"]),
    "chart_last_close": _candles.data["c"][-1] if _candles.data["c"] else None,
    "stored_day": len(History(os.environ["PHOTON_HISTORY"], write=False).day("AAPL")),
    "symbols_after": board.symbols,
    "board_cycle": json.loads(board._dash._board.last_delta or "{}").get("cycle", 0),
    "pushing": board._callback is not None,
    "refcounts": board.hub.refcounts(),
    "sessions": board.hub.sessions,
    "feed_running": board.hub.feed.running,
    "daily": {sym: {k: float(v) for k, v in row.items()} for sym, row in daily.iterrows()},
}))
"""


def _texts(cell) -> list[str]:
    """Every text an output of ``cell`` carries: stream text, text/plain, text/html."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o:
            out.extend(str(o.data[m]) for m in ("text/plain", "text/html") if m in o.data)
    return out


def _code_cell(nb, cell_id: str):
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.get("id") == cell_id]
    return cell


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    # The kernel inherits this: its board keeps history in a file of the test's own.
    history = tmp_path_factory.mktemp("history") / "history.sqlite3"
    old = os.environ.get("PHOTON_HISTORY")
    os.environ["PHOTON_HISTORY"] = str(history)
    try:
        yield _execute()
    finally:
        if old is None:
            os.environ.pop("PHOTON_HISTORY", None)
        else:
            os.environ["PHOTON_HISTORY"] = old


def _execute():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(new_code_cell(PROBE, id="test-probe"))
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError on the first cell that fails
    (probe,) = [o for o in _code_cell(nb, "test-probe").outputs if o.output_type == "stream"]
    return nb, json.loads(probe.text)


def test_committed_notebook_has_outputs_cleared():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None, c.get("id")


def test_every_cell_runs_without_error(executed):
    nb, _ = executed
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        assert c.execution_count is not None, c.get("id")
        for o in c.outputs:
            assert o.output_type != "error", (c.get("id"), o.get("ename"), o.get("evalue"))
            if o.output_type == "stream" and o.name == "stderr":
                assert "Traceback" not in o.text, (c.get("id"), o.text)


def test_ticks_arrived_while_waiting(executed):
    nb, _ = executed
    text = "".join(_texts(_code_cell(nb, "wait")))
    ticks = int(text.split(" ticks received")[0].split()[-1])
    assert ticks > 0, text


def test_ticks_and_summary_cover_the_watched_symbols(executed):
    nb, probe = executed
    tail = "\n".join(_texts(_code_cell(nb, "ticks")))
    summary_out = "\n".join(_texts(_code_cell(nb, "summary")))
    for sym in SYMBOLS:
        assert sym in summary_out
    assert any(sym in tail for sym in SYMBOLS)
    assert probe["df_columns"] == ["time", "symbol", "price"]
    assert set(SYMBOLS) <= set(probe["df_symbols"])
    assert probe["time_dtype"].startswith("datetime64[") and "UTC" in probe["time_dtype"]

    assert list(probe["summary"]) == SYMBOLS
    for sym, row in probe["summary"].items():
        assert row["points"] > 1 and row["last"] > 0, sym
        assert math.isfinite(row["volatility_bp"]) and row["volatility_bp"] > 0, sym
        assert math.isfinite(row["return_pct"]), sym
        # The mock moves a few basis points in seconds: the day change stays near its start.
        assert abs(row["day_change_pct"]) < 10, (sym, row)


def test_the_streaming_frame_follows_watch_and_unwatch(executed):
    _, probe = executed
    assert probe["frame_columns"] == ["symbol", "last", "change", "change_pct", "volume",
                                      "time"]
    assert probe["symbols_after"] == ["AAPL", "BINANCE:BTCUSDT", "TSLA"]
    assert probe["frame_symbols"] == probe["table_symbols"] == probe["symbols_after"]
    assert all(v > 0 for v in probe["table_last"].values()), probe["table_last"]


def test_the_chart_draws_the_stored_days_candles(executed):
    nb, probe = executed
    # The chart's "1 day": the day's candles in the store (live minutes fold in as they
    # come, so the store may have gained one since the chart last drew).
    assert probe["stored_day"] > 1
    assert probe["stored_day"] - 1 <= probe["chart_candles"] <= probe["stored_day"]
    assert probe["chart_last_close"] > 0
    outputs = _code_cell(nb, "chart").outputs
    assert any("application/vnd.holoviews_exec.v0+json" in o.get("data", {}) for o in outputs)


def test_board_was_pushed_to_and_clean_up_released_everything(executed):
    _, probe = executed
    assert probe["board_cycle"] > 0  # the periodic callback ran on the kernel's loop
    assert probe["pushing"] is False
    assert probe["refcounts"] == {}
    assert probe["sessions"] == 0
    assert probe["feed_running"] is False


def test_a_days_bars_give_returns_and_volatility_per_symbol(executed):
    _, probe = executed
    assert list(probe["daily"]) == SYMBOLS
    for sym, row in probe["daily"].items():
        # the backfilled session and live minutes (early in a trading day, only minutes)
        assert row["bars"] >= bars_by_now(sym, 60), (sym, row)
        assert math.isfinite(row["return_pct"]) and abs(row["return_pct"]) < 20, (sym, row)
        assert math.isfinite(row["volatility_pct"]) and row["volatility_pct"] > 0, (sym, row)
        assert row["volume"] > 0, (sym, row)
