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


def test_bundle_path_and_synced_params_are_panels_answers_computed_once():
    from panel.custom import ReactiveESM
    from panel.reactive import Reactive

    for cls in (BoardView, StatusView):
        assert cls._bundle_path == ReactiveESM.__dict__["_bundle_path"].__get__(None, cls)
        one, other = cls(), cls()
        assert one._synced_params == Reactive._synced_params.fget(one)
        assert "snapshot" in BoardView()._synced_params or cls is StatusView
        one._synced_params.append("x")  # a copy each time: the cached list stays as it is
        assert "x" not in other._synced_params
