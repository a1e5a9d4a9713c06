"""GC pause timing (app.runtime.gcwatch): every collection is measured; long ones are logged."""

from __future__ import annotations

import gc
import logging

from app.runtime import gcwatch, metrics


def full_collections() -> float:
    return metrics.METRICS.registry.get_sample_value(
        "photon_gc_pause_seconds_count", {"generation": "2"}) or 0.0


def test_full_collections_are_timed_and_long_ones_logged(monkeypatch, caplog):
    monkeypatch.setattr(gcwatch, "LOG_AFTER_S", 0.0)  # log every pause here
    before = full_collections()
    gcwatch.install()
    gcwatch.install()  # idempotent: one hook, one observation per collection
    try:
        with caplog.at_level(logging.INFO, logger="app.runtime.gcwatch"):
            gc.collect(2)
    finally:
        gcwatch.uninstall()
    assert full_collections() == before + 1
    assert any(r.getMessage().startswith("gc_pause generation=2 ms=") for r in caplog.records)
    gc.collect(2)  # uninstalled: not timed any more
    assert full_collections() == before + 1
