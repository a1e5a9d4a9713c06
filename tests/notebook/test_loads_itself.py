"""The notebook API loads Panel into the notebook itself, and keeps the served cadence."""

from __future__ import annotations

import pytest
from panel.config import panel_extension

from app import notebook


@pytest.fixture
def calls(monkeypatch):
    """pn.extension's calls, as if in a kernel whose page has nothing loaded."""
    got: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(notebook, "in_notebook", lambda: True)
    monkeypatch.setattr(panel_extension, "_loaded", False)
    monkeypatch.setattr(panel_extension, "_loaded_extensions", [])
    monkeypatch.setattr(notebook.pn, "extension", lambda *a, **k: got.append((a, k)))
    return got


def test_first_use_loads_panel_inline_with_tabulator(calls):
    notebook.load_panel()
    assert calls == [(("tabulator",), {"inline": True})]


def test_a_notebook_that_loaded_panel_keeps_its_choice(calls, monkeypatch):
    monkeypatch.setattr(panel_extension, "_loaded", True)
    notebook.load_panel()
    assert calls == [(("tabulator",), {})]  # only what is missing, CDN or inline as chosen
    monkeypatch.setattr(panel_extension, "_loaded_extensions", ["tabulator"])
    calls.clear()
    notebook.load_panel()
    assert calls == []


def test_outside_a_kernel_nothing_is_loaded(monkeypatch):
    monkeypatch.setattr(notebook.pn, "extension", lambda *a, **k: pytest.fail("loaded"))
    assert not notebook.in_notebook()
    notebook.load_panel()


def test_board_cadence_follows_the_setting_or_the_argument(monkeypatch):
    """(The default, 100 ms as served, is tests/notebook/test_api.py's.)"""
    monkeypatch.setenv("PHOTON_PUSH_INTERVAL_MS", "200")
    for given, expected in ((None, 200), (300, 300)):
        b = notebook.board(["AAPL"], feed="mock", push_interval_ms=given)
        try:
            assert b.hub.push_interval_floor_ms == b._callback.period == expected
        finally:
            b.close()
