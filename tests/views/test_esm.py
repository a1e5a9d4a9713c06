"""Components share one copy of their module source across sessions."""

from __future__ import annotations

from panel.custom import JSComponent

from app.views.board import BoardView
from app.views.status import StatusView


def test_the_module_source_is_read_once_and_shared():
    first = BoardView._render_esm(True, server=True)
    assert "export function render" in first
    assert BoardView._render_esm(True, server=True) is first  # the same string, not a copy
    assert StatusView._render_esm(True, server=True) is not first  # each its own source
    # what Panel itself renders, unchanged
    assert first == JSComponent._render_esm.__func__(BoardView, True, server=True)


def test_every_model_of_a_board_carries_the_shared_source():
    a, b = BoardView().get_root(), BoardView().get_root()
    assert a.esm is b.esm
