// Photon's sparkline embed (/sparkline, /sparkline.js): one symbol's price, change
// against the previous close and sparkline, kept live over /photon/spark. No BokehJS:
// the server sends this with the row already drawn, and spark.js's functions before it.
// Test hooks (stable): [data-symbol], .photon-price, .photon-up / .photon-down while a
// flash lasts, .photon-sparkline polyline, [data-state] (the feed's state as the server
// says it, or "disconnected" while this page has lost the server).

const FLASH_MS = 600
// Waits before reconnecting, ms: quick at first, then every 30 s at most.
const RETRY_MS = [500, 1000, 2000, 5000, 10000, 30000]

// Where the embed goes: after the element `cfg.element`, or after the <script> running
// this; in a shadow root, so the page's styles and the embed's stay apart.
function embedRoot(cfg) {
  const script = document.currentScript
  const anchor = cfg.element ? document.getElementById(cfg.element) : script
  if (!anchor || !anchor.parentNode) {  // e.g. loaded as a module: no current script
    console.warn("Photon: load sparkline.js with a classic script tag, not as a module")
    return null
  }
  const host = document.createElement("span")
  host.className = "photon-embed"
  anchor.parentNode.insertBefore(host, anchor.nextSibling)
  const root = host.attachShadow({mode: "open"})
  root.innerHTML = cfg.html  // drawn and escaped by the server (app/embed/pages.py)
  return root
}

// A socket message as an object; anything malformed: null (dropped).
function parseMessage(text) {
  try {
    const m = JSON.parse(text)
    return m && typeof m === "object" ? m : null
  } catch (e) {
    return null
  }
}

function photonSparkline(root, cfg) {
  const base = cfg.base || (root ? window.location.href : document.currentScript?.src)
  root = root || embedRoot(cfg)
  if (!root) return
  const box = root.querySelector(".photon-spark")
  const find = (sel) => box.querySelector(sel)
  const entry = {price: find(".photon-price"), arrow: find(".arrow"), change: find(".chg-text"),
                 note: find(".photon-stale-note"), spark: find(".photon-sparkline"),
                 line: find(".photon-sparkline polyline"), points: [], last: cfg.last,
                 pct: null, timer: null}

  function flash(cls) {
    const px = entry.price
    px.classList.remove("photon-up", "photon-down")
    void px.offsetWidth  // restart the CSS animation
    px.classList.add(cls)
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => px.classList.remove(cls), FLASH_MS)
  }

  function show(r) {
    if (entry.last != null && r.last != null && r.last !== entry.last) {
      flash(r.last > entry.last ? "photon-up" : "photon-down")
    }
    entry.last = r.last
    // colours the line as the change (spark.js); "—": no previous close, the line's own
    entry.pct = /\d/.test(r.change || "") ? r.trend : null
    entry.price.textContent = r.price
    entry.arrow.textContent = r.trend > 0 ? "▲" : r.trend < 0 ? "▼" : "•"
    entry.change.textContent = r.change || ""
    box.dataset.trend = r.trend > 0 ? "up" : r.trend < 0 ? "down" : "flat"
    box.title = r.high ? `High ${r.high} · Low ${r.low}` : ""
    rowNote = r.note || ""  // e.g. the provider does not carry this symbol
    showNote()
  }

  function addPoints(points) {
    const lastT = entry.points.length ? entry.points[entry.points.length - 1][0] : -Infinity
    const fresh = (points || []).filter((p) => p[0] > lastT)  // a snapshot may overlap
    if (!fresh.length) return
    entry.points.push(...fresh)
    if (entry.points.length > cfg.points) entry.points = compactPoints(entry.points, cfg.points)
    drawSpark(entry)
  }

  // What is said over the prices: the feed's state first, else the row's own note.
  let stateNote = "", rowNote = ""
  function showNote() {
    const text = stateNote || rowNote
    if (entry.note.textContent !== text) entry.note.textContent = text
    box.classList.toggle("photon-stale", Boolean(text))
  }

  function setState(state, note) {
    box.dataset.state = state
    stateNote = note || ""
    showNote()
  }

  function receive(m) {
    if (m.snapshot) {  // the whole row, first on every connection
      show(m.snapshot)
      entry.points = []
      addPoints(m.snapshot.points)
    }
    for (const r of Array.isArray(m.rows) ? m.rows : []) {
      if (r.symbol !== cfg.symbol) continue
      show(r)
      if (r.reset) entry.points = []  // the whole line again: older points came in late
      addPoints(r.points)
    }
    if (typeof m.state === "string") setState(m.state, m.note)
  }

  let tries = 0
  function connect() {
    const url = new URL(cfg.socket, base)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    const socket = new WebSocket(url)
    socket.onopen = () => {
      tries = 0
      console.log(`Photon ${cfg.symbol}: WebSocket Connected`)
    }
    socket.onmessage = (ev) => { const m = parseMessage(ev.data); if (m) receive(m) }
    socket.onclose = (ev) => {
      if (ev.code === 4004) { setState("unknown", "Unknown symbol"); return }
      setState("disconnected", "Disconnected: showing the last prices; reconnecting…")
      setTimeout(connect, RETRY_MS[Math.min(tries++, RETRY_MS.length - 1)])
    }
  }
  connect()
}
