"""Ref counts (app/hub/subscriptions.py): the first and last watcher of a symbol."""

from app.hub.subscriptions import RefCounts


def test_ref_counts_report_first_and_last_watchers_only():
    refs = RefCounts()
    assert refs.acquire(["A", "B"]) == ["A", "B"]
    assert refs.acquire(["A"]) == []
    assert refs.counts() == {"A": 2, "B": 1}
    assert refs.release(["A", "B", "C"]) == ["B"]  # C was never watched: ignored
    assert refs.release(["A"]) == ["A"]
    assert refs.counts() == {} and refs.watched() == []
