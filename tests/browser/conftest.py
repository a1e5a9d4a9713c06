"""Browser fixtures: one served Photon app, one headless Debian Chromium."""

from __future__ import annotations

import os

import pytest

from tests.support import photon_server

CHROMIUM = os.environ.get("PHOTON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

#: Finds elements through Panel's shadow roots (Playwright locators pierce them too).
DEEP_QUERY = """
window.__deepAll = (sel) => {
  const out = []
  const walk = (root) => {
    root.querySelectorAll(sel).forEach((e) => out.push(e))
    root.querySelectorAll("*").forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot) })
  }
  walk(document)
  return out
}
"""


@pytest.fixture(scope="module")
def browser():
    """Chromium per test module: Playwright's sync API keeps an asyncio loop running
    while it is open, which would break later tests that run their own loop."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"PHOTON_MAX_SYMBOLS": "10"}
    with photon_server(tmp_path_factory.mktemp("browser"), env=env) as s:
        yield s


class Console(list):
    """Console lines and dialogs seen by a page (a dialog means injected script ran)."""

    def __init__(self):
        super().__init__()
        self.dialogs: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    console = Console()
    pg.on("console", lambda m: console.append(m.text))
    pg.on("pageerror", lambda e: console.errors.append(str(e)))

    def on_dialog(d):
        console.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.console = console
    pg.on("framenavigated",
          lambda f: f == pg.main_frame and console.append(f"navigated: {f.url}"))
    pg.add_init_script(DEEP_QUERY)
    yield pg
    context.close()
