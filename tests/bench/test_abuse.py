"""bench.abuse's own arithmetic: the stored days and the GC pauses it reads from a log."""

from __future__ import annotations

import time

from bench.abuse import gc_pauses, store_days


def test_thirty_days_of_minutes_are_stored_up_to_now(tmp_path):
    from app.history.store import BarStore

    path = tmp_path / "h.sqlite3"
    n = store_days(path, "AAPL", days=2)
    assert n == 2 * 1440 - 1
    store = BarStore(path, readonly=True)
    assert store.count("AAPL", 0, 2**40) == n
    assert time.time() - store.latest("AAPL") < 180
    store.close()


def test_gc_pauses_are_read_from_the_servers_log(tmp_path):
    log = tmp_path / "photon.log"
    log.write_text("x INFO app.runtime.gcwatch gc_pause generation=2 ms=560 collected=3\n"
                   "other line\nx gc_pause generation=0 ms=7 collected=1\n")
    assert gc_pauses(log) == [560, 7]
    assert gc_pauses(tmp_path / "missing.log") == []
