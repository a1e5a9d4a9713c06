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


def test_instances_share_parameter_objects_but_not_values_or_watchers():
    a, b = BoardView(), BoardView()
    a.get_root()  # Panel reads every parameter of a component while rendering it
    assert a.param["sort"] is BoardView.param["sort"] is b.param["sort"]  # no copies
    seen = []
    a.param.watch(lambda e: seen.append(e.new), "sort")
    b.sort = "-change"
    a.sort = "volume"
    assert (a.sort, b.sort, seen) == ("volume", "-change", ["volume"])
