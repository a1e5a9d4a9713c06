"""The pure parts of the board's JavaScript (board_ui.js), run by node: the sort order
and reading the numbers a row shows."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[2] / "app" / "views"

RUN = """
const src = await (await import("node:fs/promises")).readFile(process.argv[1], "utf8")
const m = await import("data:text/javascript;base64," + Buffer.from(src).toString("base64"))
const rows = [
  {symbol: "MSFT", last: 400, pct: -2, vol: 1200},
  {symbol: "AAPL", last: 200, pct: 1, vol: null},
  {symbol: "TSLA", last: null, pct: null, vol: 50},
  {symbol: "NVDA", last: 120, pct: 1, vol: 4.56e6},
]
const order = (text) => m.orderRows(rows, m.parseSort(text)).map((r) => r.symbol)
console.log(JSON.stringify({
  none: order(""), change: order("change"), down: order("-change"), last: order("-last"),
  symbol: order("symbol"), volume: order("volume"), junk: order("price"),
  sortText: [m.sortText(m.parseSort("-Volume")), m.sortText(m.parseSort("--last"))],
  pct: ["+1.23 (+0.82%)", "-1,234.50 (-12.50%)", "—"].map(m.parsePct),
  vol: ["950", "12.3K", "4.56M", "1.2B", "—"].map(m.parseVolume),
}))
"""


def test_sorting_helpers():
    node = shutil.which("node")
    assert node, "node is needed (apt-get install nodejs; .ci/run installs it)"
    out = subprocess.run([node, "--input-type=module", "-e", RUN, "--",
                          str(VIEWS / "board_ui.js")], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    got = json.loads(out)
    assert got["none"] == ["MSFT", "AAPL", "TSLA", "NVDA"]  # the picker's order
    assert got["change"] == ["MSFT", "AAPL", "NVDA", "TSLA"]  # ties by symbol, unknown last
    assert got["down"] == ["AAPL", "NVDA", "MSFT", "TSLA"]  # unknown last either way
    assert got["last"] == ["MSFT", "AAPL", "NVDA", "TSLA"]
    assert got["symbol"] == ["AAPL", "MSFT", "NVDA", "TSLA"]
    assert got["volume"] == ["TSLA", "MSFT", "NVDA", "AAPL"]
    assert got["junk"] == got["none"]
    assert got["sortText"] == ["-volume", ""]
    assert got["pct"] == [0.82, -12.5, None]
    assert got["vol"] == [950, 12300, 4560000, 1200000000, None]
