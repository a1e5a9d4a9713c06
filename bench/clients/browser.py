"""Browser probe: one headless Chromium page measuring tick-to-DOM and pub-to-DOM latency.

Method. The tick time is not in the DOM (the 'Updated' cell shows whole seconds),
so the probe reads it from the data the board just applied. A MutationObserver
watches the board body inside Panel's shadow roots; board.js sets each changed row's
``.photon-price`` with ``textContent`` (a childList mutation even when the text is
the same), synchronously while applying one update. The observer's callback runs as
a microtask right after that, before the next WebSocket message can be processed, so
the update just applied is still at hand:

* an init script wraps ``window.WebSocket`` and adds, before board.js (fast lane) or
  BokehJS (Bokeh path) sets its ``onmessage``, a listener that keeps the rows of the
  latest delta: every ``/photon/ticks`` message, or on Bokeh's ``/ws`` the board's
  ``msg:custom`` delta (an ``esm_event`` in a PATCH-DOC's content frame); a flag
  says whether a delta arrived since the last observer callback;
* older apps that kept the delta as a board property: the board model's ``delta``
  (found among ``window.Bokeh.documents``' models).

For each mutated price we take that symbol's row and record
``Date.now()/1000 - row.ts`` (tick-to-DOM) and, when the update carries its hub
cycle's publication time ``at``, ``Date.now()/1000 - at`` (pub-to-DOM). A
``requestAnimationFrame`` callback records the tick-to-DOM difference again at the next
frame (painted). Browser and server share this machine's clock.
"""

from __future__ import annotations

import asyncio
import time

WRAP_WS_JS = r"""
(() => {
  const Orig = window.WebSocket;
  window.__photonFast = {rows: new Map(), at: null, fresh: false, messages: 0};
  function Wrapped(url, protocols) {
    const ws = protocols === undefined ? new Orig(url) : new Orig(url, protocols);
    const keep = (data) => {
      const rows = new Map();
      for (const r of data.rows || []) rows.set(r.symbol, r.ts);
      window.__photonFast.rows = rows;
      window.__photonFast.at = typeof data.at === "number" ? data.at : null;
      window.__photonFast.fresh = true;
      window.__photonFast.messages++;
    };
    if (String(url).includes("/photon/ticks")) {
      ws.addEventListener("message", (ev) => {
        try { keep(JSON.parse(ev.data)); } catch (e) { /* not ours */ }
      });
    } else if (/\/ws(\?|$)/.test(String(url))) {
      // Bokeh's socket: a board delta is a msg:custom, an 'esm_event' in a PATCH-DOC.
      ws.addEventListener("message", (ev) => {
        if (typeof ev.data !== "string" || !ev.data.includes("esm_event")) return;
        try {
          for (const e of JSON.parse(ev.data).events || []) {
            const d = e.msg_data || {};
            if (d.name !== "esm_event") continue;
            const entries = (d.values && d.values.entries) || [];
            const text = (entries.find(([k]) => k === "data") || [])[1];
            if (typeof text === "string" && text.includes('"rows"')) keep(JSON.parse(text));
          }
        } catch (e) { /* not ours */ }
      });
    }
    return ws;
  }
  Wrapped.prototype = Orig.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Wrapped[k] = Orig[k];
  window.WebSocket = Wrapped;
})();
"""

