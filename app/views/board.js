// Photon board: renders rows, flashes price changes, draws sparklines.
// Test hooks (stable): [data-symbol=SYM] per row, .photon-price per price,
// .photon-up / .photon-down on the price while a flash lasts.

const SVG = "http://www.w3.org/2000/svg"

function cell(cls, text) {
  const el = document.createElement("span")
  el.className = cls
  el.textContent = text ?? ""
  return el
}

function fmtTime(ts) {
  if (ts == null) return "—"
  return new Date(ts * 1000).toLocaleTimeString([], {hour12: false})
}

function drawSpark(entry) {
  const pts = entry.points
  const poly = entry.line
  if (pts.length < 2) { poly.setAttribute("points", ""); return }
  const W = 120, H = 28
  let lo = Infinity, hi = -Infinity
  for (const p of pts) { if (p[1] < lo) lo = p[1]; if (p[1] > hi) hi = p[1] }
  const span = hi - lo || 1
  const n = pts.length
  const coords = pts.map((p, i) =>
    `${(i / (n - 1) * W).toFixed(1)},${(H - 2 - (p[1] - lo) / span * (H - 4)).toFixed(1)}`)
  poly.setAttribute("points", coords.join(" "))
  const up = pts[n - 1][1] >= pts[0][1]
  entry.spark.classList.toggle("photon-spark-up", up)
  entry.spark.classList.toggle("photon-spark-down", !up)
}

// Tick-to-screen delay as the viewer sees it, from each update's trade time (ts) and
// the server's publication time (at). Browser and server clocks differ, so the offset
// is estimated from the messages themselves: the smallest (receipt - at) over the last
// half minute is the clock offset plus the fastest delivery seen, NTP-style; the delay
// of a trade is then receipt - offset - ts (at most a few ms short of the true value).
const OFFSET_WINDOW_MS = 30000
const DELAY_WINDOW_MS = 3000

export class DelayMeter {
  constructor() { this.offsets = []; this.delays = [] }

  // One message received at nowMs (browser clock) with publication time `at` and the
  // trade times of the rows that carry new trades; returns the median delay in ms.
  observe(nowMs, at, tradeTimes) {
    const recv = nowMs / 1000
    this.offsets.push([nowMs, recv - at])
    while (this.offsets[0][0] < nowMs - OFFSET_WINDOW_MS) this.offsets.shift()
    const offset = Math.min(...this.offsets.map((o) => o[1]))
    for (const ts of tradeTimes) this.delays.push([nowMs, Math.max(0, recv - offset - ts)])
    while (this.delays.length && this.delays[0][0] < nowMs - DELAY_WINDOW_MS) this.delays.shift()
    if (!this.delays.length) return null
    const sorted = this.delays.map((d) => d[1]).sort((a, b) => a - b)
    return Math.round(sorted[Math.floor(sorted.length / 2)] * 1000)
  }
}

