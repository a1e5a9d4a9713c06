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

// How often rows re-sort while prices move: often enough to follow, rarely enough to read.
const RESORT_MS = 1000

export function render({ model, el, view }) {
  const board = document.createElement("div")
  board.className = "photon-board"
  const table = document.createElement("div")
  table.className = "photon-table"
  table.setAttribute("role", "table")
  table.setAttribute("aria-label", "Tickers")
  const {header, heads: sortHeads} = makeHeader(model.compact, (key) => sortBy(key))
  const body = document.createElement("div")
  body.className = "photon-body"
  body.setAttribute("role", "rowgroup")
  table.append(header, body)
  const empty = cell("photon-empty", "No tickers selected: pick some above.")
  const staleNote = cell("photon-stale-note", "")
  const notice = cell("photon-message", "")  // e.g. refused input; plain text
  notice.setAttribute("role", "alert")
  const fired = makeFiredList()
  const editor = makeAlertEditor({
    onChange: (text) => model.send_msg({type: "alerts", text}),
    onClose: (symbol) => { const e = entries.get(symbol); if (e) focusRow(e) },
  })
  const help = makeHelp()
  board.append(notice, fired.el, staleNote, editor.el, table, empty, help)
  if (model.page_heading) {  // the board is a page by itself: its main content, named
    el.append(h("main", {}, h("h1", {class: "photon-sr"}, model.page_heading), board))
  } else {
    el.append(board)
  }
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
    entry.pct = parsePct(r.change)
    entry.vol = parseVolume(r.volume)
    entry.price.textContent = r.price
    entry.arrow.textContent = r.trend > 0 ? "▲" : r.trend < 0 ? "▼" : "•"
    entry.change.textContent = r.change
    entry.row.dataset.trend = r.trend > 0 ? "up" : r.trend < 0 ? "down" : "flat"
    entry.volume.textContent = r.volume
    entry.time.textContent = fmtTime(r.ts)
    entry.note.textContent = r.note || ""
    // The market's phase when not its regular session: "pre-market", "after hours"...
    entry.session.textContent = r.session || ""
    if (r.session) entry.row.dataset.session = r.session
    else delete entry.row.dataset.session
    entry.row.classList.toggle("photon-unavailable", Boolean(r.note))
    entry.row.title = r.note || `High ${r.high} · Low ${r.low}`
    checkAlerts(entry)
  }

  function makeEntry(r) {
    const row = document.createElement("div")
    row.className = "photon-row"
    row.dataset.symbol = r.symbol
    row.setAttribute("role", "row")
    const price = cell("px photon-price", "")
    const arrow = cell("arrow", "")
    arrow.setAttribute("aria-hidden", "true")
    const chg = document.createElement("span")
    chg.className = "chg"
    const change = cell("chg-text", "")
    chg.append(arrow, change)
    const volume = cell("vol", ""), time = cell("time", "")
    const spark = document.createElementNS(SVG, "svg")
    spark.setAttribute("class", "spark photon-sparkline")
    spark.setAttribute("viewBox", "0 0 120 28")
    spark.setAttribute("preserveAspectRatio", "none")
    spark.setAttribute("aria-hidden", "true")
    const trend = cell("trend", "")
    trend.append(spark)
    const line = document.createElementNS(SVG, "polyline")
    spark.append(line)
    const sym = cell("sym", r.symbol)
    sym.setAttribute("role", "rowheader")
    const note = cell("photon-note", "")
    const session = cell("photon-session", "")
    sym.append(note, session)
    const cells = [sym, price, chg, volume, time, trend]
    const entry = {symbol: r.symbol, row, price, arrow, change, volume, time, note, session,
                   spark, line,
                   points: [], last: null, pct: null, vol: null, timer: null, bell: null}
    if (!model.compact) {  // click or Enter: a live chart of this ticker
      row.tabIndex = -1  // one row at a time is in the tab order (focusRow)
      row.addEventListener("click", (ev) => {
        if (!ev.target.closest("button")) openChart(entry)
      })
      entry.bell = h("button", {type: "button", class: "photon-bell"}, bellIcon(),
                     h("span", {class: "photon-sr"}, `Alerts for ${r.symbol}`),
                     h("span", {class: "photon-bell-count"}))
      entry.bell.addEventListener("click", () => editor.open(entry.symbol, entry.last))
      cells.push(h("span", {class: "photon-alert-cell"}, entry.bell))
    }
    for (const c of cells.slice(1)) c.setAttribute("role", "cell")
    row.append(...cells)
    return entry
  }

  // -- rows: order, focus, keyboard -------------------------------------------
  let sort = parseSort(model.sort)
  let order = []  // symbols in the server's (picker's) order
  let resortDue = false, pointerOnRows = false
  body.addEventListener("pointerenter", () => { pointerOnRows = true })
  body.addEventListener("pointerleave", () => { pointerOnRows = false })

  function applySort() {
    resortDue = false
    const want = orderRows(order.map((s) => entries.get(s)).filter(Boolean), sort)
    const have = [...body.children]
    if (want.every((e, i) => have[i] === e.row)) return
    const active = el.getRootNode().activeElement
    for (const e of want) {  // moveBefore keeps focus where the browser has it
      if (body.moveBefore) body.moveBefore(e.row, null)
      else body.append(e.row)
    }
    if (active && body.contains(active) && el.getRootNode().activeElement !== active) {
      active.focus({preventScroll: true})
    }
  }

  function sortBy(key) {
    sort = sort.key === key ? {key, dir: -sort.dir} : {key, dir: 1}
    paintSortHeads(sortHeads, sort)
    applySort()
    model.sort = sortText(sort)  // Python keeps it in the URL (?sort=)
  }

  const resortTimer = setInterval(() => {
    if (resortDue && !pointerOnRows) applySort()  // never jump rows under the pointer
  }, RESORT_MS)

  function rowEntries() {
    return [...body.children].map((r) => entries.get(r.dataset.symbol)).filter(Boolean)
  }

  function focusRow(entry) {
    if (!entry) return
    for (const e of entries.values()) e.row.tabIndex = e === entry ? 0 : -1
    entry.row.focus()
  }

  function focusedEntry() {
    const active = el.getRootNode().activeElement
    const row = active && body.contains(active) ? active.closest("[data-symbol]") : null
    return row ? entries.get(row.dataset.symbol) : null
  }

  function moveFocus(step) {
    const rows = rowEntries()
    if (!rows.length) return
    const at = rows.indexOf(focusedEntry())
    const next = at < 0 ? (step > 0 ? 0 : rows.length - 1)
      : Math.min(rows.length - 1, Math.max(0, at + step))
    focusRow(rows[next])
  }

  function openChart(entry) { model.send_msg({type: "chart", symbol: entry.symbol}) }

  let refocusAt = null  // after Delete: focus the row that took the removed one's place
  function removeRow(entry) {
    refocusAt = rowEntries().indexOf(entry)
    model.send_msg({type: "remove", symbol: entry.symbol})
  }

  // Keys on a row (also in a notebook); handled keys go no further (e.g. to Jupyter).
  function onBoardKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return
    const target = ev.composedPath()[0]
    if (isTextField(target) || help.open) return
    const onRow = target?.dataset?.symbol && body.contains(target)
    const entry = onRow ? entries.get(target.dataset.symbol) : null
    let done = true
    if (ev.key === "j" || ev.key === "ArrowDown") moveFocus(1)
    else if (ev.key === "k" || ev.key === "ArrowUp") moveFocus(-1)
    else if (ev.key === "Enter" && entry) openChart(entry)
    else if ((ev.key === "Delete" || ev.key === "Backspace") && entry) removeRow(entry)
    else if (ev.key === "a" && entry) editor.open(entry.symbol, entry.last)
    else if (ev.key === "Escape" && entry) model.send_msg({type: "close_chart"})
    else done = false
    if (done) { ev.preventDefault(); ev.stopPropagation() }
  }

  // Page-wide keys (a page of its own: model.shortcuts).
  function onPageKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return
    const target = ev.composedPath()[0]
    if (ev.key === "Escape" && target?.classList?.contains("choices__input")) {
      target.blur()  // leave the search, back to the rows
      focusRow(focusedEntry() || rowEntries()[0])
      return
    }
    if (isTextField(target) || help.open) return
    let done = true
    if (ev.key === "/") { const input = pickerInput(); if (input) input.focus(); else done = false }
    else if (ev.key === "?") help.showModal()
    else if (ev.key === "j") moveFocus(1)
    else if (ev.key === "k") moveFocus(-1)
    else if (ev.key === "Escape") model.send_msg({type: "close_chart"})
    else done = false
    if (done) ev.preventDefault()
  }

  if (!model.compact) board.addEventListener("keydown", onBoardKey)
  // The page's picker may render after the board: look for it a few times.
  let untidy = null, tries = 0
  const findPicker = () => {
    const input = pickerInput()
    if (input) untidy = tidyPicker(input)
    else if (tries++ < 40) setTimeout(findPicker, 250)
  }
  if (model.shortcuts && !model.compact) findPicker()
  if (model.shortcuts && !model.compact) {
    document.addEventListener("keydown", onPageKey)
    board.append(h("p", {class: "photon-hint"}, "Press ", h("kbd", {}, "?"),
                   " for keyboard shortcuts."))
  }

  // -- alerts -------------------------------------------------------------------
  const book = new AlertBook()

  function notify(text, key) {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return
    try { new Notification("Photon price alert", {body: text, tag: key}) }
    catch (e) { /* some browsers only allow notifications from a service worker */ }
  }

  function checkAlerts(entry) {
    const {fired: now, hit, count} = book.check(entry.symbol, entry.last)
    for (const st of now) {
      const words = alertWords(st.alert, st.base)
      const text = `${entry.symbol} ${words}: last ${entry.price.textContent}`
      fired.add(text, entry.symbol)
      notify(text, st.alert.key)
    }
    entry.row.classList.toggle("photon-alert-hit", hit)
    if (entry.bell) {
      entry.bell.querySelector(".photon-bell-count").textContent = count ? ` ${count}` : ""
      entry.bell.classList.toggle("photon-bell-set", count > 0)
    }
  }

  function setAlerts() {
    let list = []
    try { list = JSON.parse(model.alerts || "[]") } catch (e) { list = [] }
    book.set(list, (symbol) => entries.get(symbol)?.last)
    editor.refresh(list)
    for (const e of entries.values()) checkAlerts(e)
  }

  function build() {
    for (const t of timers) clearTimeout(t)
    timers.clear()
    const hadFocus = focusedEntry()?.symbol
    entries.clear()
    body.replaceChildren()
    const rows = JSON.parse(model.snapshot || "[]")
    order = rows.map((r) => r.symbol)
    for (const r of rows) {
      const entry = makeEntry(r)
      entries.set(r.symbol, entry)
      update(entry, r)
      entry.points = compactPoints(r.points || [], model.max_points)
      drawSpark(entry)
      body.append(entry.row)
    }
    applySort()
    const shown = rowEntries()
    if (shown.length) shown[0].row.tabIndex = 0
    if (hadFocus && entries.has(hadFocus)) focusRow(entries.get(hadFocus))
    else if (refocusAt != null && shown.length) focusRow(shown[Math.min(refocusAt, shown.length - 1)])
    refocusAt = null
    if (editor.symbol && !entries.has(editor.symbol)) editor.close()
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
    if (sort.key && sort.key !== "symbol" && delta.rows.length) resortDue = true
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
    // A symbol's whole line, to draw instead of what is drawn: older points came in
    // under the live ones (a late history backfill; app/hub/quote_book.py).
    const resets = new Set(delta.resets || [])
    for (const r of delta.rows) {
      if (r.points) points[r.symbol] = r.points  // the fast lane sends them inline
      if (r.reset) resets.add(r.symbol)
    }
    for (const [sym, pts] of Object.entries(points)) {
      const entry = entries.get(sym)
      if (!entry || !pts.length) continue
      if (resets.has(sym)) entry.points = []
      entry.points.push(...pts)
      if (entry.points.length > model.max_points) {
        entry.points = compactPoints(entry.points, model.max_points)
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
  // The fast lane (board_ui.js); if it cannot be used, Python falls back to Bokeh.
  let fast = null
  const openFast = () => {
    fast = model.fast_url ? fastLane(model.fast_url, apply,
                                     () => model.send_msg({type: "fast_failed"})) : null
  }
  const closeFast = () => { if (fast) fast.close() }
  model.on("fast_url", () => { closeFast(); openFast() })
  openFast()

  model.on("snapshot", build)
  model.on("alerts", setAlerts)
  model.on("sort", () => {
    sort = parseSort(model.sort)
    paintSortHeads(sortHeads, sort)
    applySort()
  })
  model.on("msg:custom", (delta) => apply(JSON.parse(delta)))
  model.on("remove", () => {
    closeFast()
    for (const t of timers) clearTimeout(t)
    clearInterval(resortTimer)
    document.removeEventListener("keydown", onPageKey)
    if (untidy) untidy()
    tries = Infinity
  })
  paintSortHeads(sortHeads, sort)
  build()
  // The prices the server wrote into the page (app/views/first_paint.py) give way to these.
  requestAnimationFrame(() => document.getElementById("photon-first-paint")?.remove())
  setAlerts()
  resyncOnHeaders(view?.model?.document)  // a notebook's comm (comm_resync.js)
  // A view rendered later than its model (a notebook re-display) asks for fresh state.
  model.send_msg({type: "snapshot"})
}
