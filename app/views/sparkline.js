// Photon embed: one symbol's price, change and live sparkline (app/views/sparkline.py).
// Fed like the board: `rows` (a snapshot), then deltas over the fast lane or Bokeh.
// Test hooks: .photon-embed[data-symbol], .photon-price, polyline[points].
const SVG = "http://www.w3.org/2000/svg"

export function render({ model, el }) {
  const box = document.createElement("div")
  box.className = "photon-embed"
  const sym = document.createElement("span"), price = document.createElement("span")
  const change = document.createElement("span")
  sym.className = "sym"; price.className = "px photon-price"; change.className = "chg"
  const svg = document.createElementNS(SVG, "svg")
  svg.setAttribute("preserveAspectRatio", "none")
  const line = document.createElementNS(SVG, "polyline")
  svg.append(line)
  box.append(sym, price, change, svg)
  el.append(box)
  let points = []

  function size() {
    box.style.width = `${model.width}px`
    box.style.height = `${model.height}px`
  }
  function draw() {
    const n = points.length
    const W = 100, H = 100
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`)
    if (n < 2) { line.setAttribute("points", ""); return }
    let lo = Infinity, hi = -Infinity
    for (const p of points) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]) }
    const span = hi - lo || 1
    line.setAttribute("points", points.map((p, i) =>
      `${(i / (n - 1) * W).toFixed(2)},${(H - 4 - (p[1] - lo) / span * (H - 8)).toFixed(2)}`).join(" "))
    const up = points[n - 1][1] >= points[0][1]
    svg.classList.toggle("photon-spark-up", up)
    svg.classList.toggle("photon-spark-down", !up)
  }
  function show(r) {
    box.dataset.symbol = r.symbol
    sym.textContent = r.symbol
    price.textContent = r.price
    change.textContent = r.change
    box.dataset.trend = r.trend > 0 ? "up" : r.trend < 0 ? "down" : "flat"
    box.title = r.note || `${r.symbol} ${r.price} ${r.change}`
  }
  function add(pts) {
    if (!pts || !pts.length) return
    points.push(...pts)
    if (points.length > model.points) points.splice(0, points.length - model.points)
    draw()
  }
  function build() {
    const r = model.rows[0]
    points = []
    if (r) { show(r); add(r.points || []) } else draw()
  }
  function apply(delta) {
    for (const r of (delta && delta.rows) || []) {
      show(r)
      add(r.points || (delta.points || {})[r.symbol])
    }
  }

  // The fast lane: an absolute URL on the Photon server (this page may be another site's).
  let socket = null, closing = false
  function connectFast() {
    if (!model.fast_url || closing) return
    const url = new URL(model.fast_url, window.location.href)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    socket = new WebSocket(url)
    socket.onmessage = (ev) => apply(JSON.parse(ev.data))
    socket.onclose = () => {
      socket = null
      if (!closing) model.send_msg({type: "fast_failed"})  // Python falls back to Bokeh
    }
  }
  const stale = () => box.classList.toggle("photon-stale", Boolean(model.stale_note))
  model.on(["width", "height"], size)
  model.on("stale_note", stale)
  model.on("rows", build)
  model.on("msg:custom", (delta) => apply(JSON.parse(delta)))
  model.on("fast_url", () => { closing = true; if (socket) socket.close(); closing = false; connectFast() })
  model.on("remove", () => { closing = true; if (socket) socket.close() })
  size(); stale(); build(); connectFast()
  model.send_msg({type: "snapshot"})
}