export function render({ model, el }) {
  const board = document.createElement("div")
  board.className = "photon-board"
  const header = document.createElement("div")
  header.className = "photon-row photon-head"
  for (const text of ["Symbol", "Last", "Change", "Volume", "Updated", "Trend"]) {
    header.append(cell("head", text))
  }
  const body = document.createElement("div")
  body.className = "photon-body"
  const empty = cell("photon-empty", "No tickers selected: pick some above.")
  const staleNote = cell("photon-stale-note", "")
  const notice = cell("photon-message", "")  // e.g. refused input; plain text
  notice.setAttribute("role", "alert")
  board.append(notice, staleNote, header, body, empty)
  el.append(board)
  board.classList.toggle("photon-compact", model.compact)  // an embed: one line, no header
  board.style.setProperty("--photon-spark-w", `${model.spark_width}px`)
  board.style.setProperty("--photon-spark-h", `${model.spark_height}px`)

  const entries = new Map()
  const timers = new Set()

  function flash(entry, cls) {
    const px = entry.price
    px.classList.remove("photon-up", "photon-down")
    void px.offsetWidth // restart the CSS animation
    px.classList.add(cls)
    clearTimeout(entry.timer)
    timers.delete(entry.timer)
    entry.timer = setTimeout(() => { px.classList.remove(cls); timers.delete(entry.timer) },
                             model.flash_ms)
    timers.add(entry.timer)
  }

  function update(entry, r) {
    if (entry.last != null && r.last != null && r.last !== entry.last) {
      flash(entry, r.last > entry.last ? "photon-up" : "photon-down")
    }
    entry.last = r.last
    entry.price.textContent = r.price
    entry.arrow.textContent = r.trend > 0 ? "▲" : r.trend < 0 ? "▼" : "•"
    entry.change.textContent = r.change
    entry.row.dataset.trend = r.trend > 0 ? "up" : r.trend < 0 ? "down" : "flat"
    entry.volume.textContent = r.volume
    entry.time.textContent = fmtTime(r.ts)
    entry.note.textContent = r.note || ""
    entry.row.classList.toggle("photon-unavailable", Boolean(r.note))
    entry.row.title = r.note || `High ${r.high} · Low ${r.low}`
  }

  function makeEntry(r) {
    const row = document.createElement("div")
    row.className = "photon-row"
    row.dataset.symbol = r.symbol
    if (!model.compact) {  // click or Enter: a live chart of this ticker
      row.tabIndex = 0
      row.setAttribute("role", "button")
      row.setAttribute("aria-label", `${r.symbol}: open a live chart`)
      const open = () => model.send_msg({type: "chart", symbol: r.symbol})
      row.addEventListener("click", open)
      row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") open() })
    }
    const price = cell("px photon-price", "")
    const arrow = cell("arrow", "")
    const chg = document.createElement("span")
    chg.className = "chg"
    const change = cell("chg-text", "")
    chg.append(arrow, change)
    const volume = cell("vol", ""), time = cell("time", "")
    const spark = document.createElementNS(SVG, "svg")
    spark.setAttribute("class", "spark photon-sparkline")
    spark.setAttribute("viewBox", "0 0 120 28")
    spark.setAttribute("preserveAspectRatio", "none")
    const line = document.createElementNS(SVG, "polyline")
    spark.append(line)
    const sym = cell("sym", r.symbol)
    const note = cell("photon-note", "")
    sym.append(note)
    row.append(sym, price, chg, volume, time, spark)
    return {row, price, arrow, change, volume, time, note, spark, line, points: [], last: null,
            timer: null}
  }

  function build() {
    for (const t of timers) clearTimeout(t)
    timers.clear()
    entries.clear()
    body.replaceChildren()
    const rows = JSON.parse(model.snapshot || "[]")
    for (const r of rows) {
      const entry = makeEntry(r)
      update(entry, r)
      entry.points = (r.points || []).slice(-model.max_points)
      drawSpark(entry)
      entries.set(r.symbol, entry)
      body.append(entry.row)
    }
    empty.style.display = rows.length ? "none" : ""
  }

  const meter = new DelayMeter()
  let every = 0
  function apply(delta) {
    if (!delta || !delta.rows) return
    const trades = []
    for (const r of delta.rows) {
      const entry = entries.get(r.symbol)
      if (!entry) continue
      if (r.ts && r.ts !== entry.ts) trades.push(r.ts)  // a new trade, not just a note
      entry.ts = r.ts
      update(entry, r)
    }
    if (delta.every && delta.every !== every) {  // the server's cadence, for the status line
      every = delta.every
      window.photonCadenceMs = every  // for a status line rendered after this
      window.dispatchEvent(new CustomEvent("photon-cadence", {detail: every}))
    }
    if (delta.at) {
      const ms = meter.observe(Date.now(), delta.at, trades)
      // The status line shows it (status.js); several boards on a page: the latest wins.
      if (ms != null) window.dispatchEvent(new CustomEvent("photon-delay", {detail: ms}))
    }
    const points = delta.points || {}
    for (const r of delta.rows) {
      if (r.points) points[r.symbol] = r.points  // the fast lane sends them inline
    }
    for (const [sym, pts] of Object.entries(points)) {
      const entry = entries.get(sym)
      if (!entry || !pts.length) continue
      entry.points.push(...pts)
      if (entry.points.length > model.max_points) {
        entry.points.splice(0, entry.points.length - model.max_points)
      }
      drawSpark(entry)
    }
  }

  const markStale = () => {
    board.classList.toggle("photon-stale", Boolean(model.stale_note))
    staleNote.textContent = model.stale_note
  }
  markStale()
  model.on("stale_note", markStale)
  const showMessage = () => {
    notice.textContent = model.compact ? "" : model.message
    notice.hidden = !notice.textContent
  }
  showMessage()
  model.on("message", showMessage)
  // The fast lane: the same deltas over a plain WebSocket. If it cannot be used
  // (no route, a proxy in the way), say so once and Python falls back to Bokeh.
  let socket = null, opened = false, retries = 0, closing = false
  function connectFast() {
    if (!model.fast_url || closing) return
    const url = new URL(model.fast_url, window.location.href)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    socket = new WebSocket(url)
    socket.onopen = () => { opened = true; retries = 0 }
    socket.onmessage = (ev) => apply(JSON.parse(ev.data))
    socket.onclose = () => {
      socket = null
      if (closing) return
      if (!opened || retries >= 5) { model.send_msg({type: "fast_failed"}); return }
      retries += 1
      setTimeout(connectFast, 500 * 2 ** retries)
    }
  }
  function closeFast() {
    closing = true
    if (socket) socket.close()
  }
  model.on("fast_url", () => { closeFast(); closing = false; opened = false; connectFast() })
  connectFast()

  model.on("snapshot", build)
  model.on("msg:custom", (delta) => apply(JSON.parse(delta)))
  model.on("remove", () => { closeFast(); for (const t of timers) clearTimeout(t) })
  build()
  // A view rendered later than its model (a notebook re-display) asks for fresh state.
  model.send_msg({type: "snapshot"})
}
