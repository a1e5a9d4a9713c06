"""This process's identity (app/runtime/process.py) as the page and /health show it: a
worker forked after import (``panel serve --num-procs``) shows its own, not its parent's,
so a page that reconnects to the other worker knows to reload."""

from __future__ import annotations

import json
import os

from app.hub.hub import Hub
from app.lanes.routes import health_report
from app.runtime import process
from app.views.status import StatusView


def test_a_forked_worker_shows_its_own_id_on_the_page_and_in_health(manual_feed):
    hub = Hub(manual_feed, push_interval_ms=3_600_000)
    parent_id = process.process_id()
    assert StatusView().process == parent_id
    assert health_report(hub)[1]["process"] == parent_id
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report and leave at once, without pytest's cleanup
        try:
            seen = [StatusView().process, health_report(hub)[1]["process"],
                    process.process_id()]
            os.write(write, json.dumps(seen).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        page, health, own = json.loads(f.read())
    os.waitpid(pid, 0)
    assert page == health == own != parent_id
