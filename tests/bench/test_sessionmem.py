"""bench.sessionmem's arithmetic: growth between two reports of /bench/mem, per session."""

from __future__ import annotations

from bench.sessionmem import malloc_mb, per_session, rss_mb


def _report(rss, snapshot, html, cache, in_use, free, blocks):
    return {"rss_mb": rss, "pymalloc_blocks": blocks,
            "held": {"snapshot_kib": snapshot, "page_html_kib": html, "spark_cache_kib": cache},
            "malloc": {"in_use": in_use, "free_kept": free, "mmapped": 0.0}}


def test_per_session_divides_each_growth_by_the_sessions_added():
    a = _report(100.0, 10.0, 1.0, 5.0, 20.0, 4.0, 1000)
    b = _report(160.0, 410.0, 3.0, 5.0, 22.0, 5.0, 301000)
    text = per_session(a, b, 200)
    assert "RSS 0.300 MiB" in text
    assert "snapshots held 2.0 KiB" in text
    assert "first-paint HTML held 0.0 KiB" in text
    assert "drawn-line cache 0.0 KiB" in text
    assert "malloc in use 10.2 KiB, free but kept 5.1 KiB" in text  # MiB -> KiB
    assert "Python blocks 1500" in text


def test_the_readings_of_this_process():
    assert rss_mb() > 1
    heap = malloc_mb()  # {} where the C library has no mallinfo2
    assert not heap or heap["in_use"] > 0
