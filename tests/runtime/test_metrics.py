"""Prometheus metrics (app.runtime.metrics): counters, scrape-time gauges, exposition, /metrics."""

from __future__ import annotations

import gc
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application

from app.hub.hub import Hub
from app.runtime import metrics as metrics_module
from app.runtime.metrics import PUSH_BUCKETS, Metrics, MetricsHandler, Snapshot, snapshot_from_hub
from app.ticks import FeedState


def samples(body: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from Prometheus text exposition."""
    text = body.decode() if isinstance(body, bytes) else body
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(body: bytes | str, name: str, **labels: str) -> float | None:
    return samples(body).get((name, tuple(sorted(labels.items()))))


def families(body: bytes) -> dict[str, str]:
    """{family name: type}."""
    return {f.name: f.type for f in text_string_to_metric_families(body.decode())}


@pytest.fixture
def m():
    return Metrics()


# -- event counters -------------------------------------------------------------
def test_counters_start_at_zero(m):
    body, content_type = m.render()
    assert content_type.startswith("text/plain")
    assert value(body, "photon_ticks_received_total") == 0
    assert value(body, "photon_ticks_pushed_total") == 0
    assert value(body, "photon_reconnects_total") == 0
    assert value(body, "photon_fanout_seconds_count") == 0
    assert value(body, "photon_session_push_seconds_count") == 0
    kinds = families(body)
    assert kinds["photon_ticks_received"] == "counter"
    assert kinds["photon_fanout_seconds"] == "histogram"
    assert kinds["photon_session_push_seconds"] == "histogram"
    assert "photon_push_cycle_seconds" not in kinds


def test_counters_count(m):
    m.observe_ticks(5)
    m.observe_ticks(7)
    m.observe_ticks(0)  # ignored, never raises
    m.observe_reconnect()
    m.observe_reconnect(2)
    m.observe_fanout(0.002, 3)
    m.observe_fanout(0.0004, 0)
    m.observe_session_push(0.3, 10)
    body, _ = m.render()
    assert value(body, "photon_ticks_received_total") == 12
    assert value(body, "photon_reconnects_total") == 3
    assert value(body, "photon_ticks_pushed_total") == 13


def test_fanout_and_session_pushes_are_timed_apart(m):
    """A whole-process fan-out and one session's push are different costs."""
    m.observe_fanout(0.002, 3)
    m.observe_fanout(0.0004, 0)
    m.observe_session_push(0.3, 10)
    body, _ = m.render()
    assert value(body, "photon_fanout_seconds_count") == 2
    assert value(body, "photon_fanout_seconds_sum") == pytest.approx(0.0024)
    assert value(body, "photon_session_push_seconds_count") == 1
    assert value(body, "photon_session_push_seconds_sum") == pytest.approx(0.3)


def test_push_histogram_buckets_resolve_milliseconds(m):
    m.observe_fanout(0.0003, 1)  # 0.3 ms
    m.observe_fanout(0.004, 1)  # 4 ms
    m.observe_fanout(0.04, 1)  # 40 ms
    m.observe_fanout(5.0, 1)  # way behind
    body, _ = m.render()

    def le(bound: str) -> float | None:
        return value(body, "photon_fanout_seconds_bucket", le=bound)

    assert le("0.00025") == 0
    assert le("0.0005") == 1
    assert le("0.0025") == 1
    assert le("0.005") == 2
    assert le("0.025") == 2
    assert le("0.05") == 3
    assert le("2.5") == 3
    assert le("+Inf") == 4
    assert min(PUSH_BUCKETS) <= 0.0001 and max(PUSH_BUCKETS) >= 1.0
    assert list(PUSH_BUCKETS) == sorted(PUSH_BUCKETS)


def test_registries_are_separate():
    a, b = Metrics(), Metrics()
    a.observe_ticks(3)
    assert value(a.render()[0], "photon_ticks_received_total") == 3
    assert value(b.render()[0], "photon_ticks_received_total") == 0
    # Nothing lands on prometheus_client's global registry.
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("photon_ticks_received_total") is None


# -- scrape-time state ----------------------------------------------------------
def test_no_source_means_no_state_gauges(m):
    body, _ = m.render()
    names = families(body)
    for name in ("photon_sessions", "photon_subscribed_symbols", "photon_feed_state"):
        assert name not in names


def test_state_gauges_are_read_at_scrape_time(m):
    state = {"snap": Snapshot(2, 5, FeedState.LIVE, 0.5)}
    calls = []

    def source():
        calls.append(1)
        return state["snap"]

    m.set_source(source)
    assert calls == []  # registering read nothing
    body, _ = m.render()
    assert len(calls) == 1
    assert value(body, "photon_sessions") == 2
    assert value(body, "photon_subscribed_symbols") == 5
    assert value(body, "photon_last_tick_age_seconds") == 0.5
    assert families(body)["photon_feed_state"] == "gauge"
    assert value(body, "photon_feed_state", state="live") == 1
    for s in FeedState:
        if s is not FeedState.LIVE:
            assert value(body, "photon_feed_state", state=s.value) == 0

    state["snap"] = Snapshot(0, 0, FeedState.MARKET_CLOSED)
    body, _ = m.render()
    assert value(body, "photon_sessions") == 0
    assert value(body, "photon_feed_state", state="market_closed") == 1
    assert value(body, "photon_feed_state", state="live") == 0
    assert sum(v for (n, _), v in samples(body).items() if n == "photon_feed_state") == 1
    assert "photon_last_tick_age_seconds" not in families(body)  # no tick yet: no sample


def test_unknown_state_string_still_reported(m):
    m.set_source(lambda: Snapshot(1, 1, "warming_up"))
    body, _ = m.render()
    assert value(body, "photon_feed_state", state="warming_up") == 1
    assert value(body, "photon_feed_state", state="live") == 0


def test_a_failing_source_does_not_break_the_scrape(m, caplog):
    def broken():
        raise RuntimeError("boom")

    m.observe_ticks(4)
    m.set_source(broken)
    body, _ = m.render()
    assert value(body, "photon_ticks_received_total") == 4
    assert "photon_sessions" not in families(body)
    assert "hub snapshot failed" in caplog.text


def test_watch_hub_reports_the_hub(m, manual_feed):
    hub = Hub(manual_feed, push_interval_ms=3600000, stale_after_s=3600)
    hub.feed.start(hub._on_ticks)
    try:
        m.watch_hub(hub)
        a = hub.subscribe(["AAPL", "TSLA"])
        b = hub.subscribe(["AAPL"])
        deadline = time.monotonic() + 5
        while manual_feed.state is not FeedState.LIVE and time.monotonic() < deadline:
            time.sleep(0.01)
        body, _ = m.render()
        assert value(body, "photon_sessions") == 2
        assert value(body, "photon_subscribed_symbols") == 2
        assert value(body, "photon_feed_state", state="live") == 1
        a.close()
        b.close()
        body, _ = m.render()
        assert value(body, "photon_sessions") == 0
        assert value(body, "photon_subscribed_symbols") == 0
        assert snapshot_from_hub(hub).feed_state is FeedState.LIVE
    finally:
        hub.stop()
    body, _ = m.render()
    assert value(body, "photon_feed_state", state="stopped") == 1
    m.watch_hub(None)
    assert "photon_sessions" not in families(m.render()[0])


def test_watch_hub_does_not_keep_a_dropped_hub_alive(m, manual_feed):
    hub = Hub(manual_feed)
    m.watch_hub(hub)
    assert value(m.render()[0], "photon_sessions") == 0
    hub.stop()
    del hub
    gc.collect()
    assert "photon_sessions" not in families(m.render()[0])


def test_no_secrets_on_the_page(m, manual_feed):
    secret = "sk_live_SECRET123"
    manual_feed.last_error = f"disconnected: wss://ws.finnhub.io?token={secret}"
    hub = Hub(manual_feed)
    try:
        hub.subscribe(["AAPL"])
        m.watch_hub(hub)
        m.observe_ticks(1)
        body, _ = m.render()
    finally:
        hub.stop()
    text = body.decode()
    assert secret not in text and "token" not in text and "finnhub" not in text
    assert "AAPL" not in text  # symbols are not labels: bounded cardinality
    assert value(body, "photon_subscribed_symbols") == 1


# -- module-level functions ------------------------------------------------------
def test_module_functions_use_the_process_metrics(monkeypatch):
    fresh = Metrics()
    monkeypatch.setattr(metrics_module, "METRICS", fresh)
    metrics_module.observe_ticks(2)
    metrics_module.observe_fanout(0.001, 3)
    metrics_module.observe_session_push(0.001, 1)
    metrics_module.observe_reconnect()
    metrics_module.set_source(lambda: Snapshot(3, 1, FeedState.STALE))
    body, content_type = metrics_module.render_latest()
    assert content_type.startswith("text/plain")
    assert value(body, "photon_ticks_received_total") == 2
    assert value(body, "photon_ticks_pushed_total") == 4
    assert value(body, "photon_fanout_seconds_count") == 1
    assert value(body, "photon_session_push_seconds_count") == 1
    assert value(body, "photon_reconnects_total") == 1
    assert value(body, "photon_sessions") == 3
    assert value(body, "photon_feed_state", state="stale") == 1
    metrics_module.watch_hub(None)
    assert "photon_sessions" not in families(metrics_module.render_latest()[0])


def test_openmetrics_on_request(m):
    m.observe_ticks(1)
    body, content_type = m.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")
    assert b"photon_ticks_received_total 1.0" in body


# -- the Tornado handler ---------------------------------------------------------
class TestMetricsHandler(AsyncHTTPTestCase):
    def get_app(self) -> Application:
        self.metrics = Metrics(source=lambda: Snapshot(4, 2, FeedState.LIVE, 1.25))
        return Application([("/metrics", MetricsHandler, {"metrics": self.metrics}),
                            ("/process-metrics", MetricsHandler, {})])

    def test_get_serves_prometheus_text(self):
        self.metrics.observe_ticks(9)
        self.metrics.observe_fanout(0.003, 2)
        response = self.fetch("/metrics")
        assert response.code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.headers["Cache-Control"] == "no-store"
        body = response.body
        assert value(body, "photon_ticks_received_total") == 9
        assert value(body, "photon_ticks_pushed_total") == 2
        assert value(body, "photon_fanout_seconds_count") == 1
        assert value(body, "photon_sessions") == 4
        assert value(body, "photon_subscribed_symbols") == 2
        assert value(body, "photon_feed_state", state="live") == 1

    def test_each_scrape_is_current(self):
        assert value(self.fetch("/metrics").body, "photon_reconnects_total") == 0
        self.metrics.observe_reconnect()
        assert value(self.fetch("/metrics").body, "photon_reconnects_total") == 1

    def test_accept_openmetrics(self):
        response = self.fetch("/metrics",
                              headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert response.code == 200
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert response.body.rstrip().endswith(b"# EOF")

    def test_without_arguments_serves_the_process_metrics(self):
        response = self.fetch("/process-metrics")
        assert response.code == 200
        assert "photon_ticks_received" in families(response.body)

    def test_post_is_refused(self):
        assert self.fetch("/metrics", method="POST", body=b"").code == 405
