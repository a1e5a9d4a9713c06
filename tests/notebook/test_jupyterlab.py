"""The README's notebook lines, typed into a real JupyterLab, show the live board.

JupyterLab runs from this interpreter (its ``python3`` kernel too) on a loopback port
without a token, in a temporary root. Chromium opens it, starts a new notebook from
the launcher, and types and runs the README's three lines as a newcomer would, with
nothing loaded before them. Every request off this machine is refused, so it shows
what a notebook without internet access shows (Panel's default loads BokehJS from a
CDN). Then the prices in the output must change, and ``board.frame`` has a row per
symbol; nothing but the board takes room in that output; the chart's candles follow the
trades; the table shows whole times and volumes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import free_port, stop, wait_until

pytestmark = pytest.mark.browser

README_LINES = """import app as photon
board = photon.board(["AAPL", "TSLA"], feed="mock")
board"""

#: The prices shown in the output (Panel renders in shadow roots: walk them).
PRICES_JS = """() => {
  const out = []
  const walk = (root) => {
    root.querySelectorAll(".photon-price").forEach((e) => out.push(e.textContent))
    root.querySelectorAll("*").forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot) })
  }
  walk(document)
  return out
}"""


#: The chart's candles as the page holds them (its ColumnDataSource with OHLC columns):
#: [how many, the last close].
CANDLES_JS = """() => {
  for (const doc of window.Bokeh?.documents || []) {
    for (const m of doc._all_models?.values?.() || []) {
      const d = m.data
      const col = (k) => d instanceof Map ? d.get(k) : d?.[k]
      const o = col("o"), c = col("c")
      if (o && c && typeof c.length === "number") return [c.length, c[c.length - 1]]
    }
  }
  return [0, null]
}"""

#: The "last" column of the live table (Tabulator's cells, in Panel's shadow roots).
TABLE_LAST_JS = PRICES_JS.replace(".photon-price", ".tabulator-cell[tabulator-field='last']")
TABLE_TIME_JS = PRICES_JS.replace(".photon-price", ".tabulator-cell[tabulator-field='time']")
TABLE_VOLUME_JS = PRICES_JS.replace(".photon-price",
                                    ".tabulator-cell[tabulator-field='volume']")

#: Heights of a cell's outputs other than its result: what takes room before the board.
OTHER_OUTPUTS_JS = """(cell) => [...cell.querySelectorAll(".jp-OutputArea-child")]
  .filter((o) => !o.classList.contains("jp-OutputArea-executeResult"))
  .map((o) => o.getBoundingClientRect().height)"""

#: Whether the page's CommManager class got the resync (one entry per class seen).
RESYNCED_JS = """() => {
  const protos = new Set()
  for (const list of window.PyViz?.shared_views?.values() || [])
    for (const m of list) protos.add(Object.getPrototypeOf(m))
  return [...protos].map((p) => p.__photonResync === true)
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    port = free_port()
    log = root.parent / f"jupyterlab-{port}.log"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root.parent / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root.parent / "jupyter-runtime"),
           "PHOTON_MOCK_SEED": "11"}
    env.pop("PHOTON_PUSH_INTERVAL_MS", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.token=",
           "--ServerApp.password=", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI containers
        cmd.append("--allow-root")
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(up, timeout=90, what="JupyterLab start")
        yield base
    finally:
        stop(proc, grace_s=20)


@pytest.fixture
def page(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        refused: list[str] = []

        def offline(route):  # no internet: only this machine answers
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                return route.continue_()
            refused.append(route.request.url)
            return route.abort()

        page.route("**/*", offline)
        page.refused = refused
        page.console_lines = []
        page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: page.console_lines.append(f"pageerror: {e}"))
        yield page
        page.screenshot(path=str(tmp_path / "jupyterlab.png"))
        browser.close()


def kernel_idle(page) -> None:
    """Wait until the notebook's kernel is connected and idle (the status bar says so)."""
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
        timeout=90_000)
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=90_000)


def run_cell(page, code: str) -> None:
    """Type ``code`` into the last cell as a person would, run it, and wait until the
    kernel has taken it (its prompt shows ``[*]`` or a count)."""
    cells = page.locator(".jp-Notebook .jp-Cell")
    cell = cells.nth(cells.count() - 1)  # Shift+Enter adds a cell after it
    cell.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    prompt = cell.locator(".jp-InputPrompt")
    wait_until(lambda: re.search(r"\[(\*|\d+)\]", prompt.inner_text()), timeout=30,
               what="the cell to run")


def numbers(texts: list[str]) -> list[float]:
    return [float(re.sub(r"[^\d.]", "", t)) for t in texts if re.search(r"\d", t)]


