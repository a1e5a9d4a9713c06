"""The pure parts of the board's JavaScript (board_ui.js), run by node: the sort order
and reading the numbers a row shows."""

from __future__ import annotations

from tests.nodejs import run_module

RUN = """
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
    got = run_module("board_ui.js", RUN)
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


#: A notebook's comm as Panel's CommManager reads it: pieces (header, metadata,
#: content) into a Receiver, dropped while the output is not indexed yet. Messages
#: 1-4 are sent; the output is indexed between the header and the rest of message 2.
COMM = """
class Receiver {  // Bokeh's, reduced: header, then metadata, then content
  constructor() { this.parts = []; this.message = null }
  consume(text) {
    this.parts.push(JSON.parse(text)); this.message = null
    if (this.parts.length === 3) {
      const [header, metadata, content] = this.parts
      this.message = {header, metadata, content}; this.parts = []
    }
  }
}
function manager() {
  const mgr = {indexed: false, _receiver: new Receiver(), applied: [], errors: 0}
  mgr.msg_handler = function (msg) {
    if (!this.indexed) return  // Panel: `if (plot == null) return`
    this._receiver.consume(msg.content.data)
    const got = this._receiver.message
    if (got == null) return
    try { for (const e of got.content.events) this.applied.push(e.new) } catch { this.errors++ }
  }
  return mgr
}
const pieces = (n) => input.messages[n - 1]  // as Bokeh's Python side makes them
function run(patch) {
  const mgr = manager()
  if (patch) m.resyncOnHeaders({roots: () => [mgr, {name: "a plain root"}]})
  const send = (text) => mgr.msg_handler({content: {data: text}})
  send(pieces(1)[0]); send(pieces(1)[1]); send(pieces(1)[2])
  send(pieces(2)[0]); mgr.indexed = true; send(pieces(2)[1]); send(pieces(2)[2])
  for (const n of [3, 4]) for (const p of pieces(n)) send(p)
  return {applied: mgr.applied, errors: mgr.errors}
}
console.log(JSON.stringify({
  as_panel_reads_it: run(false), resynced: run(true),
  headers: [...pieces(1), '{"msgtype": 1}', "not json msgtype"].map(m.isMessageHeader),
}))
"""


def test_a_notebook_comm_reader_cut_mid_message_resyncs_at_the_next_header():
    got = run_module("board_ui.js", COMM, {"messages": patch_messages(4)})
    # Panel alone: message 2 cut in half, and every later one read out of step, for good
    assert got["as_panel_reads_it"]["applied"] == []
    assert got["as_panel_reads_it"]["errors"] >= 1
    # resynced at each header: only the cut message is lost
    assert got["resynced"] == {"applied": ["text 3", "text 4"], "errors": 0}
    assert got["headers"] == [True, False, False, False, False]


def patch_messages(n: int) -> list[list[str]]:
    """``n`` PATCH-DOC messages in the pieces Panel's notebook comm sends (its
    ``panel.io.notebook.send``: header, metadata, content), made by Bokeh."""
    from bokeh.document import Document
    from bokeh.document.events import ModelChangedEvent
    from bokeh.models import Div
    from bokeh.protocol import Protocol

    doc, div = Document(), Div()
    doc.add_root(div)
    out = []
    for i in range(1, n + 1):
        msg = Protocol().create("PATCH-DOC", [ModelChangedEvent(doc, div, "text", f"text {i}")])
        out.append([msg.header_json, msg.metadata_json, msg.content_json])
    return out
