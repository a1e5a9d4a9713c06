"""Every way of starting Photon reads the same settings: ``photon`` and ``panel serve app``
take ``.env`` from the working directory, and a bad value stops them with one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest

from tests.support import ROOT, RawSession, free_port, photon_server, wait_until

pytestmark = pytest.mark.server


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTON_", "FINNHUB_"))}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_photon_takes_its_settings_from_dotenv(tmp_path):
    (tmp_path / ".env").write_text("PHOTON_PUSH_INTERVAL_MS=777\nPHOTON_SYMBOLS=NVDA\n")
    with photon_server(tmp_path, env={k: "" for k in ("PHOTON_PUSH_INTERVAL_MS",
                                                      "PHOTON_SYMBOLS")}) as server:
        session = RawSession(server.url("/app"))  # no ?symbols=: the default selection
        try:
            health = wait_until(lambda: (h := server.health())["subscriptions"] and h,
                                what="the default subscription")
            assert health["subscriptions"] == {"NVDA": 1}
        finally:
            session.close()
        assert "push_interval=0.777s" in server.output()


def test_panel_serve_app_stops_with_one_line_on_a_bad_dotenv_value(tmp_path):
    (tmp_path / ".env").write_text("PHOTON_PUSH_INTERVAL_MS=-5\n")
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "app"), "--port", str(port),
         "--plugins", "app.routes"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    photon_lines = [line for line in (done.stdout + done.stderr).splitlines()
                    if line.startswith("photon:")]
    assert photon_lines == [
        "photon: PHOTON_PUSH_INTERVAL_MS=-5 is not allowed: must be 20 or more (ms)"]
    assert "Traceback" not in done.stderr


def test_panel_serve_app_reads_dotenv_like_photon(tmp_path):
    (tmp_path / ".env").write_text("PHOTON_SYMBOLS=AMD,NVDA\nPHOTON_PUSH_INTERVAL_MS=333\n")
    port = free_port()
    log = (tmp_path / "panel.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "app"), "--port", str(port),
         "--plugins", "app.routes", "--check-unused-sessions", "250",
         "--unused-session-lifetime", "1000"],
        cwd=tmp_path, env=clean_env(PHOTON_MOCK_SEED="3"), stdout=log,
        stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"

        def health():
            import urllib.request
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    return json.loads(r.read())
            except OSError:
                assert proc.poll() is None, (tmp_path / "panel.log").read_text()
                return None

        wait_until(health, timeout=60, what="panel serve up")
        session = RawSession(base + "/app")
        try:
            subs = wait_until(lambda: (h := health()) and h["subscriptions"],
                              what="the default subscription")
            assert subs == {"AMD": 1, "NVDA": 1}
        finally:
            session.close()
        assert "push_interval=0.333s" in (tmp_path / "panel.log").read_text()
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_health_reports_the_cadence_and_its_bounds(tmp_path):
    env = {"PHOTON_PUSH_INTERVAL_MS": "150", "PHOTON_MAX_PUSH_INTERVAL_MS": "900"}
    with photon_server(tmp_path, env=env) as server:
        health = server.health()
        assert (health["push_interval_min_ms"], health["push_interval_max_ms"]) == (150, 900)
        assert 150 <= health["push_interval_ms"] <= 900
        assert health["cadence_load"] >= 0
        # both lanes run and hold nothing yet: counted as 0, not left out as null
        assert (health["fast_lane_sockets"], health["bokeh_lane_sessions"]) == (0, 0)
        with urllib.request.urlopen(server.url("/metrics"), timeout=5) as r:
            body = r.read().decode()
        assert re.search(r"^photon_push_interval_seconds 0\.\d+", body, flags=re.M)
