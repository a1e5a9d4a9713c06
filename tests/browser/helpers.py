"""Reading the board the way a person sees it, through the stable test hooks."""

from __future__ import annotations

from urllib.parse import parse_qsl

ROWS = ".photon-body [data-symbol]"


def open_board(page, url: str) -> None:
    page.goto(url)
    page.locator(".photon-board").wait_for(timeout=20_000)
    page.wait_for_function("() => window.__deepAll('.photon-board').length > 0")


def board_symbols(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.symbol)")


def prices(page) -> dict[str, str]:
    return dict(page.locator(ROWS).evaluate_all(
        "els => els.map(e => [e.dataset.symbol, e.querySelector('.photon-price').textContent])"))


def message(page) -> str:
    loc = page.locator(".photon-message[role=alert]")
    return loc.inner_text() if loc.count() else ""


def location_query(page) -> dict[str, str]:
    """The page's query as the browser has it now (``location.search``), parsed.

    Not ``page.url``: Playwright's sync API updates that from the 'navigated' event of a
    ``history.pushState``, and delivers events only while a Playwright call runs. A loop
    of ``page.url`` and sleeps can read the URL as it was for as long as it loops.
    """
    return dict(parse_qsl(page.evaluate("() => location.search").lstrip("?")))


def parse_price(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def wait_for_symbols(page, expected: list[str], timeout_ms: int = 10_000) -> None:
    page.wait_for_function(
        "exp => { const got = window.__deepAll('.photon-body [data-symbol]')"
        ".map(e => e.dataset.symbol); return JSON.stringify(got) === JSON.stringify(exp) }",
        arg=expected, timeout=timeout_ms)


def watch_prices(page, seconds: float, every_ms: int = 100) -> dict[str, list[tuple[float, str]]]:
    """Sample each row's price text; returns per symbol the (time s, text) of each change."""
    changes: dict[str, list[tuple[float, str]]] = {}
    last: dict[str, str] = {}
    steps = int(seconds * 1000 / every_ms)
    for i in range(steps):
        now = i * every_ms / 1000
        for sym, text in prices(page).items():
            if last.get(sym) != text:
                changes.setdefault(sym, []).append((now, text))
                last[sym] = text
        page.wait_for_timeout(every_ms)
    return changes


def watch_prices_until(page, enough, timeout: float = 60.0, every_ms: int = 100,
                       what: str = "enough price changes") -> dict[str, list[tuple[float, str]]]:
    """Sample each row's price text until ``enough(changes)`` holds (as watch_prices).

    A wait for a state, not a window: a busy machine makes it take longer, never fail
    short. Fails with what was seen after ``timeout`` seconds.
    """
    import time

    changes: dict[str, list[tuple[float, str]]] = {}
    last: dict[str, str] = {}
    start = time.monotonic()
    while True:
        now = time.monotonic() - start
        for sym, text in prices(page).items():
            if last.get(sym) != text:
                changes.setdefault(sym, []).append((now, text))
                last[sym] = text
        if enough(changes):
            return changes
        if now > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}: {changes}")
        page.wait_for_timeout(every_ms)


#: Records every flash: which class went on, and the price text before and after.
FLASH_RECORDER = """
() => {
  window.__flashes = []
  window.__unflashed = []
  window.__cleared = 0
  const board = window.__deepAll('.photon-board')[0]
  const root = board.getRootNode()
  const seen = new WeakMap()
  const remember = () => root.querySelectorAll('.photon-price')
    .forEach((el) => seen.set(el, el.textContent))
  remember()
  new MutationObserver((muts) => {
    const flashed = new Set()
    for (const m of muts) {
      if (m.type === 'attributes' && m.target.classList.contains('photon-price')) {
        const neutral = !m.target.classList.contains('photon-up')
          && !m.target.classList.contains('photon-down')
        if (neutral && /photon-(up|down)/.test(m.oldValue || '')) window.__cleared += 1
        else flashed.add(m.target)
      }
    }
    for (const el of flashed) {
      const cls = el.classList.contains('photon-up') ? 'up'
        : el.classList.contains('photon-down') ? 'down' : null
      const before = seen.get(el)
      if (cls && before !== undefined && before !== el.textContent) {
        window.__flashes.push({symbol: el.closest('[data-symbol]').dataset.symbol,
                               dir: cls, before, after: el.textContent})
      }
    }
    root.querySelectorAll('.photon-price').forEach((el) => {
      const before = seen.get(el)
      if (!flashed.has(el) && before !== undefined && before !== '—'
          && before !== el.textContent) {
        window.__unflashed.push({before, after: el.textContent})
      }
    })
    remember()
  }).observe(root, {subtree: true, childList: true, characterData: true,
                    attributes: true, attributeFilter: ['class'], attributeOldValue: true})
}
"""