#: Run in the kernel when the output shows no prices: is the board's timer running,
#: is the hub publishing, is the comm to the page open?
KERNEL_STATE = (
    'import json, panel as pn; _cb = board._dash._callback; print("KERNEL " + json.dumps({'
    '"hub_cycle": board.hub.cycle, "hub_state": str(board.hub.health().state), '
    '"timer": None if _cb is None else [_cb.running, _cb.counter, _cb.period], '
    '"board_timer": None if board._callback is None else board._callback.counter, '
    '"frame_last": [str(v) for v in board.frame["last"]], '
    '"views": [(type(v[0]).__name__, repr(v[3])) for v in pn.state._views.values()]}, '
    'default=str))')


def diagnosis(page) -> str:
    """What the kernel and the page said, for a failure's message."""
    try:
        cells = page.locator(".jp-Notebook .jp-Cell")
        out = cells.nth(cells.count() - 1).locator(".jp-OutputArea")  # the cell typed into
        run_cell(page, KERNEL_STATE)
        wait_until(lambda: "KERNEL" in out.inner_text() or "Error" in out.inner_text(),
                   timeout=30, what="the kernel's state")
        kernel = out.inner_text()
    except Exception as e:  # noqa: BLE001 - the kernel may be what broke
        kernel = f"kernel state unreadable: {e!r}"
    console = "\n".join(page.console_lines[-40:])
    return f"kernel: {kernel}\nconsole (last 40):\n{console}\nrefused: {page.refused[:10]}"


def test_readme_lines_show_a_live_board_offline(lab, page):
    page.goto(f"{lab}/lab", timeout=60_000)
    card = page.locator('.jp-LauncherCard[data-category="Notebook"]').first
    card.wait_for(timeout=60_000)
    card.click()
    page.locator(".jp-Notebook .jp-Cell .cm-content").first.wait_for(timeout=30_000)
    kernel_idle(page)

    run_cell(page, README_LINES)
    try:
        first = wait_until(lambda: len(numbers(page.evaluate(PRICES_JS))) == 2
                           and numbers(page.evaluate(PRICES_JS)), timeout=90,
                           what="two prices in the notebook output")
        wait_until(lambda: numbers(page.evaluate(PRICES_JS)) != first, timeout=30,
                   what="prices changing in the output")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{diagnosis(page)}") from None
    output = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-OutputArea")
    assert "requires the panel extension" not in output.inner_text()
    # Panel's scripts and the resync script arrive as outputs of this cell: none takes room.
    first_cell = page.locator(".jp-Notebook .jp-Cell").first
    heights = page.evaluate(OTHER_OUTPUTS_JS, first_cell.element_handle())
    assert heights and not any(heights), heights

    run_cell(page, 'import json; print(json.dumps({"rows": len(board.frame), '
                   '"symbols": list(board.frame["symbol"]), '
                   '"priced": int(board.frame["last"].notna().sum()), '
                   '"every_ms": board.hub.push_interval_floor_ms}))')
    text_out = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output")

    def printed():
        text = text_out.first.inner_text() if text_out.count() else ""
        return "{" in text and json.loads(text[text.index("{"):])

    got = wait_until(printed, timeout=60, what="board.frame printed")
    assert got == {"rows": 2, "symbols": ["AAPL", "TSLA"], "priced": 2, "every_ms": 100}

    # The served chart in an output of its own: candles, the current one following the
    # trades; every output's comm reader is the resyncing one (app/views/comm_resync.js,
    # patched on the class).
    run_cell(page, 'board.chart("AAPL")')
    try:
        first = wait_until(lambda: (got := page.evaluate(CANDLES_JS))[0] and got, timeout=60,
                           what="the chart's candles in the page")
        wait_until(lambda: page.evaluate(CANDLES_JS) != first, timeout=30,
                   what="the current candle following the trades")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{diagnosis(page)}") from None
    assert page.evaluate(RESYNCED_JS) == [True]

    # The streaming DataFrame, live: its "last" cells change in the page.
    run_cell(page, "board.table")
    try:
        first = wait_until(lambda: len(n := numbers(page.evaluate(TABLE_LAST_JS))) == 2 and n,
                           timeout=60, what="the table's prices")
        wait_until(lambda: numbers(page.evaluate(TABLE_LAST_JS)) != first, timeout=30,
                   what="the table's prices changing")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{diagnosis(page)}") from None
    # Whole times (not cut to "2026-12-0") and whole volumes with separators (not
    # "20,693.0"), as the page shows them.
    times, volumes = page.evaluate(TABLE_TIME_JS), page.evaluate(TABLE_VOLUME_JS)
    assert len(times) == len(volumes) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times), times
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", v) for v in volumes), volumes
    for cell in page.locator(".tabulator-cell[tabulator-field='time']").all():
        assert cell.evaluate("(e) => e.scrollWidth <= e.clientWidth"), "a time is cut"
