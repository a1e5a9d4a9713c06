// Photon status line. Logs "WebSocket Connected" when the session's connection is up
// and shows "disconnected" while the browser has lost the server.

// "every 100 ms", "every 1.5 s": how often the server sends updates now.
export function cadenceText(ms) {
  if (!(ms > 0)) return ""
  if (ms < 1000) return `every ${Math.round(ms)} ms`
  return `every ${(ms / 1000).toFixed(1)} s`.replace(".0 s", " s")
}

export function render({ model, el, view }) {
  const bar = document.createElement("div")
  bar.className = "photon-status"
  // Read out only when the state changes ("live", "stale", "disconnected"), not every
  // second as the tick age and delay move: the bar itself is not a live region.
  const said = document.createElement("span")
  said.className = "photon-sr"
  said.setAttribute("role", "status")
  const dot = document.createElement("span")
  dot.className = "dot"
  const text = document.createElement("span")
  text.className = "photon-status-text"
  const detail = document.createElement("span")
  detail.className = "photon-status-detail"
  bar.append(dot, text, detail)
  // With a title this is the top of a page of its own: its banner landmark, holding the
  // heading and the status line. Without (a notebook) the page around it has landmarks.
  let top = el
  if (model.title) {  // the page's heading (set once, with the page)
    top = document.createElement("header")
    const h1 = document.createElement("h1")
    h1.className = "photon-title"
    h1.textContent = model.title
    if (model.subtitle) {
      const small = document.createElement("small")
      small.textContent = ` ${model.subtitle}`
      h1.append(small)
    }
    top.append(h1)
    el.append(top)
  }
  top.append(bar, said)
  let saidState = null
  function announce(state, words) {
    if (state === saidState) return
    const first = saidState === null
    saidState = state
    if (!first) said.textContent = words  // the first paint is the page, not news
  }

  let connected = true
  const process = model.process
  // Tick-to-screen delay measured by the board (board.js) from the updates it applies.
  let delayMs = null, delayPainted = 0
  const onDelay = (ev) => {
    delayMs = ev.detail
    if (Date.now() - delayPainted > 1000) { delayPainted = Date.now(); paint() }
  }
  window.addEventListener("photon-delay", onDelay)
  // The cadence comes with each update the board applies (board.js), not from the
  // server as a status change: that would be a message to every session each time.
  // Until the first update arrives, the cadence the server had when it built the page.
  let cadence = cadenceText(window.photonCadenceMs || model.cadence_ms)
  const onCadence = (ev) => { cadence = cadenceText(ev.detail); paint() }
  window.addEventListener("photon-cadence", onCadence)

  // Bokeh reconnects into a session of the same id. If the server process was
  // restarted meanwhile, that session is a fresh one whose model ids can clash
  // with the ones this page holds, so start over with a clean page (the URL
  // keeps ?symbols=, so the selection survives).
  async function reloadIfServerRestarted() {
    if (!model.health_url) return
    try {
      const r = await fetch(new URL(model.health_url, window.location.href), {cache: "no-store"})
      const body = await r.json()
      if (body.process && body.process !== process) window.location.reload()
    } catch (e) {
      console.warn("Photon: could not check the server after reconnecting", e)
    }
  }

  function paint() {
    const state = connected ? model.state : "disconnected"
    bar.dataset.state = state
    announce(state, connected ? `Feed ${model.words}` : "Disconnected from server")
    if (!connected) {
      text.textContent = "Disconnected from server · reconnecting…"
      detail.textContent = "Prices shown are the last received."
      return
    }
    // Only live data has a delay worth showing; stale or disconnected says so instead.
    const delay = model.state === "live" && model.measure_delay && delayMs != null
      ? `delay ${delayMs} ms` : ""
    const parts = [`${model.feed} · ${model.words}`, `last tick ${model.age}`, delay,
                   cadence, `${model.symbols} symbol${model.symbols === 1 ? "" : "s"}`]
    text.textContent = parts.filter(Boolean).join(" · ")
    detail.textContent = [model.detail, retryText()].filter(Boolean).join("; ")
  }

  // While the feed waits to reconnect, count down to the attempt the server scheduled.
  let countdown = null
  function retryText() {
    if (!model.retry_at || !["down", "auth_failed"].includes(model.state)) return ""
    const left = Math.ceil(model.retry_at - Date.now() / 1000)
    return left > 0 ? `retrying in ${left} s` : "retrying now…"
  }
  function followRetry() {
    clearInterval(countdown)
    countdown = model.retry_at ? setInterval(paint, 1000) : null
    paint()
  }

  for (const p of ["feed", "state", "words", "age", "symbols", "detail",
                   "measure_delay"]) {
    model.on(p, paint)
  }
  model.on("retry_at", followRetry)
  model.on("remove", () => {
    clearInterval(countdown)
    window.removeEventListener("photon-delay", onDelay)
    window.removeEventListener("photon-cadence", onCadence)
  })
  const doc = view.model.document
  if (doc != null) {
    doc.on_event("connection_lost", () => { connected = false; paint() })
    doc.on_event("client_reconnected", () => {
      connected = true
      console.log("WebSocket Connected")
      paint()
      reloadIfServerRestarted()
    })
  }
  followRetry()
  console.log("WebSocket Connected")
}
