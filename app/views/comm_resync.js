// In a notebook, Panel's comm sends each Bokeh message in pieces (header, metadata,
// content) and its CommManager drops the pieces that arrive before the page has
// indexed the output (Panel 1.9, panel/models/comm_manager.ts); a message cut that
// way leaves the output's reader out of step, reading every later header as
// content: that output (the board, a live chart, the streaming table) never updates
// again. The fix: a fresh reader at every message header. It goes on CommManager's
// prototype, so every output of the page has it, those shown before and after.
// Served pages have no CommManager: nothing happens there. Pure: run by node in the
// tests (tests/views/test_board_js.py).

// True for the first piece of a Bokeh message as Panel's notebook comm sends it: its
// header, {"msgid": "...", "msgtype": "PATCH-DOC", "num_buffers": 0} (short).
export function isMessageHeader(text) {
  if (typeof text !== "string" || text.length > 400 || !text.includes("msgtype")) return false
  try {
    const o = JSON.parse(text)
    return o !== null && typeof o.msgid === "string" && typeof o.msgtype === "string"
  } catch { return false }
}

// Patch a CommManager's class (its prototype) once: a new reader at each header.
export function patchCommManager(proto) {
  if (!proto || proto.__photonResync || typeof proto.msg_handler !== "function") return false
  const handle = proto.msg_handler
  proto.msg_handler = function (msg) {
    if (this._receiver && isMessageHeader(msg?.content?.data)) {
      this._receiver = new this._receiver.constructor()
    }
    return handle.call(this, msg)
  }
  proto.__photonResync = true
  return true
}

// From a view's document (the board's render): its CommManager root, if any.
export function resyncOnHeaders(doc) {
  const roots = typeof doc?.roots === "function" ? doc.roots() : []
  for (const m of roots) {
    if (typeof m?.msg_handler === "function" && m._receiver) {
      patchCommManager(Object.getPrototypeOf(m))
    }
  }
}

// From the page (the notebook API's own script, before any board renders): Panel's
// outputs register their CommManagers in window.PyViz.shared_views. True once one
// was found and its class patched (or it was already).
export function resyncPyViz(win) {
  const views = win?.PyViz?.shared_views
  if (!views || typeof views.values !== "function") return false
  for (const list of views.values()) {
    for (const m of list || []) {
      if (typeof m?.msg_handler === "function") {
        patchCommManager(Object.getPrototypeOf(m))
        return true
      }
    }
  }
  return false
}