PROBE_JS = r"""
() => {
  if (window.__photonProbe) return window.__photonProbe.state();
  const dom = [], frame = [];
  let model = null, body = null, observer = null, mutations = 0, unknown = 0;
  function findModel() {
    for (const doc of (window.Bokeh && window.Bokeh.documents) || []) {
      const all = doc._all_models ? [...doc._all_models.values()] : [...(doc.all_models || [])];
      for (const m of all) {
        const props = m.properties || {};
        const board = "snapshot" in props || "rows" in props;  // "rows": older apps
        if (board && "fast_url" in props && "max_points" in props) return m;
      }
    }
    return null;
  }
  function findBody(root) {
    const stack = [root];
    while (stack.length) {
      const node = stack.pop();
      const hit = node.querySelector && node.querySelector(".photon-body");
      if (hit) return hit;
      const kids = node.querySelectorAll ? node.querySelectorAll("*") : [];
      for (const el of kids) if (el.shadowRoot) stack.push(el.shadowRoot);
    }
    return null;
  }
  const get = (o, k) => (o instanceof Map ? o.get(k) : o && o[k]);
  function onMutations(records) {
    const now = Date.now() / 1000;
    const fast = window.__photonFast;
    let ts, at;
    if (fast && fast.fresh) {
      ts = fast.rows;
      at = fast.at;
      fast.fresh = false;
    } else {
      let delta = model && model.delta;
      if (typeof delta === "string") {  // an app that sends the delta as JSON text
        try { delta = delta ? JSON.parse(delta) : null; } catch (e) { delta = null; }
      }
      ts = new Map();
      for (const r of get(delta, "rows") || []) ts.set(get(r, "symbol"), get(r, "ts"));
      at = get(delta, "at");
    }
    const pub = typeof at === "number" && at > 0 ? now - at : null;
    const seen = new Set();
    for (const rec of records) {
      const el = rec.target.nodeType === 1 ? rec.target : rec.target.parentElement;
      const px = el && el.closest && el.closest(".photon-price");
      if (!px || seen.has(px)) continue;
      seen.add(px);
      mutations++;
      const sym = px.parentElement && px.parentElement.dataset.symbol;
      const t = ts.get(sym);
      if (t == null) { unknown++; continue; }
      dom.push([now, t, now - t, pub]);
      requestAnimationFrame(() => { const n = Date.now() / 1000; frame.push([n, t, n - t]); });
    }
  }
  function attach() {
    model = model || findModel();
    const b = findBody(document);
    if (b && b !== body) {
      if (observer) observer.disconnect();
      body = b;
      observer = new MutationObserver(onMutations);
      observer.observe(body, {subtree: true, childList: true, characterData: true});
    }
    // a reference server's page (bench/servers/ref_socketio.py) keeps its rows in __photonFast
    return Boolean(body && (model || window.__photonRefPage));
  }
  window.__photonProbe = {
    attach, dom, frame,
    state: () => ({attached: attach(), rows: body ? body.children.length : 0,
                   mutations, unknown, dom: dom.length, frame: frame.length,
                   deltas: window.__photonFast ? window.__photonFast.messages : 0}),
    take: () => ({dom: dom.splice(0), frame: frame.splice(0)}),
  };
  return window.__photonProbe.state();
}
"""

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class BrowserProbe:
    """Open the dashboard in headless Chromium and collect tick-to-DOM latencies."""

    def __init__(self, url: str, executable: str = "/usr/bin/chromium"):
        self.url = url
        self.executable = executable
        self._pw = self._browser = self.page = None
        self.console_connected = False
        self.state: dict = {}

    async def start(self, timeout: float = 60.0) -> dict:
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(executable_path=self.executable,
                                                       args=LAUNCH_ARGS)
        self.page = await self._browser.new_page()
        await self.page.add_init_script(WRAP_WS_JS)
        self.page.on("console", self._on_console)
        await self.page.goto(self.url, timeout=timeout * 1000)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.state = await self.page.evaluate(PROBE_JS)
            if self.state.get("attached") and self.state.get("rows"):
                return self.state
            await asyncio.sleep(0.25)
        raise RuntimeError(f"browser probe could not find the board: {self.state}")

    def _on_console(self, msg) -> None:
        if "WebSocket Connected" in msg.text:
            self.console_connected = True

    async def collect(self, w0: float, w1: float) -> dict:
        """Latencies (seconds) of updates whose tick time lies in [w0, w1]: tick-to-DOM
        (``dom``), tick-to-next-frame (``frame``) and publication-to-DOM (``pub``, only
        updates that carried ``at``)."""
        self.state = await self.page.evaluate(PROBE_JS)
        got = await self.page.evaluate("() => window.__photonProbe.take()")
        inside = [d for d in got["dom"] if w0 <= d[1] <= w1]
        dom = [d[2] for d in inside]
        pub = [d[3] for d in inside if len(d) > 3 and d[3] is not None]
        frame = [lat for _now, t, lat in got["frame"] if w0 <= t <= w1]
        return {"dom": dom, "frame": frame, "pub": pub, "state": self.state}

    async def stop(self) -> None:
        try:
            if self._browser is not None:
                await self._browser.close()
        finally:
            if self._pw is not None:
                await self._pw.stop()
