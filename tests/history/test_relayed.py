"""History with a relay: the relay writes (and backfills), servers never do, and a server
on another host (another file) shows the relay's bars through Redis."""

from __future__ import annotations

import threading

import pytest

from app.config import load_settings
from app.feeds.mock import MockFeed
from app.feeds.redis_feed import RedisFeed
from app.history.relayed import relay_feed
from app.history.service import open_history
from app.hub.hub import Hub
from app.relay.publisher import Relay
from tests.redisd import redis_server
from tests.support import bars_by_now, wait_until

pytestmark = pytest.mark.server


def test_the_relay_is_the_one_writer_and_remote_servers_read_its_bars(tmp_path):
    with redis_server(tmp_path) as redisd:
        env = {"PHOTON_REDIS_URL": redisd.url, "PHOTON_HISTORY": str(tmp_path / "relay.db")}
        relay_settings = load_settings(env, env_file=tmp_path / "none")
        make_feed, relay_history = relay_feed(relay_settings, lambda: MockFeed(seed=1))
        relay = Relay(make_feed, redisd.url)
        thread = threading.Thread(target=relay.run, daemon=True)
        thread.start()
        # A server on "another host": its own (absent) file, the same Redis.
        server_settings = load_settings({**env, "PHOTON_HISTORY": str(tmp_path / "srv.db")},
                                        env_file=tmp_path / "none")
        hub = Hub(RedisFeed(redisd.url, proc_id="p1"), push_interval_ms=100).start()
        server_history = open_history(server_settings, hub.feed).attach(hub)
        try:
            assert server_history.role == "reader" and server_history.backfill is None
            sub = hub.subscribe(["AAPL"])
            wait_until(lambda: relay_history.writer is not None
                       and relay_history.writer.trades_written > 0, timeout=20,
                       what="the relay writing trades")
            # The relay backfilled the mock's session, and its bars reach the server.
            start, end = relay_history.backfill.window("AAPL")

            def same_session():
                there = server_history.bars("AAPL", "1m", start, end)
                return (len(there) >= bars_by_now("AAPL", 60)
                        and there == relay_history.bars("AAPL", "1m", start, end))
            wait_until(same_session, timeout=20, what="the relay's bars through Redis")
            assert not (tmp_path / "srv.db").exists()  # the server wrote nothing
            assert len(server_history.bars("AAPL", "1h")) >= max(1, bars_by_now("AAPL", 360) // 60)
            sub.close()
        finally:
            server_history.close()
            hub.stop()
            relay.stop()
            thread.join(10)
            relay_history.close()
